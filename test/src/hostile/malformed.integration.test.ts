/**
 * Generated hostile requests to every endpoint (the gateway's, auth.login and the read
 * endpoints; with and without version prefixes; GET and POST): wrong types and missing fields,
 * query strings, broken JSON and json-lines, invalid UTF-8, bad headers, odd paths and methods.
 * Every answer must be a contract answer: never a 5xx, always the envelope with a 4xx of the
 * contract's table (or a 200), never another tenant's data. After each slice of requests the
 * pipeline must still answer /health and normal requests; at the end memory must be bounded.
 *
 * Set HOSTILE_SEED to replay a run (the seed is printed); HOSTILE_SCALE multiplies the counts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseJson, stringifyJson } from '@trackstream/api';
import { waitFor } from '@trackstream/local-stack';
import type { Pipeline } from '../helpers/pipeline';
import { brokenJsonArb, fieldsArb, sweepRequests, FUZZ_TASK, headersArb, isDownload, jsonLinesArb, pathsArb, queryArb, validEvent, type Hostile } from './generators';
import { agent, assertAlive, Findings, pool, probe, forceGc, RSS_GROWTH_LIMIT_MB, rssMb, send, startAuthPipeline, TENANT_A, TENANT_B, type RawReply } from './support';

const SEED = Number(process.env['HOSTILE_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const SCALE = Number(process.env['HOSTILE_SCALE'] ?? 1);
const CONCURRENCY = 8;
/** Liveness is checked after every slice of this many requests. */
const SLICE = 400;
/** Tenant B's events carry this; tenant A must never see it. */
const B_MARK = 'TENANT-B-PRIVATE';

let p: Pipeline;
let cleanup: () => Promise<void>;
let rss0 = 0;
/** One collector per category. */
const runs: Findings[] = [];
const totalRequests = (): number => runs.reduce((n, f) => n + f.total, 0);

before(async () => {
  console.log(`[hostile] seed ${SEED} (HOSTILE_SEED=${SEED} replays this run)`);
  ({ p, cleanup } = await startAuthPipeline());
  // The fuzzed reads name FUZZ_TASK: give it events of every kind, for both tenants.
  const jsonl = (events: unknown[]) => events.map((e) => stringifyJson(e)).join('\n');
  const mine = Array.from({ length: 20 }, (_, i) => validEvent(i));
  const theirs = Array.from({ length: 20 }, (_, i) => ({ ...validEvent(i), metric: B_MARK, msg: B_MARK, url: B_MARK, plot_str: B_MARK, worker: B_MARK }));
  for (const [events, headers] of [
    [mine, TENANT_A.headers],
    [theirs, TENANT_B.headers],
  ] as const) {
    const r = await send(p.url, { path: '/events.add_batch', headers: { 'content-type': 'application/json-lines', ...headers }, body: jsonl(events) });
    assert.equal(r.status, 200, r.body.toString());
  }
  await waitFor(async () => (await p.count('SELECT count() FROM logs FINAL WHERE task = {t:String}', { t: FUZZ_TASK })) >= 8, { what: 'seeded logs' });
  await assertAlive(p, TENANT_A.headers, 'before the run');
  forceGc();
  rss0 = rssMb();
});

after(async () => {
  for (const f of runs) console.log(`[hostile] seed ${SEED}: ${f.summary()}`);
  agent.destroy();
  await cleanup?.();
});

/** Checks specific to a request beyond the envelope; returns a problem or undefined. */
function extraCheck(h: Hostile, r: RawReply): string | undefined {
  const text = r.body.toString('utf8');
  const auth = h.headers['authorization'];
  if (r.status === 200 && auth !== TENANT_B.headers.authorization && text.includes(B_MARK)) return "tenant A (or a bad credential) read tenant B's events";
  if (r.status === 200 && auth !== undefined && auth !== TENANT_A.headers.authorization && auth !== TENANT_B.headers.authorization) {
    return 'a bad Authorization header was accepted';
  }
  const trx = h.headers['x-clearml-trx'];
  if (trx && r.headers['content-type']?.startsWith('application/json')) {
    const meta = (parseJson(text, 1000) as { meta?: { trx?: string } }).meta;
    if (meta?.trx !== trx) return 'X-ClearML-Trx not echoed as meta.trx';
  }
  if (h.expect && r.status === 200) {
    const data = (parseJson(text, 1000) as { data: { added: number; errors: number } }).data;
    if (data.added !== h.expect.good || data.errors !== h.expect.bad) return `add_batch counted added=${data.added} errors=${data.errors}, expected ${h.expect.good}/${h.expect.bad}`;
  }
  if (h.expect && r.status === 400) {
    const sub = (parseJson(text, 1000) as { meta: { result_subcode: number } }).meta.result_subcode;
    if (sub === 131 && (h.expect.good > 0 || h.expect.bad === 0)) return `400/131 with ${h.expect.good} good and ${h.expect.bad} bad lines`;
    if (sub === 17 && h.expect.good + h.expect.bad > 0) return `400/17 with ${h.expect.good + h.expect.bad} lines`;
  }
  return undefined;
}

async function run(category: string, arb: fc.Arbitrary<Hostile> | Hostile[], n = 0): Promise<void> {
  const requests = Array.isArray(arb) ? arb : fc.sample(arb, { numRuns: Math.max(1, Math.round(n * SCALE)), seed: SEED });
  const findings = new Findings();
  runs.push(findings);
  for (let i = 0; i < requests.length; i += SLICE) {
    await pool(requests.slice(i, i + SLICE), CONCURRENCY, async (h) => {
      const r = await probe(p.url, findings, category, { method: h.method, path: h.path, headers: h.headers, body: h.body, chunked: h.chunked ?? false }, { download: isDownload(h) });
      if (!r) return;
      const problem = extraCheck(h, r);
      if (problem) findings.add(problem, `${h.method} ${h.path} ${JSON.stringify(h.headers)} ${JSON.stringify(h.body.subarray(0, 300).toString('latin1'))} -> ${r.status} ${r.body.toString().slice(0, 300)}`);
    });
    await assertAlive(p, TENANT_A.headers, `after ${category} requests ${i}..${i + SLICE}`);
  }
  findings.assertNone(`${category} (seed ${SEED})`);
}

test('every field of every endpoint set to each edge value of every type', async () => {
  await run('sweep', sweepRequests());
});

test('wrong types, missing and extra fields, on every endpoint', async () => {
  await run('fields', fieldsArb, 800);
});

test('query-string parameters of every type, merged over the body', async () => {
  await run('query', queryArb, 400);
});

test('broken JSON, non-objects, random bytes, invalid UTF-8, UTF-16, truncated bodies', async () => {
  await run('json', brokenJsonArb, 600);
});

test('json-lines batches of good and bad lines are counted exactly', async () => {
  await run('jsonlines', jsonLinesArb, 400);
});

test('bad Content-Type, Content-Encoding, Authorization, trx and worker headers', async () => {
  await run('headers', headersArb, 500);
});

test('malformed and unknown paths, versions and methods', async () => {
  await run('paths', pathsArb, 400);
});

test('the process survived with bounded memory', async () => {
  await assertAlive(p, TENANT_A.headers, 'after the whole run');
  forceGc();
  const growth = rssMb() - rss0;
  console.log(`[hostile] rss ${rss0.toFixed(0)} MB -> ${rssMb().toFixed(0)} MB after ${totalRequests()} requests`);
  assert.ok(growth < RSS_GROWTH_LIMIT_MB, `RSS grew by ${growth.toFixed(0)} MB`);
});
