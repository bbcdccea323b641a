/**
 * Helpers of the query service's integration tests: event builders, a client that reads the
 * API's JSON as the SDK does (bare NaN/Infinity included), and ingestion that waits until the
 * writer stored what was sent.
 */
import assert from 'node:assert/strict';
import { parseJson, stringifyJson } from '@trackstream/api';
import { MODEL_KEY_PREFIX } from '@trackstream/event-schema';
import { waitFor } from '@trackstream/local-stack';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPipeline, type Pipeline } from '../helpers/pipeline';

export const T0 = Date.UTC(2024, 0, 1);

export const scalar = (task: string, metric: string, variant: string, iter: number, value: number, timestamp = T0 + iter) => ({
  type: 'training_stats_scalar',
  task,
  metric,
  variant,
  iter,
  value,
  timestamp,
});
export const vector = (task: string, metric: string, variant: string, iter: number, values: number[], timestamp = T0 + iter) => ({
  type: 'training_stats_vector',
  task,
  metric,
  variant,
  iter,
  values,
  timestamp,
});
export const image = (task: string, metric: string, variant: string, iter: number, key = 'k', timestamp = T0 + iter) => ({
  type: 'training_debug_image',
  task,
  metric,
  variant,
  iter,
  key,
  url: `s3://bucket/${task}/${metric}/${variant}/${iter}/${key}.png`,
  timestamp,
});
export const plot = (task: string, metric: string, variant: string, iter: number, timestamp = T0 + iter) => ({
  type: 'plot',
  task,
  metric,
  variant,
  iter,
  plot_str: JSON.stringify({ data: [{ x: [iter], y: [1] }], layout: { title: `${metric}/${variant}` } }),
  timestamp,
});
export const log = (task: string, timestamp: number, msg: string, level = 'info', worker = 'w1') => ({ type: 'log', task, timestamp, msg, level, worker });

type Event = Record<string, unknown> & { type: string; task: string };

export interface Reply<T = Record<string, unknown>> {
  status: number;
  code: number;
  subcode: number;
  msg: string;
  data: T;
}

export interface Api {
  call<T = Record<string, unknown>>(endpoint: string, body?: unknown, opts?: { version?: string; headers?: Record<string, string> }): Promise<Reply<T>>;
  /** The HTTP response itself (download_task_log is not enveloped). */
  fetch(endpoint: string, body?: unknown, opts?: { version?: string; headers?: Record<string, string> }): Promise<Response>;
  /** events.add_batch as the SDK sends it (json-lines, NaN/Infinity as bare tokens); asserts all were added. */
  addBatch(events: readonly Event[]): Promise<void>;
  /** addBatch, then waits until every new event identity is stored. */
  ingest(events: readonly Event[]): Promise<void>;
}

const TABLE: Record<string, string> = {
  training_stats_scalar: 'scalars',
  training_stats_vector: 'vectors',
  training_debug_image: 'images',
  plot: 'plots',
  log: 'logs',
};

/** The `task` column value an event is stored under: a model event's (model_event) is its model's key. */
function storedTask(e: Event): string {
  return e['model_event'] === true ? MODEL_KEY_PREFIX + String(e['model'] ?? e.task) : e.task;
}

/** An event's identity: events with the same one are one row (last write wins); logs never merge. */
function identity(e: Event, i: number): string {
  return e.type === 'log' ? `log#${i}` : JSON.stringify([e.type, storedTask(e), e.metric, e.variant, e.iter, e.key]);
}

