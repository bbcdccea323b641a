/**
 * Issue 5, `npm run bench -- query`: read latency on a realistic store. Seeds one big task
 * (50 metrics x 4 variants x 50,000 iterations = 10M scalar points; 1M in --quick), 1,000 small
 * tasks, and a 1M-line log (200k in --quick) straight into the schema with INSERT ... SELECT,
 * then measures the query service (its own process, as deployed) endpoint by endpoint: p50/p95
 * of the request, next to the time ClickHouse spent on its statements (the service's
 * query_clickhouse_duration_seconds), which leaves the service's own overhead. The get_task_log
 * 2.9 tail page, single values (get_task_single_value_metrics) and 200,000-point pages of
 * scalar_metrics_iter_raw (pages/s, MB/s) are also set beside their statements run straight in
 * ClickHouse through @clickhouse/client. A big debug-image task (4 metrics x 10 variants x 25,000
 * iterations = 1M images, file names reused every 100 iterations as the SDK does; 100k in
 * --quick) measures one step of the image viewer (next_debug_image_sample) the same way.
 */
import { request as httpRequest } from 'node:http';
import { createClickHouse, migrate, type ClickHouseClient } from '@trackstream/clickhouse';
import { BOUNDARY_LINES, COUNT_LOGS, imageStepStatement, MAX_SINGLE_VALUES, metricFilter, navigatedPageStatements, rawPageStatement, singleValuesStatement, stepCandidates, type ImageSampleState } from '@trackstream/query';
import { createLogger } from '@trackstream/runtime';
import type { Benchmark } from './harness';
import { fixed, int, progress } from './progress';
import { startService, uniqueId } from './services';
import { percentile } from './stats';

const BIG = 'big-task';
const BIG_IMAGES = 'big-images-task';
const IMAGE_METRICS = 4;
const IMAGE_VARIANTS = 10;
/** The SDK's default file_history_size: a variant's file names come back every 100 iterations. */
const FILE_HISTORY = 100;
const METRICS = 50;
const VARIANTS = 4;
/** Single values ("Summary", iteration -2147483648) of the big task. */
const SINGLE_VALUES = 20;
const RAW_PAGE = 200_000;

interface Probe {
  name: string;
  endpoint: string;
  /** The path's version; none: the newest handler. */
  version?: string;
  body: Record<string, unknown>;
  /** p95 target in ms. */
  targetMs: number;
  /** Accept-Encoding: identity (the service's own work) unless told. */
  encoding?: 'gzip';
}

