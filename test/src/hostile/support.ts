/**
 * Helpers of the hostile-input tests: a raw HTTP client (any method, GET with a body, any bytes,
 * any header), the checks every answer must pass (no 5xx, the envelope, a code/subcode of the
 * contract's table, no storage error text), a collector that keeps the first examples of each
 * kind of failure, liveness checks and a pipeline with auth on and two tenants.
 */
import type { Envelope as ApiEnvelope } from '@trackstream/api';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseJson } from '@trackstream/api';
import { startPipeline, type Pipeline } from '../helpers/pipeline';

// ------------------------------------------------------------------------------ endpoints

/** The read endpoints (query service). */
export const READ_ENDPOINTS = [
  'events.debug_images',
  'events.get_task_log',
  'events.get_task_events',
  'events.download_task_log',
  'events.get_task_plots',
  'events.get_multi_task_plots',
  'events.get_vector_metrics_and_variants',
  'events.vector_metrics_iter_histogram',
  'events.scalar_metrics_iter_histogram',
  'events.multi_task_scalar_metrics_iter_histogram',
  'events.get_task_latest_scalar_values',
  'events.get_scalar_metrics_and_variants',
  'events.get_scalar_metric_data',
  'events.clear_scroll',
  'events.get_task_single_value_metrics',
  'events.scalar_metrics_iter_raw',
  'events.plots',
  'events.get_debug_image_sample',
  'events.next_debug_image_sample',
  'events.get_plot_sample',
  'events.next_plot_sample',
  'events.get_task_metrics',
  'events.get_multi_task_metrics',
] as const;

/** The gateway's endpoints and auth.login. */
export const WRITE_ENDPOINTS = ['events.add', 'events.add_batch', 'events.delete_for_task', 'events.delete_for_model', 'events.clear_task_log', 'auth.login'] as const;
export const ALL_ENDPOINTS = [...WRITE_ENDPOINTS, ...READ_ENDPOINTS] as const;
export type EndpointName = (typeof ALL_ENDPOINTS)[number];

/** Path prefixes: none, versions each handler set answers, one above every handler. */
export const VERSION_PREFIXES = ['', 'v1.5/', 'v1.7/', 'v2.1/', 'v2.7/', 'v2.9/', 'v2.12/', 'v2.14/', 'v2.16/', 'v2.18/', 'v2.19/', 'v2.20/', 'v2.22/', 'v2.23/', 'v2.26/', 'v2.28/', 'v2.30/', 'v999.0/', 'v999.999/'] as const;

// ------------------------------------------------------------------------------ raw HTTP

export interface RawRequest {
  method?: string;
  /** Request target, `/events.add?x=1`. */
  path: string;
  headers?: Record<string, string | number | string[]>;
  body?: Buffer | string;
  /** Send the body chunked (no Content-Length). */
  chunked?: boolean;
  /** Fails the request when no complete answer came by then. Default 30 s. */
  timeoutMs?: number;
}

export interface RawReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  ms: number;
}

/** Keep-alive connections, as the SDK keeps them. */
export const agent = new Agent({ keepAlive: true, maxSockets: 16 });

