/**
 * Hostile input at the limits: 1-5 MB strings in every field of every endpoint (and stored
 * through the gateway, then read back through every endpoint and every page), JSON nested
 * beyond 64 levels up to a million, bodies over 16 MiB (plain, chunked, gzip bombs), and
 * 10,000-line batches with bad lines mixed in, whose good events must all be stored exactly.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { DEFAULT_BODY_LIMIT, parseJson, stringifyJson } from '@trackstream/api';
import { waitFor } from '@trackstream/local-stack';
import { startPipeline, type Pipeline } from '../helpers/pipeline';
import { badLineArb, FIELDS, validBody } from './generators';
import { agent, ALL_ENDPOINTS, assertAlive, Findings, pool, probe, RSS_GROWTH_LIMIT_MB, forceGc, rssMb, send, type Envelope, type RawReply } from './support';

const SEED = Number(process.env['HOSTILE_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const JSON_CT = { 'content-type': 'application/json' };
const JSONL_CT = { 'content-type': 'application/json-lines' };
const MB = 1024 * 1024;

let p: Pipeline;
let rss0 = 0;
const runs: Findings[] = [];

before(async () => {
  console.log(`[hostile] seed ${SEED} (HOSTILE_SEED=${SEED} replays this run)`);
  p = await startPipeline();
  await assertAlive(p, {}, 'before the run');
  forceGc();
  rss0 = rssMb();
});

after(async () => {
  for (const f of runs) console.log(`[hostile] ${f.summary()}`);
  agent.destroy();
  await p?.stop();
});

function findings(): Findings {
  const f = new Findings();
  runs.push(f);
  return f;
}

const isDownload = (endpoint: string) => endpoint === 'events.download_task_log';

/** Parses an envelope, NaN tokens included. */
function envelope(r: RawReply): Envelope {
  return parseJson(r.body.toString('utf8'), 1000) as Envelope;
}

/** A big string: mostly ASCII, some multi-byte characters, quotes and braces. */
function big(bytes: number, seed: string): string {
  const unit = `${seed}-é中🚀"'\\{x:String}-`;
  return unit.repeat(Math.ceil(bytes / Buffer.byteLength(unit))).slice(0, bytes);
}

// ------------------------------------------------------------------------------ huge strings

test('1-5 MB strings in every field of every endpoint', async () => {
  const f = findings();
  const sizes = [1 * MB, 3 * MB, 5 * MB];
  const requests: Array<{ endpoint: string; body: string; ct: Record<string, string> }> = [];
  let n = 0;
  for (const endpoint of ALL_ENDPOINTS) {
    for (const field of FIELDS[endpoint]) {
      const value = big(sizes[n++ % sizes.length] as number, field);
      const body = stringifyJson({ ...validBody(endpoint, 'huge-fields'), [field]: value });
      requests.push({ endpoint, body, ct: endpoint === 'events.add_batch' ? JSONL_CT : JSON_CT });
    }
    // The whole body one huge field name, too.
    requests.push({ endpoint, body: `{${JSON.stringify(big(2 * MB, 'key'))}:1}`, ct: JSON_CT });
  }
  await pool(requests, 4, async (r) => {
    await probe(p.url, f, 'huge-field', { path: `/${r.endpoint}`, headers: r.ct, body: r.body }, { download: isDownload(r.endpoint) }, `${r.endpoint} ${r.body.slice(0, 120)}`);
  });
  await assertAlive(p, {}, 'after huge fields');
  f.assertNone('huge strings');
});