export const queryBenchmark: Benchmark = {
  name: 'query',
  description: 'read endpoints on 10M scalar points and a 1M-line log: p50/p95 vs the ClickHouse time (issue 5)',
  async run({ stack, quick, defer }) {
    const iters = quick ? 5_000 : 50_000;
    const smallTasks = quick ? 200 : 1_000;
    const logLines = quick ? 200_000 : 1_000_000;
    const repeats = quick ? 10 : 30;
    const db = uniqueId('bench_query');
    const logger = createLogger({ service: 'bench', level: 'warn' });
    const ch = createClickHouse({ url: stack.clickhouseUrl, database: db, requestTimeoutMs: 600_000 });
    defer(() => ch.close());
    await migrate({ url: stack.clickhouseUrl, database: db }, { logger });

    const t0 = performance.now();
    progress(`seeding ${int(METRICS * VARIANTS * iters)} points of ${BIG}, ${smallTasks} small tasks, ${int(logLines)} log lines`);
    // Values like a training run's: a decaying loss with noise, float32 precision.
    const value = `toFloat64(toFloat32(exp(-iter / ${iters / 4}) + 0.01 * randNormal(0, 1)))`;
    for (let m = 0; m < METRICS; m += 10) {
      await ch.command({
        query: `INSERT INTO scalars (tenant, task, metric, variant, iter, value, timestamp, received_at, version)
          SELECT 'default', '${BIG}', concat('metric_', toString(${m} + intDiv(number, ${VARIANTS * iters}))),
                 concat('variant_', toString(intDiv(number, ${iters}) % ${VARIANTS})), number % ${iters} AS iter, ${value},
                 fromUnixTimestamp64Milli(toInt64(1700000000000 + iter * 1000)), now64(3), number
          FROM numbers(${10 * VARIANTS * iters})`,
      });
      progress(`  ${BIG}: metrics ${m}..${m + 9} stored`);
    }
    await ch.command({
      query: `INSERT INTO scalars (tenant, task, metric, variant, iter, value, timestamp, received_at, version)
        SELECT 'default', '${BIG}', 'Summary', concat('value_', toString(number)), -2147483648, number / 7,
               fromUnixTimestamp64Milli(toInt64(1700000000000 + number)), now64(3), 1000000000000 + number
        FROM numbers(${SINGLE_VALUES})`,
    });
    await ch.command({
      query: `INSERT INTO scalars (tenant, task, metric, variant, iter, value, timestamp, received_at, version)
        SELECT 'default', concat('small-', toString(intDiv(number, 500))), concat('metric_', toString(intDiv(number, 100) % 5)), 'v',
               number % 100 AS iter, ${value}, fromUnixTimestamp64Milli(toInt64(1700000000000 + iter * 1000)), now64(3), number
        FROM numbers(${smallTasks * 500})`,
    });
    await ch.command({
      query: `INSERT INTO logs (tenant, task, timestamp, seq, iter, level, worker, msg, received_at, version)
        SELECT 'default', '${BIG}', fromUnixTimestamp64Milli(toInt64(1700000000000 + intDiv(number, 3))), number, intDiv(number, 20),
               ['info', 'warning', 'debug'][number % 3 + 1], 'gpu-worker-1',
               concat('step ', toString(number), ': loss=', toString(round(exp(-number / 1e5), 5)), ' lr=0.001 throughput=1234.5 samples/s'),
               now64(3), number
        FROM numbers(${logLines})`,
    });
    const imageIters = quick ? 2_500 : 25_000;
    await ch.command({
      query: `INSERT INTO images (tenant, task, metric, variant, iter, key, url, timestamp, received_at, version)
        SELECT 'default', '${BIG_IMAGES}', concat('metric_', toString(intDiv(number, ${IMAGE_VARIANTS * imageIters}))) AS m,
               concat('variant_', toString(intDiv(number, ${imageIters}) % ${IMAGE_VARIANTS})) AS v, number % ${imageIters} AS iter, 'k',
               concat('s3://bucket/${BIG_IMAGES}/', m, '/', v, '/', toString(iter % ${FILE_HISTORY}), '.png'),
               fromUnixTimestamp64Milli(toInt64(1700000000000 + iter * 1000)), now64(3), number
        FROM numbers(${IMAGE_METRICS * IMAGE_VARIANTS * imageIters})`,
    });
    const seedSec = (performance.now() - t0) / 1000;
    progress(`seeded in ${fixed(seedSec)} s`);

    const query = await startService('query', { CLICKHOUSE_URL: stack.clickhouseUrl, CLICKHOUSE_DATABASE: db, LOG_LEVEL: 'warn' });
    defer(() => query.stop());
    await query.healthy();

    const tenTasks = [BIG, ...Array.from({ length: 9 }, (_, i) => `small-${i}`)];
    const probes: Probe[] = [
      { name: 'scalar_metrics_iter_histogram (samples 2000)', endpoint: 'events.scalar_metrics_iter_histogram', body: { task: BIG, samples: 2000 }, targetMs: 300 },
      { name: 'scalar_metrics_iter_histogram (samples 2000, gzip)', endpoint: 'events.scalar_metrics_iter_histogram', body: { task: BIG, samples: 2000 }, targetMs: 300, encoding: 'gzip' },
      // The current API's default (what the SDK's 2.23 body gets).
      { name: 'scalar_metrics_iter_histogram 2.23 (samples 6000)', endpoint: 'events.scalar_metrics_iter_histogram', version: '2.23', body: { task: BIG, samples: 6000 }, targetMs: 300 },
      { name: 'scalar_metrics_iter_histogram 2.23 (samples 6000, gzip)', endpoint: 'events.scalar_metrics_iter_histogram', version: '2.23', body: { task: BIG, samples: 6000 }, targetMs: 300, encoding: 'gzip' },
      // Timestamps as the key: read from the points (docs/api.md).
      { name: 'scalar_metrics_iter_histogram (samples 2000, key timestamp)', endpoint: 'events.scalar_metrics_iter_histogram', body: { task: BIG, samples: 2000, key: 'timestamp' }, targetMs: 3000 },
      { name: 'multi_task_scalar_metrics_iter_histogram (10 tasks)', endpoint: 'events.multi_task_scalar_metrics_iter_histogram', body: { tasks: tenTasks, samples: 2000 }, targetMs: 300 },
      { name: 'get_task_latest_scalar_values', endpoint: 'events.get_task_latest_scalar_values', body: { task: BIG }, targetMs: 100 },
      { name: 'get_task_log 1.7, tail page of 500', endpoint: 'events.get_task_log', version: '1.7', body: { task: BIG, from: 'tail', batch_size: 500 }, targetMs: 100 },
      // The UI console tab's first page: the last 1000 lines, newest first.
      { name: 'get_task_log 2.9, tail page of 1000', endpoint: 'events.get_task_log', version: '2.9', body: { task: BIG, batch_size: TAIL }, targetMs: 100 },
      { name: `get_task_single_value_metrics (${SINGLE_VALUES} values among the 10M points)`, endpoint: 'events.get_task_single_value_metrics', body: { tasks: [BIG] }, targetMs: 100 },
      {
        name: 'debug_images 2.22 (UI: 3 iterations of one metric of the image task)',
        endpoint: 'events.debug_images',
        body: { metrics: [{ task: BIG_IMAGES, metric: 'metric_1' }], iters: 3, navigate_earlier: true, refresh: false },
        targetMs: 300,
      },
    ];
    const rows: Array<Array<string | number>> = [];
    const results: Record<string, unknown> = { seedSec };
    for (const p of probes) {
      const path = `${p.version ? `v${p.version}/` : ''}${p.endpoint}`;
      const headers = { 'accept-encoding': p.encoding ?? 'identity' };
      let bytes = 0;
      for (let i = 0; i < 2; i++) bytes = await post(query.url, path, p.body, headers); // warm-up
      const before = await query.metrics();
      const ms: number[] = [];
      for (let i = 0; i < repeats; i++) {
        const t = performance.now();
        await post(query.url, path, p.body, headers);
        ms.push(performance.now() - t);
      }
      const after = await query.metrics();
      const chSec = chSeconds(after, p.endpoint) - chSeconds(before, p.endpoint);
      ms.sort((a, b) => a - b);
      const mean = ms.reduce((s, x) => s + x, 0) / ms.length;
      const chMean = (chSec * 1000) / repeats;
      const p95 = percentile(ms, 95);
      results[p.name] = { p50: percentile(ms, 50), p95, meanMs: mean, clickhouseMeanMs: chMean, bytesOnTheWire: bytes };
      rows.push([`${p.name}: ${fixed(bytes / 1e6, 1)} MB on the wire`, fixed(percentile(ms, 50)), fixed(p95), fixed(chMean), fixed(mean - chMean), `< ${p.targetMs}`, p95 < p.targetMs ? 'met' : 'MISSED']);
      progress(`${p.name}: p50 ${fixed(percentile(ms, 50))} ms, p95 ${fixed(p95)} ms (ClickHouse ${fixed(chMean)} ms a request)`);
    }

    // The 2.9 tail page's statements straight through @clickhouse/client, scheduled as the
    // service runs them: the page beside the count, then the rest of the page's last millisecond.
    const tail = await timeTailStatements(ch, repeats);
    results['get_task_log 2.9 statements in ClickHouse'] = tail;
    const tailRow = rows.findIndex((r) => String(r[0]).startsWith('get_task_log 2.9'));
    rows.splice(tailRow + 1, 0, [
      '  its statements run directly (page ‖ count, then rest)',
      fixed(tail.p50),
      fixed(tail.p95),
      fixed(tail.meanMs),
      '',
      '',
      `page ${fixed(tail.pageMeanMs)}, count ${fixed(tail.countMeanMs)}, rest ${fixed(tail.restMeanMs)} ms`,
    ]);
    progress(`get_task_log 2.9 statements directly: p50 ${fixed(tail.p50)} ms, p95 ${fixed(tail.p95)} ms (page ${fixed(tail.pageMeanMs)}, count ${fixed(tail.countMeanMs)}, rest ${fixed(tail.restMeanMs)} ms)`);
    // The image viewer: one step from the latest image of a variant, through the service and as
    // the same statement straight to ClickHouse. A cursor is stateless: each request resends it.
    const viewerRows: Array<Array<string | number>> = [];
    const open = await postJson<{ scroll_id: string }>(query.url, 'events.get_debug_image_sample', { task: BIG_IMAGES, metric: 'metric_1', variant: 'variant_5' });
    const state = cursorState<ImageSampleState>(open.scroll_id);
    const steps = [
      { name: 'previous variant, same iteration', where: 'same' as const, body: { task: BIG_IMAGES, scroll_id: open.scroll_id, navigate_earlier: true } },
      { name: 'previous iteration (next_iteration)', where: 'other' as const, body: { task: BIG_IMAGES, scroll_id: open.scroll_id, navigate_earlier: true, next_iteration: true } },
    ];
    for (const step of steps) {
      const endpoint = 'events.next_debug_image_sample';
      const shown = await postJson<{ event: { iter: number; variant: string } | null }>(query.url, endpoint, step.body);
      if (!shown.event) throw new Error(`${endpoint} (${step.name}): no image`);
      await post(query.url, endpoint, step.body);
      const before = await query.metrics();
      const ms: number[] = [];
      for (let i = 0; i < repeats; i++) {
        const t = performance.now();
        await post(query.url, endpoint, step.body);
        ms.push(performance.now() - t);
      }
      const chMean = ((chSeconds(await query.metrics(), endpoint) - chSeconds(before, endpoint)) * 1000) / repeats;
      const statement = imageStepStatement(BIG_IMAGES, state.at?.[2] ?? '0', stepCandidates(state, step.where, true), step.where, true);
      const direct = await timeStepStatement(ch, statement, repeats);
      ms.sort((x, y) => x - y);
      const key = `next_debug_image_sample: ${step.name}`;
      results[key] = { p50: percentile(ms, 50), p95: percentile(ms, 95), clickhouseViaServiceMeanMs: chMean, directP50: percentile(direct, 50), directP95: percentile(direct, 95) };
      viewerRows.push([step.name, fixed(percentile(ms, 50)), fixed(percentile(ms, 95)), fixed(chMean), fixed(percentile(direct, 50)), fixed(percentile(direct, 95))]);
      progress(`${key}: p50 ${fixed(percentile(ms, 50))} ms, p95 ${fixed(percentile(ms, 95))} ms; the statement directly: p50 ${fixed(percentile(direct, 50))} ms`);
    }

    // download_task_log: the whole log, streamed; lines/s as the client receives them.
    const t = performance.now();
    const res = await fetch(`${query.url}/events.download_task_log`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task: BIG, line_type: 'text' }) });
    let lines = 0;
    const reader = res.body!.getReader();
    for (;;) {
      const { done, value: chunk } = await reader.read();
      if (done) break;
      for (const byte of chunk) if (byte === 10) lines++;
    }
    const dlSec = (performance.now() - t) / 1000;
    if (lines !== logLines) throw new Error(`download_task_log: ${lines} lines of ${logLines}`);
    const linesPerSec = lines / dlSec;
    results['download_task_log'] = { lines, seconds: dlSec, linesPerSec };
    rows.push(['download_task_log (whole log, text lines)', `${fixed(dlSec, 2)} s`, '', '', '', '>= 200,000 lines/s', linesPerSec >= 200_000 ? `met (${int(linesPerSec)}/s)` : `MISSED (${int(linesPerSec)}/s)`]);
    progress(`download_task_log: ${int(lines)} lines in ${fixed(dlSec, 2)} s = ${int(linesPerSec)} lines/s`);

    // The same statements straight through @clickhouse/client: the ceiling of each endpoint.
    const direct: Array<Array<string | number>> = [];
    const singleMs = await timeStatement(ch, singleValuesStatement(''), { tasks: [BIG], limit: MAX_SINGLE_VALUES }, repeats);
    const single = Object.entries(results).find(([k]) => k.startsWith('get_task_single_value_metrics'))?.[1] as { p50: number; meanMs: number };
    results['get_task_single_value_metrics_direct'] = { meanMs: singleMs.meanMs };
    direct.push(['get_task_single_value_metrics', fixed(single.p50), fixed(single.meanMs), fixed(singleMs.meanMs), '', '']);
    progress(`get_task_single_value_metrics: the statement straight in ClickHouse ${fixed(singleMs.meanMs)} ms`);

    // scalar_metrics_iter_raw: the first page of a metric (its 4 variants' points, 200,000 in full
    // mode) at batch_size 200,000, a different metric each time; pages/s and MB/s as the client
    // receives them, next to the page statement run straight in ClickHouse.
    const pagePoints = Math.min(RAW_PAGE, VARIANTS * iters);
    const rawBody = (i: number) => ({ task: BIG, metric: { metric: `metric_${i % METRICS}`, variants: [] }, key: 'iter', batch_size: RAW_PAGE });
    const check = JSON.parse(await (await fetch(`${query.url}/events.scalar_metrics_iter_raw`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rawBody(0)) })).text()) as { data: { returned: number } };
    if (check.data.returned !== pagePoints) throw new Error(`scalar_metrics_iter_raw: ${check.data.returned} points in the page, expected ${pagePoints}`);
    const rawMs: number[] = [];
    let rawBytes = 0;
    for (let i = 0; i < repeats; i++) {
      const t1 = performance.now();
      const r = await fetch(`${query.url}/events.scalar_metrics_iter_raw`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rawBody(i + 1)) });
      const bytes = (await r.arrayBuffer()).byteLength;
      if (r.status !== 200) throw new Error(`scalar_metrics_iter_raw: ${r.status}`);
      rawMs.push(performance.now() - t1);
      rawBytes += bytes;
    }
    let rawDirectMs = 0;
    let rawDirectBytes = 0;
    for (let i = 0; i < repeats; i++) {
      const filter = metricFilter([{ metric: `metric_${(i + 1) % METRICS}` }]);
      const t1 = performance.now();
      const rs = await ch.query({ query: rawPageStatement('iter', filter.sql, false), query_params: { tenant: 'default', task: BIG, limit: RAW_PAGE, ...filter.params }, format: 'JSONEachRow' });
      rawDirectBytes += Buffer.byteLength(await rs.text());
      rawDirectMs += performance.now() - t1;
    }
    rawMs.sort((a, b) => a - b);
    const rawSec = rawMs.reduce((a, b) => a + b, 0) / 1000;
    const raw = {
      pointsPerPage: pagePoints,
      p50: percentile(rawMs, 50),
      p95: percentile(rawMs, 95),
      pagesPerSec: repeats / rawSec,
      mbPerSec: rawBytes / 1e6 / rawSec,
      bytesPerPage: rawBytes / repeats,
      directMeanMs: rawDirectMs / repeats,
      directMbPerSec: rawDirectBytes / 1e6 / (rawDirectMs / 1000),
    };
    results['scalar_metrics_iter_raw'] = raw;
    direct.push([
      `scalar_metrics_iter_raw (${int(pagePoints)} points a page)`,
      fixed(raw.p50),
      fixed((rawSec * 1000) / repeats),
      fixed(raw.directMeanMs),
      `${fixed(raw.pagesPerSec, 2)} pages/s, ${fixed(raw.mbPerSec)} MB/s (${fixed(raw.bytesPerPage / 1e6, 2)} MB a page)`,
      `${fixed(1000 / raw.directMeanMs, 2)} pages/s, ${fixed(raw.directMbPerSec)} MB/s of chunk rows`,
    ]);
    progress(`scalar_metrics_iter_raw: ${int(pagePoints)} points a page, p50 ${fixed(raw.p50)} ms, ${fixed(raw.pagesPerSec, 2)} pages/s, ${fixed(raw.mbPerSec)} MB/s; the statement straight in ClickHouse ${fixed(raw.directMeanMs)} ms`);

    return {
      params: { iters, metrics: METRICS, variants: VARIANTS, smallTasks, logLines, repeats, singleValues: SINGLE_VALUES, rawPage: RAW_PAGE, imageIters, imageMetrics: IMAGE_METRICS, imageVariants: IMAGE_VARIANTS },
      results,
      tables: [
        {
          title: `Read latency (ms), ${int(METRICS * VARIANTS * iters)} points in the big task, ${repeats} requests each, one at a time`,
          columns: ['endpoint', 'p50', 'p95', 'ClickHouse, mean', 'service overhead, mean', 'target (p95)', ''],
          rows,
        },
        {
          title: `Next to the same statement run straight in ClickHouse (@clickhouse/client, JSONEachRow), ${repeats} requests each, one at a time`,
          columns: ['endpoint', 'service p50 (ms)', 'service mean (ms)', 'statement in ClickHouse, mean (ms)', 'service throughput', 'statement throughput'],
          rows: direct,
        },
        {
          title: `Image viewer step (next_debug_image_sample, ms), ${int(IMAGE_METRICS * IMAGE_VARIANTS * imageIters)} images in the task, ${repeats} requests each`,
          columns: ['step', 'p50', 'p95', 'ClickHouse via the service, mean', 'same statement directly, p50', 'directly, p95'],
          rows: viewerRows,
        },
      ],
      notes: [
        `Seeded straight into the schema with INSERT ... SELECT in ${fixed(seedSec)} s (not through the gateway: this measures reads).`,
        'The query service runs in its own process (services/query/dist/main.js); requests are sent one at a time with fetch.',
        "ClickHouse time: the service's query_clickhouse_duration_seconds (each statement, rows received and parsed) summed over the requests; overhead = request mean - that.",
        `get_task_log 2.9's statements run directly: the same statement texts and parameters (exported by the query service), through @clickhouse/client on the same ClickHouse, ${repeats} times after 2 warm-ups; its "ClickHouse, mean" column is the whole schedule's mean, the last column each statement's.`,
      ],
    };
  },
};