/** One request on a keep-alive connection; rejects on a connection error or timeout. */
export function send(base: string, r: RawRequest): Promise<RawReply> {
  const url = new URL(base);
  const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
  const headers: Record<string, string | number | string[]> = { ...r.headers };
  if (body && !r.chunked && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) headers['content-length'] = body.length;
  // Node only chunks POST-like methods by default: a GET body without framing would be read as the next request.
  if (r.chunked) headers['transfer-encoding'] = 'chunked';
  const started = Date.now();
  return new Promise<RawReply>((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method: r.method ?? 'POST', path: r.path, headers, agent, timeout: r.timeoutMs ?? 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ms: Date.now() - started }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${r.timeoutMs ?? 30_000} ms`)));
    req.on('error', reject);
    if (body && body.length > 0) {
      if (r.chunked) {
        // A few chunks, so the server sees a real chunked body.
        const step = Math.max(1, Math.ceil(body.length / 4));
        for (let i = 0; i < body.length; i += step) req.write(body.subarray(i, i + step));
      } else {
        req.write(body);
      }
    }
    req.end();
  });
}

// ------------------------------------------------------------------------------ checks

/** Every error (code/subcode) of the contract's table that bad input may get. */
export const CONTRACT_ERRORS: ReadonlySet<string> = new Set(['400/0', '400/11', '400/12', '400/17', '400/101', '400/131', '400/1104', '401/20', '401/21', '401/22', '404/0', '413/0']);

/** How each error's message starts (the catalogue of packages/api/src/errors.ts). */
const MESSAGE_PREFIX: Record<string, string> = {
  '400/0': 'Invalid request path',
  '400/11': 'Missing required fields',
  '400/12': 'Validation error',
  '400/17': 'Batch contains no items',
  '400/101': 'Invalid task id',
  '400/131': 'Events not added',
  '400/1104': 'Invalid scroll id',
  '401/20': 'Unauthorized',
  '401/21': 'Unauthorized',
  '401/22': 'Unauthorized',
  '404/0': 'Not found',
  '413/0': 'Request body too large',
};

/** What a ClickHouse (or chDB front, or Node internals) error message looks like. */
export const STORE_ERROR_TEXT = /DB::Exception|Code: \d+\.|e\.what\(\)|SYNTAX_ERROR|UNKNOWN_IDENTIFIER|CANNOT_PARSE|TYPE_MISMATCH|ILLEGAL_TYPE|Traceback|chdb|clickhouse|\bat [\w.<>]+ \(|node:internal/i;

/** The ClearML envelope, as the api package defines it. */
export type Envelope = ApiEnvelope<Record<string, unknown>>;

export interface CheckOptions {
  /** A 503/0 envelope with Retry-After is acceptable (the request timeout). */
  allow503?: boolean;
  /** Non-enveloped 200 text/plain is acceptable (download_task_log). */
  download?: boolean;
}

/**
 * Checks one answer against the contract; returns what is wrong (a short label, stable across
 * requests so failures group) or undefined. The parsed envelope is returned for JSON answers.
 */
export function checkReply(r: RawReply, opts: CheckOptions = {}): { problem?: string; envelope?: Envelope } {
  const ct = String(r.headers['content-type'] ?? '');
  if (r.status >= 500 && !(opts.allow503 && r.status === 503)) return { problem: `HTTP ${r.status}` };
  if (opts.download && r.status === 200 && ct.startsWith('text/plain')) return {};
  if (!ct.startsWith('application/json')) return { problem: `HTTP ${r.status} answered with content-type "${ct}", not an envelope` };
  let env: Envelope;
  try {
    env = parseJson(r.body.toString('utf8'), 1000) as Envelope;
  } catch {
    return { problem: `HTTP ${r.status}: body is not JSON` };
  }
  const m = env?.meta;
  if (!m || typeof m !== 'object') return { problem: `HTTP ${r.status}: no meta` };
  if (m.result_code !== r.status) return { problem: `result_code ${m.result_code} != HTTP ${r.status}` };
  if (!Number.isInteger(m.result_subcode)) return { problem: 'result_subcode is not an integer' };
  if (typeof m.result_msg !== 'string' || m.result_msg === '') return { problem: 'empty result_msg' };
  if (typeof m.id !== 'string' || !/^[0-9a-f]{32}$/.test(m.id)) return { problem: 'meta.id is not 32 hex characters' };
  if (typeof m.trx !== 'string' || m.trx === '') return { problem: 'meta.trx missing' };
  if (!m.endpoint || typeof m.endpoint !== 'object') return { problem: 'meta.endpoint missing' };
  if (r.status === 200) return m.result_subcode === 0 ? { envelope: env } : { problem: `200 with subcode ${m.result_subcode}` };
  const code = `${m.result_code}/${m.result_subcode}`;
  if (r.status === 503) {
    if (m.result_subcode !== 0 || r.headers['retry-after'] === undefined) return { problem: '503 without subcode 0 and Retry-After' };
    return { envelope: env };
  }
  if (!CONTRACT_ERRORS.has(code)) return { problem: `error ${code} is not in the contract's table` };
  if (!m.result_msg.startsWith(MESSAGE_PREFIX[code] as string)) return { problem: `${code} with message "${m.result_msg.slice(0, 60)}"` };
  if (STORE_ERROR_TEXT.test(m.result_msg)) return { problem: `${code}: storage or internal error text in result_msg` };
  if (env.data === null || typeof env.data !== 'object' || Object.keys(env.data).length !== 0) return { problem: `${code} with non-empty data` };
  return { envelope: env };
}

/**
 * Collects failures by kind, keeping a few examples of each; `assertNone` fails listing them.
 * Also counts requests per category and answers per code, for the run's summary.
 */
export class Findings {
  private readonly problems = new Map<string, { count: number; examples: string[] }>();
  readonly sent = new Map<string, number>();
  readonly codes = new Map<string, number>();

  count(category: string, n = 1): void {
    this.sent.set(category, (this.sent.get(category) ?? 0) + n);
  }

  code(label: string): void {
    this.codes.set(label, (this.codes.get(label) ?? 0) + 1);
  }

  add(problem: string, example: string): void {
    const p = this.problems.get(problem) ?? { count: 0, examples: [] };
    p.count++;
    if (p.examples.length < 3) p.examples.push(example.length > 600 ? `${example.slice(0, 600)}...` : example);
    this.problems.set(problem, p);
  }

  get total(): number {
    let n = 0;
    for (const v of this.sent.values()) n += v;
    return n;
  }

  summary(): string {
    const sent = [...this.sent].map(([k, v]) => `${k}=${v}`).join(' ');
    const codes = [...this.codes].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}:${v}`).join(' ');
    return `requests ${this.total} (${sent}); answers ${codes}`;
  }

  assertNone(what: string): void {
    if (this.problems.size === 0) return;
    const lines = [...this.problems].map(([problem, { count, examples }]) => `- ${problem} (x${count})\n    ${examples.join('\n    ')}`);
    assert.fail(`${what}: ${this.problems.size} kinds of contract violations\n${lines.join('\n')}`);
  }
}

/** Sends a request, checks its answer and records the outcome; never throws. */
export async function probe(base: string, findings: Findings, category: string, r: RawRequest, opts: CheckOptions = {}, describe?: string): Promise<RawReply | undefined> {
  findings.count(category);
  let reply: RawReply;
  try {
    reply = await send(base, r);
  } catch (e) {
    findings.code('conn-error');
    findings.add(`connection failed: ${e instanceof Error ? e.message.replace(/\d+/g, 'N') : String(e)}`, describe ?? describeRequest(r));
    return undefined;
  }
  const { problem, envelope } = checkReply(reply, opts);
  findings.code(envelope ? `${envelope.meta.result_code}/${envelope.meta.result_subcode}` : String(reply.status));
  if (problem) findings.add(problem, `${describe ?? describeRequest(r)} -> ${reply.status} ${reply.body.toString('utf8').slice(0, 300)}`);
  return reply;
}

/** A short, printable description of a request, for failure messages. */
export function describeRequest(r: RawRequest): string {
  const body = r.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
  const preview = body.length > 200 ? `${JSON.stringify(body.subarray(0, 200).toString('latin1'))}... (${body.length} bytes)` : JSON.stringify(body.toString('latin1'));
  const headers = Object.entries(r.headers ?? {})
    .map(([k, v]) => `${k}: ${String(v).slice(0, 80)}`)
    .join('; ');
  return `${r.method ?? 'POST'} ${r.path.slice(0, 300)} [${headers}] ${preview}`;
}

/** Runs `tasks` with at most `width` in flight. */
export async function pool<T>(items: readonly T[], width: number, run: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await run(items[i] as T, i);
    }
  });
  await Promise.all(workers);
}

// ------------------------------------------------------------------------------ liveness

/** /health is 200 and a normal read and a normal write are answered 200. */
export async function assertAlive(p: Pipeline, auth: Record<string, string> = {}, what = ''): Promise<void> {
  // /health must answer at once; its checks (a producer still connecting at start) may take a moment to pass.
  let health = await send(p.url, { method: 'GET', path: '/health', timeoutMs: 10_000 });
  for (let i = 0; i < 100 && health.status !== 200; i++) {
    await new Promise((r) => setTimeout(r, 100));
    health = await send(p.url, { method: 'GET', path: '/health', timeoutMs: 10_000 });
  }
  assert.equal(health.status, 200, `${what}: /health answered ${health.status} ${health.body.toString()}`);
  const read = await send(p.url, {
    path: '/events.get_task_log',
    headers: { 'content-type': 'application/json', ...auth },
    body: JSON.stringify({ task: 'liveness-check' }),
    timeoutMs: 10_000,
  });
  assert.equal(read.status, 200, `${what}: a normal read answered ${read.status} ${read.body.toString().slice(0, 300)}`);
  const write = await send(p.url, {
    path: '/events.add',
    headers: { 'content-type': 'application/json', ...auth },
    body: JSON.stringify({ type: 'log', task: 'liveness-check', msg: 'alive' }),
    timeoutMs: 10_000,
  });
  assert.equal(write.status, 200, `${what}: a normal write answered ${write.status} ${write.body.toString().slice(0, 300)}`);
}

/** The test process's RSS (it hosts the whole pipeline), in MB. */
export function rssMb(): number {
  return process.memoryUsage().rss / 1024 / 1024;
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * A full garbage collection, so that RSS reflects what is still referenced (the test's own
 * multi-megabyte bodies included) rather than what the collector has not yet reclaimed.
 */
export function forceGc(): void {
  gc();
  gc();
}

/** The memory bound of a hostile run: RSS may grow by at most this much over its start. */
export const RSS_GROWTH_LIMIT_MB = 500;

// ------------------------------------------------------------------------------ pipeline with auth

export const basic = (key: string, secret: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}` });
export const TENANT_A = { tenant: 'tenant-a', headers: basic('KEY_A', 'secret-a') };
export const TENANT_B = { tenant: 'tenant-b', headers: basic('KEY_B', 'secret-b') };

