/**
 * Slow and never-ending request bodies: the server answers 503 (envelope, Retry-After) and closes
 * the connection within its request timeout, whatever the client does, and keeps serving other
 * clients meanwhile. The pipeline runs with 1.5 s request timeouts so the test is quick.
 * Also: clients that stop reading a download do not starve everyone else.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseJson } from '@trackstream/api';
import { waitFor } from '@trackstream/local-stack';
import { startPipeline, type Pipeline } from '../helpers/pipeline';
import { agent, assertAlive, checkReply, forceGc, RSS_GROWTH_LIMIT_MB, rssMb, send, type Envelope } from './support';

const TIMEOUT_MS = 1500;
/** How late past the timeout an answer may come on a loaded 2-core machine. */
const SLACK_MS = 3000;

let p: Pipeline;
let rss0 = 0;

before(async () => {
  p = await startPipeline({ env: { GATEWAY_REQUEST_TIMEOUT_MS: String(TIMEOUT_MS), QUERY_REQUEST_TIMEOUT_MS: String(TIMEOUT_MS) } });
  await assertAlive(p, {}, 'before the run');
  forceGc();
  rss0 = rssMb();
});

after(async () => {
  agent.destroy();
  await p?.stop();
});

interface Exchange {
  /** Status of the answer, 0 if none. */
  status: number;
  headers: Record<string, string>;
  body: string;
  /** ms from connect to the first byte of the answer / to the connection's close (-1: never). */
  answeredMs: number;
  closedMs: number;
  /** The client was still writing when the server closed. */
  cutOff: boolean;
}

/**
 * A raw HTTP/1.1 exchange: sends `head` and `first`, then (optionally) one drip byte every
 * `dripMs` until the server closes; never finishes the body itself. Resolves when the server
 * closes the connection, or after `giveUpMs` (then closedMs = -1).
 */