/** The UI console tab's page size. */
const TAIL = 1000;

/** Times get_task_log 2.9's statements for the big task's tail page, as the service schedules them. */
async function timeTailStatements(ch: ClickHouseClient, repeats: number) {
  const sql = navigatedPageStatements(true, false);
  const base = { tenant: 'default', task: BIG };
  const run = async <T>(query: string, params: Record<string, unknown>): Promise<{ rows: T[]; ms: number }> => {
    const t = performance.now();
    const rs = await ch.query({ query, query_params: { ...base, ...params }, format: 'JSONEachRow' });
    const rows = (await rs.json<T>()) as T[];
    return { rows, ms: performance.now() - t };
  };
  const once = async () => {
    const t = performance.now();
    const [page, count] = await Promise.all([run<{ ts: string; seq: string }>(sql.page, { limit: TAIL }), run(COUNT_LOGS, {})]);
    const last = page.rows.at(-1);
    // As in the service: only a full page is completed to its millisecond boundary.
    const rest = last && page.rows.length === TAIL ? await run(sql.rest, { edge: String(last.ts), seq: last.seq, limit: BOUNDARY_LINES + 1 }) : { rows: [], ms: 0 };
    return { total: performance.now() - t, page: page.ms, count: count.ms, rest: rest.ms, lines: page.rows.length + rest.rows.length };
  };
  for (let i = 0; i < 2; i++) await once(); // warm-up
  const runs = [];
  for (let i = 0; i < repeats; i++) runs.push(await once());
  const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
  const totals = runs.map((r) => r.total).sort((a, b) => a - b);
  return {
    p50: percentile(totals, 50),
    p95: percentile(totals, 95),
    meanMs: mean(totals),
    pageMeanMs: mean(runs.map((r) => r.page)),
    countMeanMs: mean(runs.map((r) => r.count)),
    restMeanMs: mean(runs.map((r) => r.rest)),
    lines: runs[0]?.lines ?? 0,
  };
}

