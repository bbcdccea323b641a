/**
 * The ClearML server's own tokens on the real pipeline (CLEARML_TOKEN_SECRET, AUTH_ENABLED left
 * false): tokens made here as the ClearML server makes them (PyJWT's HS256 over its auth.login
 * payload, with node:crypto's HMAC, not the code under test) write and read, each company its
 * own tenant; every forgery is refused with 401 in the envelope and stores nothing; the web UI's
 * session cookie carries a token; the gateway and query services as processes accept them too.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign as rsaSign } from 'node:crypto';
import { startPipeline, type ApiReply, type Pipeline } from '../helpers/pipeline';
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process';
import { T0, api, assertError, log, plot, scalar, type Api } from '../query/support';

const SECRET = 'clearml-server-token-secret-for-these-tests';
/** The ClearML open-source server's default company, and another one. */
const COMPANY_A = 'd1bd92a3b039400cbafc60a7a5b1e52b';
const COMPANY_B = '0b1e5c7a9d2f4e6a8c0b1e5c7a9d2f4e';
const SHARED = 'shared-task';

const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const nowSec = (): number => Math.floor(Date.now() / 1000);

/** The claims of the ClearML server's auth.login token (AuthBLL.get_token_for_user). */
function payload(company: string, more: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    identity: { user: `user-${company.slice(0, 6)}`, company, role: 'user', user_name: 'Jane Doe', company_name: 'ACME' },
    session_id: '5f2d4c1b8a9e4f0d9c7b6a5e4d3c2b1a',
    env: 'production',
    iat: nowSec() - 10,
    exp: nowSec() + 30 * 24 * 3600,
    api_version: '2.31',
    server_version: '2.0.0',
    server_build: '613',
    feature_set: 'basic',
    ...more,
  };
}