test('huge values stored through the gateway read back exactly, through every endpoint and every page', async () => {
  const task = 'huge-task';
  const msg = big(3 * MB, 'msg');
  // Names as long as a request may ask for (16 Ki characters), and a key far longer (it rides in cursors).
  const metric = big(16_000, 'metric');
  const variant = big(12_000, 'variant');
  const key = big(200_000, 'key');
  const longMetric = big(64 * 1024, 'long-metric');
  const url = big(1 * MB, 'url');
  const plotStr = big(5 * MB, 'plot');
  const values = Array.from({ length: 200_000 }, (_, i) => i / 3);
  const T = Date.UTC(2024, 0, 1);
  const events = [
    { type: 'log', task, timestamp: T, msg, level: 'info', worker: 'w' },
    { type: 'training_stats_scalar', task, timestamp: T + 1, iter: 1, metric, variant, value: 1.25 },
    { type: 'training_stats_scalar', task, timestamp: T + 2, iter: 2, metric, variant, value: 2.5 },
    { type: 'training_debug_image', task, timestamp: T + 3, iter: 1, metric, variant, key, url },
    { type: 'training_debug_image', task, timestamp: T + 4, iter: 1, metric: 'm2', variant, key, url: 'u' },
    { type: 'plot', task, timestamp: T + 5, iter: 1, metric, variant, plot_str: plotStr },
    { type: 'training_stats_vector', task, timestamp: T + 6, iter: 1, metric, variant, values },
    { type: 'training_stats_scalar', task, timestamp: T + 7, iter: 3, metric: longMetric, variant: 'v', value: 3 },
  ];
  // Each under the body limit: one request per event.
  for (const e of events) {
    const r = await send(p.url, { path: '/events.add', headers: JSON_CT, body: stringifyJson(e) });
    assert.equal(r.status, 200, r.body.toString().slice(0, 300));
  }
  for (const table of ['logs', 'scalars', 'images', 'plots', 'vectors']) {
    const n = table === 'scalars' ? 3 : table === 'images' ? 2 : 1;
    await p.waitForCount(`SELECT count() FROM ${table} FINAL WHERE task = {task:String}`, n, { task }, 60_000);
  }
  const call = async (endpoint: string, body: Record<string, unknown>): Promise<Envelope> => {
    const r = await send(p.url, { path: `/${endpoint}`, headers: JSON_CT, body: stringifyJson(body) });
    const e = envelope(r);
    assert.equal(r.status, 200, `${endpoint}: ${r.status} ${e.meta.result_msg}`);
    return e;
  };

  const log = await call('events.get_task_log', { task });
  assert.equal((log.data['events'] as Array<{ msg: string }>)[0]?.msg, msg, 'the 3 MB log message');
  const dl = await send(p.url, { path: '/events.download_task_log', headers: JSON_CT, body: JSON.stringify({ task, line_type: 'text', line_format: '{msg}' }) });
  assert.equal(dl.status, 200);
  assert.equal(dl.body.toString('utf8'), `${msg}\n`);

  assert.deepEqual((await call('events.get_scalar_metrics_and_variants', { task })).data, { metrics: { [longMetric]: ['v'], [metric]: [variant] } });
  const latest = await call('events.get_task_latest_scalar_values', { task });
  assert.deepEqual(latest.data['metrics'], [
    { name: longMetric, variants: [{ name: 'v', last_value: 3, last_100_value: 3 }] },
    { name: metric, variants: [{ name: variant, last_value: 2.5, last_100_value: 1.875 }] },
  ]);
  const hist = await call('events.scalar_metrics_iter_histogram', { task });
  assert.deepEqual((hist.data as Record<string, Record<string, { y: number[] }>>)[metric]?.[variant]?.y, [1.25, 2.5]);
  const vm = await call('events.get_vector_metrics_and_variants', { task });
  assert.deepEqual(vm.data, { metrics: [{ metric, variants: [variant] }] });
  const vh = await call('events.vector_metrics_iter_histogram', { task, metric, variant });
  assert.deepEqual(vh.data['vectors'], [values]);
  const plots = await call('events.get_task_plots', { task });
  assert.equal((plots.data['plots'] as Array<{ plot_str: string }>)[0]?.plot_str, plotStr);

  // Scroll with pages of one: each cursor carries the last row's (long) names.
  const pages = async (endpoint: string, body: Record<string, unknown>, list: string): Promise<unknown[]> => {
    const out: unknown[] = [];
    let scroll: string | undefined;
    for (let i = 0; i < 20; i++) {
      const page = await call(endpoint, { ...body, batch_size: 1, ...(scroll ? { scroll_id: scroll } : {}) });
      const items = page.data[list] as unknown[];
      if (items.length === 0) break;
      out.push(...items);
      scroll = page.data['scroll_id'] as string;
    }
    return out;
  };
  const all = (await pages('events.get_task_events', { task }, 'events')) as Array<{ type: string }>;
  assert.equal(all.length, events.length, 'every event, page by page');
  const images = (await pages('v2.1/events.debug_images', { task }, 'images')) as Array<{ key: string; url: string; metric: string }>;
  assert.deepEqual(images.map((i) => [i.metric === metric, i.key === key, i.url === url]), [
    [false, true, false],
    [true, true, true],
  ].sort((a, b) => Number(a[0]) - Number(b[0])));
  // The current forms: long names select, ride in the viewers' cursors and come back exactly.
  type Iterations = { metrics: Array<{ iterations: Array<{ events: Array<{ key: string; url: string; metric: string }> }> }>; scroll_id: string };
  const scroll = (await call('events.debug_images', { metrics: [{ task, metric, variants: [variant] }], iters: 5 })).data as unknown as Iterations;
  assert.deepEqual(scroll.metrics.flatMap((m) => m.iterations.flatMap((i) => i.events.map((e) => [e.metric === metric, e.key === key, e.url === url]))), [[true, true, true]]);
  const viewer = (await call('events.get_debug_image_sample', { task, metric, variant, navigate_current_metric: false })).data as { scroll_id: string; event: { url: string; variant: string } };
  assert.deepEqual([viewer.event.url === url, viewer.event.variant === variant], [true, true]);
  // The other metric's image (same iteration, same variant) is the next step across metrics.
  const step = (await call('events.next_debug_image_sample', { task, scroll_id: viewer.scroll_id, navigate_earlier: true })).data as { event: { metric: string } | null };
  assert.equal(step.event?.metric, 'm2');
  const plotViewer = (await call('events.get_plot_sample', { task, metric })).data as { events: Array<{ plot_str: string }> };
  assert.equal(plotViewer.events[0]?.plot_str, plotStr);
  const metricNames = (await call('events.get_task_metrics', { tasks: [task], event_type: 'training_debug_image' })).data as { metrics: Array<{ metrics: string[] }> };
  assert.deepEqual(metricNames.metrics[0]?.metrics, ['m2', metric].sort());
  const data = (await pages('events.get_scalar_metric_data', { task, metric }, 'events')) as Array<{ value: number }>;
  assert.deepEqual(data.map((e) => e.value), [2.5, 1.25]);
  // A name longer than a request may ask for is a clear 400/12, not a storage error.
  for (const [endpoint, body] of [
    ['events.get_scalar_metric_data', { task, metric: longMetric }],
    ['events.vector_metrics_iter_histogram', { task, metric: longMetric, variant }],
  ] as const) {
    const r = envelope(await send(p.url, { path: `/${endpoint}`, headers: JSON_CT, body: JSON.stringify(body) }));
    assert.deepEqual([r.meta.result_code, r.meta.result_subcode], [400, 12], `${endpoint}: ${r.meta.result_msg}`);
  }
});