/** Mean time of `query` run `repeats` times straight through the client, its whole result read. */
async function timeStatement(ch: ClickHouseClient, query: string, params: Record<string, unknown>, repeats: number): Promise<{ meanMs: number }> {
  let total = 0;
  for (let i = 0; i < repeats + 2; i++) {
    const t = performance.now();
    const rs = await ch.query({ query, query_params: { tenant: 'default', ...params }, format: 'JSONEachRow' });
    await rs.json();
    if (i >= 2) total += performance.now() - t; // two warm-up runs, as for the endpoints
  }
  return { meanMs: total / repeats };
}

async function postJson<T>(url: string, endpoint: string, body: Record<string, unknown>): Promise<T> {
  const res = await fetch(`${url}/${endpoint}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as { data: T };
  if (res.status !== 200) throw new Error(`${endpoint}: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
  return json.data;
}

/** A scroll cursor's state (its signed token's claims, read without checking: the bench made it). */
function cursorState<S>(token: string): S {
  const payload = token.split('.')[1] ?? '';
  return (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { k: S }).k;
}

/** The statement run `repeats` times as the service runs it (JSONEachRow, parsed), ms each. */
async function timeStepStatement(ch: ClickHouseClient, statement: { query: string; params: Record<string, unknown> }, repeats: number): Promise<number[]> {
  const run = async () => (await ch.query({ query: statement.query, query_params: { ...statement.params, tenant: 'default' }, format: 'JSONEachRow', use_multipart_params_auto: true })).json();
  for (let i = 0; i < 2; i++) await run();
  const ms: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    await run();
    ms.push(performance.now() - t);
  }
  return ms.sort((x, y) => x - y);
}

/** POSTs `body`; the answer's size as sent (compressed, if it was). fetch would decompress a gzipped answer itself: node:http does not. */
async function post(url: string, endpoint: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<number> {
  const text = JSON.stringify(body);
  return new Promise<number>((resolve, reject) => {
    const req = httpRequest(`${url}/${endpoint}`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers } }, (res) => {
      let bytes = 0;
      const head: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (head.length < 4) head.push(c);
      });
      res.on('end', () => (res.statusCode === 200 ? resolve(bytes) : reject(new Error(`${endpoint}: ${res.statusCode} ${Buffer.concat(head).toString('utf8').slice(0, 300)}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(text);
  });
}

function chSeconds(metrics: string, endpoint: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith('query_clickhouse_duration_seconds_sum') && l.includes(`endpoint="${endpoint}"`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}