/** `headers` authenticate every call; `tenant` is theirs (for counting stored rows). */
export function api(p: Pipeline, headers: Record<string, string> = {}, tenant = 'default'): Api {
  const doFetch = (endpoint: string, body: unknown = {}, opts: { version?: string; headers?: Record<string, string> } = {}) =>
    fetch(`${p.url}/${opts.version ? `v${opts.version}/` : ''}${endpoint}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers, ...opts.headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const addBatch = async (events: readonly Event[]): Promise<void> => {
    const res = await fetch(`${p.url}/events.add_batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json-lines', ...headers },
      body: events.map((e) => stringifyJson(e)).join('\n'),
    });
    const json = (await res.json()) as { meta: unknown; data: { added: number; errors: number; errors_info: unknown } };
    assert.equal(res.status, 200, JSON.stringify(json.meta));
    assert.equal(json.data.added, events.length, JSON.stringify(json.data.errors_info));
  };
  return {
    fetch: doFetch,
    addBatch,
    async call<T>(endpoint: string, body?: unknown, opts?: { version?: string; headers?: Record<string, string> }) {
      const res = await doFetch(endpoint, body, opts);
      const json = parseJson(await res.text(), 1000) as { meta: { result_code: number; result_subcode: number; result_msg: string }; data: T };
      assert.equal(json.meta.result_code, res.status);
      return { status: res.status, code: json.meta.result_code, subcode: json.meta.result_subcode, msg: json.meta.result_msg, data: json.data };
    },
    async ingest(events) {
      const byTable = new Map<string, { tasks: Set<string>; ids: Set<string> }>();
      events.forEach((e, i) => {
        const t = TABLE[e.type] as string;
        const entry = byTable.get(t) ?? { tasks: new Set(), ids: new Set() };
        entry.tasks.add(storedTask(e));
        entry.ids.add(identity(e, i));
        byTable.set(t, entry);
      });
      const countSql = (t: string) => `SELECT count() FROM ${t} FINAL WHERE tenant = {tenant:String} AND task IN {tasks:Array(String)}`;
      const before = new Map<string, number>();
      for (const [t, { tasks }] of byTable) before.set(t, await p.count(countSql(t), { tenant, tasks: [...tasks] }));
      for (let i = 0; i < events.length; i += 5000) await addBatch(events.slice(i, i + 5000));
      for (const [t, { tasks, ids }] of byTable) {
        await waitFor(async () => (await p.count(countSql(t), { tenant, tasks: [...tasks] })) >= (before.get(t) ?? 0) + ids.size, {
          timeoutMs: 60_000,
          what: `${ids.size} new rows in ${t}`,
        });
      }
    },
  };
}

/**
 * `client` with a default version per endpoint, for calls that name none: tests written for an
 * endpoint's older version keep reading it now that unversioned calls run the newest handler.
 */
export function pinVersions(client: Api, versions: Readonly<Record<string, string>>): Api {
  const pinned = (endpoint: string, opts: { version?: string; headers?: Record<string, string> } = {}) => ({ ...opts, version: opts.version ?? versions[endpoint] });
  return {
    ...client,
    call: (endpoint, body, opts) => client.call(endpoint, body, pinned(endpoint, opts)),
    fetch: (endpoint, body, opts) => client.fetch(endpoint, body, pinned(endpoint, opts)),
  };
}

/** Asserts a 4xx reply with this code/subcode. */
export function assertError(r: Reply<unknown>, code: number, subcode: number, what = ''): void {
  assert.equal(r.code, code, `${what}: ${r.msg}`);
  assert.equal(r.subcode, subcode, `${what}: ${r.msg}`);
  assert.deepEqual(r.data, {}, what);
}

/** A cursor with its resume state replaced and its signature kept: the signature no longer matches. */
export function tamper(scrollId: string): string {
  const [header = '', payload = '', sig = ''] = scrollId.split('.');
  const json = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  return `${header}.${Buffer.from(JSON.stringify({ ...json, k: null })).toString('base64url')}.${sig}`;
}

/** Mean as the contract defines it (NaN in, NaN out). */
export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** A pipeline with auth on and two tenants, `a` (tenant-a) and `b` (tenant-b), each with its key pair. */
export async function startTenantsPipeline(): Promise<{ p: Pipeline; a: Api; b: Api; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'query-tenants-'));
  const keys = join(dir, 'keys.json');
  await writeFile(
    keys,
    JSON.stringify([
      { access_key: 'KEY_A', secret_key: 'secret-a', tenant: 'tenant-a' },
      { access_key: 'KEY_B', secret_key: 'secret-b', tenant: 'tenant-b' },
    ]),
  );
  const basic = (key: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}` });
  const p = await startPipeline({ env: { AUTH_ENABLED: 'true', AUTH_KEYS_FILE: keys, AUTH_TOKEN_SECRET: 'a-token-secret-for-the-tests' } });
  return {
    p,
    a: api(p, basic('KEY_A', 'secret-a'), 'tenant-a'),
    b: api(p, basic('KEY_B', 'secret-b'), 'tenant-b'),
    async stop() {
      await p.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