// ------------------------------------------------------------------------------ deep nesting

/** JSON nested `depth` levels deep, in one of several shapes. */
function deep(depth: number, shape: 'array' | 'object' | 'mixed' | 'nan' | 'unterminated' | 'in-event'): string {
  switch (shape) {
    case 'array':
      return `{"task":"deep","x":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
    case 'object':
      return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    case 'mixed':
      return `${'{"a":['.repeat(Math.ceil(depth / 2))}${']}'.repeat(Math.ceil(depth / 2))}`;
    case 'nan':
      // The lenient (NaN-token) parser path, whose reviver recurses.
      return `{"type":"training_stats_scalar","task":"deep","value":NaN,"x":${'['.repeat(depth - 1)}NaN${']'.repeat(depth - 1)}}`;
    case 'unterminated':
      return `{"task":"deep","x":${'['.repeat(depth)}`;
    case 'in-event':
      return `{"type":"log","task":"deep","msg":"m","x":${'{"b":'.repeat(depth - 1)}null${'}'.repeat(depth - 1)}}`;
  }
}

test('JSON nested beyond 64 levels, up to a million, is refused on every endpoint; 64 is accepted', async () => {
  const f = findings();
  const shapes = ['array', 'object', 'mixed', 'nan', 'unterminated', 'in-event'] as const;
  const requests: Array<{ endpoint: string; body: string; ct: Record<string, string>; depth: number }> = [];
  for (const endpoint of ALL_ENDPOINTS) {
    for (const depth of [65, 1000, 100_000]) {
      for (const shape of shapes) requests.push({ endpoint, body: deep(depth, shape), ct: endpoint === 'events.add_batch' && depth !== 1000 ? JSONL_CT : JSON_CT, depth });
    }
  }
  for (const endpoint of ['events.add', 'events.add_batch', 'events.get_task_log', 'auth.login']) {
    for (const shape of shapes) requests.push({ endpoint, body: deep(1_000_000, shape), ct: endpoint === 'events.add_batch' ? JSONL_CT : JSON_CT, depth: 1_000_000 });
  }
  await pool(requests, 4, async (r) => {
    const reply = await probe(p.url, f, 'deep', { path: `/${r.endpoint}`, headers: r.ct, body: r.body }, { download: isDownload(r.endpoint) }, `${r.endpoint} depth ${r.depth}: ${r.body.slice(0, 80)}`);
    if (!reply) return;
    // Nothing that deep is ever taken: 400/12 for one object, 400/131 (a rejected line) for json-lines.
    const e = envelope(reply);
    const expected = r.ct === JSONL_CT ? '400/131' : '400/12';
    if (`${e.meta.result_code}/${e.meta.result_subcode}` !== expected) f.add(`depth ${r.depth} answered ${e.meta.result_code}/${e.meta.result_subcode}, expected ${expected}`, `${r.endpoint} ${r.body.slice(0, 80)}`);
  });
  f.assertNone('deep nesting');

  // The limit itself: 64 levels pass, 65 do not (an event is level 1).
  const at = (levels: number) => `{"type":"log","task":"deep","msg":"m","x":${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}}`;
  const ok = await send(p.url, { path: '/events.add', headers: JSON_CT, body: at(64) });
  assert.equal(ok.status, 200, ok.body.toString());
  const tooDeep = envelope(await send(p.url, { path: '/events.add', headers: JSON_CT, body: at(65) }));
  assert.deepEqual([tooDeep.meta.result_code, tooDeep.meta.result_subcode], [400, 12]);
  const lines = await send(p.url, { path: '/events.add_batch', headers: JSONL_CT, body: `${at(64)}\n${at(65)}` });
  assert.deepEqual(envelope(lines).data, { added: 1, errors: 1, errors_info: { 'Validation error: JSON nested too deeply': 1 } });
  await assertAlive(p, {}, 'after deep nesting');
});

// ------------------------------------------------------------------------------ oversized bodies

test('bodies over 16 MiB are 413 in the envelope: plain, chunked, gzip-compressed and gzip bombs', async () => {
  const f = findings();
  const over = Buffer.alloc(DEFAULT_BODY_LIMIT + 1, 0x20);
  Buffer.from('{"task":"x","pad":"').copy(over);
  over[over.length - 2] = 0x22; // '"'
  over[over.length - 1] = 0x7d; // '}'
  const bomb = gzipSync(Buffer.alloc(64 * MB, 0x20), { level: 9 });
  const check413 = (what: string) => (r: RawReply | undefined) => {
    if (!r) return;
    const e = envelope(r);
    if (r.status !== 413 || e.meta.result_subcode !== 0) f.add(`${what}: ${r.status}/${e.meta.result_subcode}, expected 413/0`, what);
  };
  for (const [i, endpoint] of ALL_ENDPOINTS.entries()) {
    const ct = endpoint === 'events.add_batch' ? JSONL_CT : JSON_CT;
    // Alternate GET and POST, a version prefix or not.
    const method = i % 2 === 0 ? 'POST' : 'GET';
    const path = `/${i % 3 === 0 ? 'v2.23/' : ''}${endpoint}`;
    check413(`${endpoint} 16 MiB + 1`)(await probe(p.url, f, 'oversized', { method, path, headers: ct, body: over }));
    check413(`${endpoint} gzip bomb`)(await probe(p.url, f, 'oversized', { method, path, headers: { ...ct, 'content-encoding': 'gzip' }, body: bomb }));
  }
  // Chunked (no Content-Length: refused while streaming) and gzip of a real 17 MiB body.
  check413('chunked')(await probe(p.url, f, 'oversized', { path: '/events.add_batch', headers: JSONL_CT, body: over, chunked: true }));
  check413('gzip 17 MiB')(await probe(p.url, f, 'oversized', { path: '/events.add', headers: { ...JSON_CT, 'content-encoding': 'gzip' }, body: gzipSync(over) }));
  // A lying Content-Length over the limit is refused at once, whatever follows.
  const lying = await send(p.url, { path: '/events.add', headers: { ...JSON_CT, 'content-length': String(DEFAULT_BODY_LIMIT + 10) }, body: Buffer.alloc(DEFAULT_BODY_LIMIT + 10, 0x20) });
  check413('declared over the limit')(lying);
  // Exactly at the limit is not refused for its size.
  const atLimit = Buffer.alloc(DEFAULT_BODY_LIMIT, 0x20);
  Buffer.from('{"type":"log","task":"at-limit","msg":"').copy(atLimit);
  atLimit[atLimit.length - 2] = 0x22;
  atLimit[atLimit.length - 1] = 0x7d;
  const r = await send(p.url, { path: '/events.add', headers: JSON_CT, body: atLimit });
  assert.notEqual(r.status, 413, 'a body of exactly 16 MiB');
  assert.ok(r.status < 500, r.body.toString());
  await assertAlive(p, {}, 'after oversized bodies');
  f.assertNone('oversized bodies');
});

test('events under the body limit that encode larger than Kafka takes: rejected one by one, never a 503', async () => {
  // 1e20 is written in full in the Kafka message: 5 bytes in the body ("1e20,"), 22 in the message.
  const bigValues = (n: number) => `[${'1e20,'.repeat(n - 1)}1e20]`;
  const vectorLine = (task: string, iter: number, n: number) => `{"type":"training_stats_vector","task":"${task}","iter":${iter},"metric":"m","variant":"v","values":${bigValues(n)}}`;
  // One event over 16 MiB once encoded (5 MB in the body): bad, alone => 400/131.
  const alone = envelope(await send(p.url, { path: '/events.add', headers: JSON_CT, body: vectorLine('kafka-big', 0, 1_000_000) }));
  assert.deepEqual([alone.meta.result_code, alone.meta.result_subcode], [400, 131], alone.meta.result_msg);
  assert.match(alone.meta.result_msg, /event too large/);
  // The same beside good events: they are stored, it is counted.
  const mixed = await send(p.url, { path: '/events.add_batch', headers: JSONL_CT, body: [vectorLine('kafka-big', 1, 1_000_000), vectorLine('kafka-big', 2, 10), vectorLine('kafka-big', 3, 10)].join('\n') });
  assert.equal(mixed.status, 200, mixed.body.toString().slice(0, 300));
  assert.deepEqual(envelope(mixed).data, { added: 2, errors: 1, errors_info: { 'Validation error: event too large for the event log': 1 } });
  // Ten events of one task adding up to 22 MB of messages (5 MB in the body): all taken.
  const many = await send(p.url, { path: '/events.add_batch', headers: JSONL_CT, body: Array.from({ length: 10 }, (_, i) => vectorLine('kafka-many', i, 100_000)).join('\n') });
  assert.equal(many.status, 200, many.body.toString().slice(0, 300));
  assert.equal((envelope(many).data as { added: number }).added, 10);
  await p.waitForCount('SELECT count() FROM vectors FINAL WHERE task = {t:String}', 10, { t: 'kafka-many' }, 60_000);
  await p.waitForCount('SELECT count() FROM vectors FINAL WHERE task = {t:String}', 2, { t: 'kafka-big' }, 60_000);
  assert.equal(await p.count('SELECT count() FROM vectors FINAL WHERE task = {t:String}', { t: 'kafka-big' }), 2);
  assert.equal(await p.count("SELECT count() FROM vectors FINAL WHERE task = {t:String} AND length(values) = 100000 AND values[1] = 1e20", { t: 'kafka-many' }), 10);
  await assertAlive(p, {}, 'after events too large for Kafka');
});

// ------------------------------------------------------------------------------ mixed batches

test('10,000-line batches with bad lines mixed in: the good events are stored exactly, the bad counted', async () => {
  const f = findings();
  const batches = 3;
  const T = Date.UTC(2024, 0, 1);
  for (let b = 0; b < batches; b++) {
    const task = `mixed-${SEED}-${b}`;
    // Which lines are bad, and how, comes from the generator; every good line is a unique event.
    const bad = fc.sample(badLineArb, { numRuns: 10_000, seed: SEED + b });
    const pick = fc.sample(fc.integer({ min: 0, max: 99 }), { numRuns: 10_000, seed: SEED + 100 + b });
    const lines: Buffer[] = [];
    const expected = { scalars: [] as Array<[number, number]>, logs: [] as string[], images: [] as number[], plots: [] as number[], vectors: [] as number[] };
    let badCount = 0;
    for (let i = 0; i < 10_000; i++) {
      if ((pick[i] as number) < 30) {
        lines.push(bad[i] as Buffer);
        badCount++;
        continue;
      }
      const base = { task, iter: i, timestamp: T + i };
      let e: Record<string, unknown>;
      switch (i % 5) {
        case 0:
          e = { type: 'training_stats_scalar', ...base, metric: 'loss', variant: 'v', value: i / 7 };
          expected.scalars.push([i, i / 7]);
          break;
        case 1:
          e = { type: 'log', ...base, msg: `line ${i} "'\\{}` };
          expected.logs.push(e['msg'] as string);
          break;
        case 2:
          e = { type: 'training_debug_image', ...base, metric: 'img', variant: 'v', key: 'k', url: `u${i}` };
          expected.images.push(i);
          break;
        case 3:
          e = { type: 'plot', ...base, metric: 'p', variant: 'v', plot_str: `{"i":${i}}` };
          expected.plots.push(i);
          break;
        default:
          e = { type: 'training_stats_vector', ...base, metric: 'vec', variant: 'v', values: [i, -i] };
          expected.vectors.push(i);
      }
      lines.push(Buffer.from(stringifyJson(e)));
    }
    const good = 10_000 - badCount;
    const body = Buffer.concat(lines.flatMap((l, i) => (i === 0 ? [l] : [Buffer.from('\n'), l])));
    const r = await probe(p.url, f, 'mixed-batch', { method: b % 2 === 0 ? 'POST' : 'GET', path: `/${b === 1 ? 'v2.23/' : ''}events.add_batch`, headers: JSONL_CT, body });
    assert.ok(r, 'answered');
    const answer = envelope(r).data as { added: number; errors: number; errors_info: Record<string, number> };
    assert.equal(r.status, 200, JSON.stringify(answer));
    assert.equal(answer.added, good, JSON.stringify(answer.errors_info));
    assert.equal(answer.errors, badCount);
    assert.equal(Object.values(answer.errors_info).reduce((a, c) => a + c, 0), badCount);

    // Everything good is in ClickHouse, exactly once, with its content.
    const where = 'tenant = {tenant:String} AND task = {task:String}';
    const params = { tenant: 'default', task };
    const counts: Array<[string, number]> = [
      ['scalars', expected.scalars.length],
      ['logs', expected.logs.length],
      ['images', expected.images.length],
      ['plots', expected.plots.length],
      ['vectors', expected.vectors.length],
    ];
    for (const [table, n] of counts) await p.waitForCount(`SELECT count() FROM ${table} FINAL WHERE ${where}`, n, params, 60_000);
    for (const [table, n] of counts) assert.equal(await p.count(`SELECT count() FROM ${table} FINAL WHERE ${where}`, params), n, `${table} of batch ${b}`);
    const rows = async <T>(sql: string): Promise<T[]> => (await p.clickhouse.query({ query: sql, query_params: params, format: 'JSONEachRow' })).json<T>();
    const scalars = await rows<{ iter: string; value: number }>(`SELECT iter, value FROM scalars FINAL WHERE ${where} ORDER BY iter`);
    assert.deepEqual(scalars.map((s) => [Number(s.iter), s.value]), expected.scalars);
    const logs = await rows<{ msg: string }>(`SELECT msg FROM logs FINAL WHERE ${where} ORDER BY timestamp`);
    assert.deepEqual(logs.map((l) => l.msg), expected.logs);
    const images = await rows<{ iter: string; url: string }>(`SELECT iter, url FROM images FINAL WHERE ${where} ORDER BY iter`);
    assert.deepEqual(images.map((i) => [Number(i.iter), i.url]), expected.images.map((i) => [i, `u${i}`]));
    const plots = await rows<{ iter: string; plot_str: string }>(`SELECT iter, plot_str FROM plots FINAL WHERE ${where} ORDER BY iter`);
    assert.deepEqual(plots.map((x) => [Number(x.iter), x.plot_str]), expected.plots.map((i) => [i, `{"i":${i}}`]));
    const vectors = await rows<{ iter: string; values: number[] }>(`SELECT iter, values FROM vectors FINAL WHERE ${where} ORDER BY iter`);
    assert.deepEqual(vectors.map((v) => [Number(v.iter), v.values]), expected.vectors.map((i) => [i, [i, -i]]));
  }
  // Bad lines never leak rows: their tasks hold nothing.
  for (const table of ['scalars', 'logs', 'images', 'plots', 'vectors']) {
    assert.equal(await p.count(`SELECT count() FROM ${table} FINAL WHERE task IN ('bad-fields-task', 'bad-utf8-task')`), 0, `rows of bad lines in ${table}`);
  }
  await assertAlive(p, {}, 'after mixed batches');
  f.assertNone('mixed batches');
});

test('the process survived with bounded memory', async () => {
  await waitFor(async () => (await send(p.url, { method: 'GET', path: '/health' })).status === 200, { what: 'health' });
  await assertAlive(p, {}, 'after the whole run');
  forceGc();
  const growth = rssMb() - rss0;
  console.log(`[hostile] rss ${rss0.toFixed(0)} MB -> ${rssMb().toFixed(0)} MB`);
  assert.ok(growth < RSS_GROWTH_LIMIT_MB, `RSS grew by ${growth.toFixed(0)} MB`);
});