/** A JWT as PyJWT encodes it: compact JSON, base64url without padding, an HMAC signature. */
function jwt(claims: unknown, opts: { secret?: string; alg?: 'HS256' | 'HS384' | 'HS512' } = {}): string {
  const alg = opts.alg ?? 'HS256';
  const input = `${b64({ alg, typ: 'JWT' })}.${b64(claims)}`;
  const hash = ({ HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' } as const)[alg];
  return `${input}.${createHmac(hash, opts.secret ?? SECRET).update(input).digest('base64url')}`;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const tokenA = jwt(payload(COMPANY_A));
const tokenB = jwt(payload(COMPANY_B));

/** Events of `task`, each naming `mark` in its metric or text. */
const eventsOf = (task: string, mark: string) => [
  ...[0, 1, 2].map((i) => scalar(task, `loss-${mark}`, `v-${mark}`, i, i + 0.5)),
  ...[0, 1].map((i) => log(task, T0 + i, `hello from ${mark} ${i}`)),
  plot(task, `plot-${mark}`, `v-${mark}`, 1),
];

const READS: Array<[string, Record<string, unknown>]> = [
  ['events.get_task_log', { task: SHARED }],
  ['events.get_task_events', { task: SHARED }],
  ['events.get_task_plots', { task: SHARED }],
  ['events.scalar_metrics_iter_histogram', { task: SHARED }],
  ['events.get_scalar_metrics_and_variants', { task: SHARED }],
  ['events.get_task_latest_scalar_values', { task: SHARED }],
];

let p: Pipeline;
let a: Api;
let b: Api;

before(async () => {
  p = await startPipeline({ env: { CLEARML_TOKEN_SECRET: SECRET } });
  assert.equal(p.config.authEnabled, false, 'AUTH_ENABLED is left off: the ClearML secret alone requires credentials');
  a = api(p, bearer(tokenA), COMPANY_A);
  b = api(p, bearer(tokenB), COMPANY_B);
  // ingest waits for the rows stored under the company's tenant.
  await a.ingest(eventsOf(SHARED, 'A'));
  await b.ingest(eventsOf(SHARED, 'B'));
});

after(async () => {
  await p?.stop();
});

test('ClearML tokens write and read; each company sees its own events only, under the same task id', async () => {
  for (const [client, mine, theirs] of [
    [a, 'A', 'B'],
    [b, 'B', 'A'],
  ] as const) {
    for (const [endpoint, body] of READS) {
      const r = await client.call(endpoint, body);
      assert.equal(r.status, 200, `${endpoint}: ${r.msg}`);
      const text = JSON.stringify({ ...r.data, scroll_id: undefined });
      assert.ok(text.includes(`-${mine}`) || text.includes(`from ${mine}`), `${mine} finds its events via ${endpoint}: ${text.slice(0, 300)}`);
      assert.ok(!text.includes(`-${theirs}`) && !text.includes(`from ${theirs}`), `${mine} sees ${theirs}'s events via ${endpoint}: ${text.slice(0, 300)}`);
    }
    const logs = await client.call<{ events: Array<{ msg: string }> }>('events.get_task_log', { task: SHARED });
    assert.deepEqual(logs.data.events.map((e) => e.msg).sort(), [`hello from ${mine} 0`, `hello from ${mine} 1`]);
    const dl = await (await client.fetch('events.download_task_log', { task: SHARED })).text();
    assert.ok(dl.includes(`from ${mine}`) && !dl.includes(`from ${theirs}`), dl);
  }
  // Stored under the companies, nothing under `default`.
  assert.equal(await p.count('SELECT count() FROM scalars FINAL WHERE tenant = {t:String}', { t: COMPANY_A }), 3);
  assert.equal(await p.count('SELECT count() FROM scalars FINAL WHERE tenant = {t:String}', { t: COMPANY_B }), 3);
  assert.equal(await p.count("SELECT count() FROM scalars FINAL WHERE tenant NOT IN ({a:String}, {b:String})", { a: COMPANY_A, b: COMPANY_B }), 0);
});

test('every forged, expired or foreign token is refused with 401 in the envelope, on add_batch and on reads, and stores nothing', async () => {
  const [h, pl, s] = tokenA.split('.') as [string, string, string];
  const evil = 'evil-company';
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsInput = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(payload(evil))}`;
  const none = b64({ alg: 'none', typ: 'JWT' });
  const cases: Array<[string, Record<string, string>, number]> = [
    ['no credentials', {}, 20],
    ['placeholder keys (Basic)', { authorization: `Basic ${Buffer.from('placeholder:keys').toString('base64')}` }, 22],
    ['another company, signature kept', bearer(`${h}.${b64(payload(evil))}.${s}`), 22],
    ['wrong secret', bearer(jwt(payload(evil), { secret: 'not-the-clearml-secret' })), 22],
    ['expired', bearer(jwt(payload(evil, { iat: nowSec() - 7200, exp: nowSec() - 60 }))), 22],
    ['no exp', bearer(jwt(payload(evil, { exp: undefined }))), 22],
    ['alg none, unsigned', bearer(`${none}.${b64(payload(evil))}.`), 21],
    ['alg none, a signature kept', bearer(`${none}.${pl}.${s}`), 22],
    ['HS384 with the secret', bearer(jwt(payload(evil), { alg: 'HS384' })), 22],
    ['HS512 with the secret', bearer(jwt(payload(evil), { alg: 'HS512' })), 22],
    ['RS256', bearer(`${rsInput}.${rsaSign('sha256', Buffer.from(rsInput), privateKey).toString('base64url')}`), 22],
    ['signature truncated', bearer(`${h}.${pl}.${s.slice(0, -3)}`), 22],
    ['token truncated', bearer(tokenA.slice(0, h.length + 20)), 21],
    ['payload re-serialised', bearer(`${h}.${b64(JSON.stringify(JSON.parse(Buffer.from(pl, 'base64url').toString()), null, 1))}.${s}`), 22],
    ['signature padded', bearer(`${tokenA}=`), 21],
    ['no company', bearer(jwt(payload(evil, { identity: { user: 'u', role: 'user' } }))), 22],
    ['in the cookie, another company', { cookie: `clearml_token_basic=${h}.${b64(payload(evil))}.${s}` }, 22],
  ];
  const refused = (r: ApiReply<unknown>, subcode: number, what: string): void => {
    assert.equal(r.status, 401, `${what}: ${r.meta.result_msg}`);
    assert.equal(r.meta.result_code, 401, what);
    assert.equal(r.meta.result_subcode, subcode, `${what}: ${r.meta.result_msg}`);
    assert.match(r.meta.result_msg, /^Unauthorized/, what);
    assert.deepEqual(r.data, {}, what);
  };
  for (const [what, headers, subcode] of cases) {
    refused(await p.addBatch(eventsOf('forged-task', 'F'), { headers }), subcode, `add_batch, ${what}`);
    refused(await p.call('events.get_task_log', { task: SHARED }, { headers }), subcode, `get_task_log, ${what}`);
    refused(await p.call('events.scalar_metrics_iter_histogram', { task: SHARED }, { headers }), subcode, `scalar_metrics_iter_histogram, ${what}`);
  }
  // Then a good batch on the same task: once stored, it is all there is.
  await a.ingest([scalar('forged-task', 'sentinel', 'v', 0, 1)]);
  assert.equal(await p.count("SELECT count() FROM scalars WHERE task = 'forged-task'"), 1);
  assert.equal(await p.count("SELECT count() FROM logs WHERE task = 'forged-task'"), 0);
  assert.equal(await p.count('SELECT count() FROM scalars WHERE tenant = {t:String}', { t: evil }), 0);
});

test('the web UI session cookie authenticates when there is no Authorization header; the header wins', async () => {
  const viaCookie = api(p, { cookie: `_ga=GA1.1.1; clearml_token_basic=${tokenB}` }, COMPANY_B);
  const logs = await viaCookie.call<{ events: Array<{ msg: string }> }>('events.get_task_log', { task: SHARED });
  assert.equal(logs.status, 200, logs.msg);
  assert.deepEqual(logs.data.events.map((e) => e.msg).sort(), ['hello from B 0', 'hello from B 1']);
  await viaCookie.ingest([log('cookie-task', T0, 'written with the cookie')]);
  const mine = await b.call<{ events: Array<{ msg: string }> }>('events.get_task_log', { task: 'cookie-task' });
  assert.deepEqual(mine.data.events.map((e) => e.msg), ['written with the cookie']);
  const theirs = await a.call<{ events: unknown[] }>('events.get_task_log', { task: 'cookie-task' });
  assert.deepEqual(theirs.data.events, []);
  // A's header over B's cookie: A.
  const both = await a.call<{ events: Array<{ msg: string }> }>('events.get_task_log', { task: SHARED }, { headers: { cookie: `clearml_token_basic=${tokenB}` } });
  assert.deepEqual(both.data.events.map((e) => e.msg).sort(), ['hello from A 0', 'hello from A 1']);
});

test('auth.login with a ClearML token: our token for the same company, which reads its events', async () => {
  const login = await p.call<{ token: string }>('auth.login', {}, { headers: bearer(tokenA) });
  assert.equal(login.status, 200, login.meta.result_msg);
  const claims = JSON.parse(Buffer.from(login.data.token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
  assert.equal(claims.tenant, COMPANY_A);
  const ours = api(p, bearer(login.data.token), COMPANY_A);
  const logs = await ours.call<{ events: Array<{ msg: string }> }>('events.get_task_log', { task: SHARED });
  assert.deepEqual(logs.data.events.map((e) => e.msg).sort(), ['hello from A 0', 'hello from A 1']);
  assertError(await api(p).call('auth.login', {}), 401, 20, 'auth.login without credentials');
});

test('the gateway and query services, each its own process, accept ClearML tokens', async () => {
  let gateway: ServiceProcess | undefined;
  let query: ServiceProcess | undefined;
  try {
    gateway = await startServiceProcess('gateway', p.config);
    query = await startServiceProcess('query', p.config);
    const post = async (url: string, endpoint: string, body: string, headers: Record<string, string>, type = 'application/json') => {
      const res = await fetch(`${url}/${endpoint}`, { method: 'POST', headers: { 'content-type': type, ...headers }, body });
      return { status: res.status, json: (await res.json()) as { meta: { result_code: number; result_subcode: number }; data: Record<string, unknown> } };
    };
    const batch = [scalar('process-task', 'loss-P', 'v', 0, 1), scalar('process-task', 'loss-P', 'v', 1, 2)].map((e) => JSON.stringify(e)).join('\n');
    const written = await post(gateway.url, 'events.add_batch', batch, bearer(tokenB), 'application/json-lines');
    assert.equal(written.status, 200, JSON.stringify(written.json.meta));
    assert.equal(written.json.data.added, 2);
    const unauthenticated = await post(gateway.url, 'events.add_batch', batch, {}, 'application/json-lines');
    assert.deepEqual([unauthenticated.status, unauthenticated.json.meta.result_code, unauthenticated.json.meta.result_subcode], [401, 401, 20]);
    await p.waitForCount("SELECT count() FROM scalars FINAL WHERE tenant = {t:String} AND task = 'process-task'", 2, { t: COMPANY_B });

    const read = await post(query.url, 'events.get_scalar_metrics_and_variants', JSON.stringify({ task: 'process-task' }), bearer(tokenB));
    assert.equal(read.status, 200);
    assert.deepEqual(read.json.data, { metrics: { 'loss-P': ['v'] } });
    const other = await post(query.url, 'events.get_scalar_metrics_and_variants', JSON.stringify({ task: 'process-task' }), bearer(tokenA));
    assert.deepEqual(other.json.data, { metrics: {} });
    const forged = await post(query.url, 'events.get_scalar_metrics_and_variants', JSON.stringify({ task: 'process-task' }), bearer(jwt(payload(COMPANY_B), { secret: 'guessed' })));
    assert.deepEqual([forged.status, forged.json.meta.result_code, forged.json.meta.result_subcode], [401, 401, 22]);
  } finally {
    await gateway?.kill();
    await query?.kill();
  }
});