/** A pipeline with auth on and two tenants (TENANT_A, TENANT_B). */
export async function startAuthPipeline(env: Record<string, string> = {}): Promise<{ p: Pipeline; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'hostile-'));
  const keys = join(dir, 'keys.json');
  await writeFile(
    keys,
    JSON.stringify([
      { access_key: 'KEY_A', secret_key: 'secret-a', tenant: TENANT_A.tenant },
      { access_key: 'KEY_B', secret_key: 'secret-b', tenant: TENANT_B.tenant },
    ]),
  );
  const p = await startPipeline({ env: { AUTH_ENABLED: 'true', AUTH_KEYS_FILE: keys, AUTH_TOKEN_SECRET: 'a-token-secret-for-hostile-tests', ...env } });
  return {
    p,
    cleanup: async () => {
      await p.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// ------------------------------------------------------------------------------ hostile strings

/** Strings meant to break out of SQL, query parameters, formats and JSON. */
export const HOSTILE_STRINGS: readonly string[] = [
  "' OR 1=1 --",
  "'; DROP TABLE scalars; --",
  "\\' UNION SELECT tenant, task, metric FROM scalars --",
  '" OR ""="',
  "') OR ('1'='1",
  '{x:String}',
  '{tenant:String}',
  '{task:String}) OR (1=1',
  '{braces}',
  '{{double}}',
  '}{',
  'back\\slash\\\\double\\',
  "quote'single",
  'quote"double',
  '`backtick`',
  'tab\there',
  'new\nline',
  'cr\rreturn',
  '\\N',
  '\\0',
  'percent %s %d %n %00',
  '$(whoami) ${PATH}',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  'ünïcødé 中文 🚀 \u202e rtl \u200b zwsp',
  '\ufeffbom',
  '__proto__',
  'constructor',
  ' leading and trailing ',
  "1'); SELECT * FROM system.tables; --",
  'x\' FORMAT JSON --',
  '*/ SELECT 1 /*',
];

/** Strings that are not acceptable task ids but fine elsewhere: control characters. */
export const CONTROL_STRINGS: readonly string[] = ['nul\u0000byte', 'bell\u0007', 'esc\u001b[31m', 'del\u007f', 'c1\u0085next'];