function slowExchange(head: string, first: string, opts: { dripMs?: number; giveUpMs?: number } = {}): Promise<Exchange> {
  const url = new URL(p.url);
  const giveUpMs = opts.giveUpMs ?? TIMEOUT_MS + SLACK_MS + 5000;
  return new Promise((resolve) => {
    const started = Date.now();
    const chunks: Buffer[] = [];
    let answeredMs = -1;
    let cutOff = false;
    let drip: NodeJS.Timeout | undefined;
    const socket: Socket = connect(Number(url.port), url.hostname, () => {
      socket.write(head);
      socket.write(first);
      if (opts.dripMs) {
        drip = setInterval(() => {
          if (socket.writable) socket.write('a');
        }, opts.dripMs);
      }
    });
    const finish = (closedMs: number) => {
      clearInterval(drip);
      clearTimeout(giveUp);
      const text = Buffer.concat(chunks).toString('utf8');
      const [top = '', body = ''] = text.split('\r\n\r\n', 2);
      const lines = top.split('\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({ status, headers, body, answeredMs, closedMs, cutOff });
    };
    const giveUp = setTimeout(() => {
      socket.destroy();
      finish(-1);
    }, giveUpMs);
    socket.on('data', (c: Buffer) => {
      if (answeredMs < 0) answeredMs = Date.now() - started;
      chunks.push(c);
    });
    socket.on('error', () => {
      cutOff = true;
    });
    socket.on('close', () => finish(Date.now() - started));
  });
}

const head = (path: string, extra: string) => `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${extra}\r\n`;

/** A 503/0 envelope with Retry-After and Connection: close, in time, and the connection closed. */
function assertTimedOut(x: Exchange, what: string): void {
  assert.notEqual(x.closedMs, -1, `${what}: the connection was never closed`);
  assert.equal(x.status, 503, `${what}: answered ${x.status} ${x.body}`);
  assert.ok(x.answeredMs >= TIMEOUT_MS - 100 && x.answeredMs <= TIMEOUT_MS + SLACK_MS, `${what}: answered after ${x.answeredMs} ms`);
  assert.ok(x.closedMs <= x.answeredMs + SLACK_MS, `${what}: closed ${x.closedMs - x.answeredMs} ms after answering`);
  assert.equal(x.headers['connection'], 'close', what);
  assert.ok(Number(x.headers['retry-after']) > 0, `${what}: Retry-After ${x.headers['retry-after']}`);
  const reply = checkReply({ status: x.status, headers: { 'content-type': x.headers['content-type'], 'retry-after': x.headers['retry-after'] }, body: Buffer.from(x.body), ms: 0 }, { allow503: true });
  assert.equal(reply.problem, undefined, `${what}: ${reply.problem}`);
  assert.match((reply.envelope as Envelope).meta.result_msg, /timed out/);
}

/** A normal request answered quickly while the slow ones hang. */
async function assertServesOthers(what: string): Promise<void> {
  const started = Date.now();
  const r = await send(p.url, { path: '/events.get_task_log', headers: { 'content-type': 'application/json' }, body: '{"task":"meanwhile"}', timeoutMs: 5000 });
  assert.equal(r.status, 200, `${what}: ${r.body.toString()}`);
  assert.ok(Date.now() - started < TIMEOUT_MS, `${what}: a normal read took ${Date.now() - started} ms`);
}

const ENDPOINTS = ['/events.add_batch', '/v2.23/events.add', '/events.delete_for_task', '/auth.login', '/events.get_task_log', '/v2.1/events.download_task_log', '/events.multi_task_scalar_metrics_iter_histogram'];

test('a body that never finishes: 503 and the connection closed within the timeout, others served meanwhile', async () => {
  const pending = ENDPOINTS.map((path) => slowExchange(head(path, 'Content-Length: 100000\r\n'), '{"task":"slow","pad":"'));
  await sleep(300);
  await assertServesOthers('during the slow bodies');
  const results = await Promise.all(pending);
  results.forEach((x, i) => assertTimedOut(x, ENDPOINTS[i] as string));
});

test('answered before the body ends (unknown endpoint, bad path, bad encoding): the connection is closed, not kept waiting', async () => {
  const cases: Array<[string, string, number]> = [
    ['/events.nope', '', 404],
    ['/not-a-path', '', 400],
    ['/events.add_batch', 'Content-Encoding: compress\r\n', 400],
    ['/events.get_task_log', 'Content-Encoding: bogus\r\n', 400],
  ];
  const results = await Promise.all(cases.map(([path, extra]) => slowExchange(head(path, `${extra}Content-Length: 100000\r\n`), '{"task":"', { giveUpMs: 10_000 })));
  results.forEach((x, i) => {
    const [path, , status] = cases[i] as [string, string, number];
    assert.equal(x.status, status, `${path}: ${x.body}`);
    assert.ok(x.answeredMs < TIMEOUT_MS, `${path}: answered after ${x.answeredMs} ms`);
    assert.notEqual(x.closedMs, -1, `${path}: the connection was kept open, waiting for a body that never ends`);
    assert.ok(x.closedMs <= x.answeredMs + SLACK_MS, `${path}: closed ${x.closedMs - x.answeredMs} ms after answering`);
  });
});

test('a body dripping one byte every 200 ms is cut off at the timeout all the same', async () => {
  const pending = ['/events.add_batch', '/events.get_task_events'].map((path) => slowExchange(head(path, 'Content-Length: 100000\r\n'), '{"task":"', { dripMs: 200 }));
  await sleep(300);
  await assertServesOthers('during the drips');
  for (const x of await Promise.all(pending)) assertTimedOut(x, 'drip');
});

test('a chunked body whose last chunk never comes, and a gzip body that stops mid-stream', async () => {
  const chunked = slowExchange(head('/events.add_batch', 'Transfer-Encoding: chunked\r\n'), '10\r\n{"type":"log","t\r\n', { dripMs: 300 });
  const gzip = slowExchange(head('/events.get_task_log', 'Content-Encoding: gzip\r\nContent-Length: 5000\r\n'), '\x1f\x8b\x08\x00\x00\x00\x00\x00');
  assertTimedOut(await chunked, 'chunked');
  assertTimedOut(await gzip, 'gzip');
});

test('a hundred slow bodies at once: all cut off, nothing left in flight, the pipeline unharmed', async () => {
  const pending = Array.from({ length: 100 }, (_, i) => slowExchange(head(ENDPOINTS[i % ENDPOINTS.length] as string, 'Content-Length: 1000000\r\n'), '{"task":"many","x":"'));
  await sleep(500);
  await assertServesOthers('during a hundred slow bodies');
  const results = await Promise.all(pending);
  results.forEach((x, i) => assertTimedOut(x, `slow body ${i}`));
  await waitFor(
    async () => {
      const text = await (await fetch(`${p.url}/metrics`)).text();
      const inFlight = [...text.matchAll(/^(gateway|query)_http_requests_in_flight (\d+)/gm)].map((m) => Number(m[2]));
      return inFlight.length > 0 && inFlight.every((n) => n === 0);
    },
    { timeoutMs: 5000, what: 'no request left in flight' },
  );
  await assertAlive(p, {}, 'after a hundred slow bodies');
});

test('clients that stop reading a download do not starve other readers or the writer', async () => {
  // A log big enough that its download outlasts the socket buffers.
  const task = 'big-log';
  const line = 'x'.repeat(2000);
  for (let b = 0; b < 5; b++) {
    const body = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ type: 'log', task, timestamp: Date.UTC(2024, 0, 1) + b * 2000 + i, msg: line })).join('\n');
    const r = await send(p.url, { path: '/events.add_batch', headers: { 'content-type': 'application/json-lines' }, body });
    assert.equal(r.status, 200);
  }
  await p.waitForCount('SELECT count() FROM logs FINAL WHERE task = {t:String}', 10_000, { t: task }, 60_000);
  // More stalled downloads than the ClickHouse client has connections (10): each reads a little, then nothing.
  const url = new URL(p.url);
  const stalled: Socket[] = [];
  for (let i = 0; i < 14; i++) {
    const s = connect(Number(url.port), url.hostname);
    const body = JSON.stringify({ task });
    s.write(`POST /events.download_task_log HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    s.once('data', () => s.pause());
    s.on('error', () => undefined);
    stalled.push(s);
  }
  try {
    await sleep(1000);
    // Reads and writes still go through, in about normal time.
    await assertServesOthers('while downloads are stalled');
    const w = await send(p.url, { path: '/events.add', headers: { 'content-type': 'application/json' }, body: '{"type":"log","task":"during-stall","msg":"m"}', timeoutMs: 10_000 });
    assert.equal(w.status, 200);
    await p.waitForCount('SELECT count() FROM logs FINAL WHERE task = {t:String}', 1, { t: 'during-stall' }, 15_000);
    // A client that takes nothing for the request timeout is cut off, freeing its connection:
    // soon a whole download goes through again, the stalled clients still connected.
    await sleep(2 * TIMEOUT_MS + SLACK_MS);
    const started = Date.now();
    const dl = await send(p.url, { path: '/events.download_task_log', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task }), timeoutMs: 20_000 });
    assert.equal(dl.status, 200);
    assert.equal(dl.body.toString('utf8').split('\n').length, 10_001, `a whole download (${Date.now() - started} ms)`);
  } finally {
    for (const s of stalled) s.destroy();
  }
  await assertAlive(p, {}, 'after the stalled downloads');
});

test('memory stays bounded', async () => {
  forceGc();
  const growth = rssMb() - rss0;
  console.log(`[hostile] rss ${rss0.toFixed(0)} MB -> ${rssMb().toFixed(0)} MB`);
  assert.ok(growth < RSS_GROWTH_LIMIT_MB, `RSS grew by ${growth.toFixed(0)} MB`);
  const health = await send(p.url, { method: 'GET', path: '/health' });
  assert.equal(health.status, 200);
  assert.ok(parseJson(health.body.toString(), 10));
});
