/**
 * Issue 5, `npm run bench -- query`: read latency on a realistic store. Seeds one big task
 * (50 metrics x 4 variants x 50,000 iterations = 10M scalar points; 1M in --quick), 1,000 small
 * tasks, and a 1M-line log (200k in --quick) straight into the schema with INSERT ... SELECT,
 * then measures the query service (its own process, as deployed) endpoint by endpoint: p50/p95
 * of the request, next to the time ClickHouse spent on its statements (the service's
 * query_clickhouse_duration_seconds), which leaves the service's own overhead. A big debug-image
 * task (4 metrics x 10 variants x 25,000 iterations = 1M images, file names reused every 100
 * iterations as the SDK does; 100k in --quick) measures one step of the image viewer
 * (next_debug_image_sample) next to the same statement run directly in ClickHouse.
 */
import { createClickHouse, migrate, type ClickHouseClient } from '@trackstream/clickhouse';
import { imageStepStatement, stepCandidates, type ImageSampleState } from '@trackstream/query';
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

interface Probe {
  name: string;
  endpoint: string;
  body: Record<string, unknown>;
  /** p95 target in ms. */
  targetMs: number;
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
      { name: 'multi_task_scalar_metrics_iter_histogram (10 tasks)', endpoint: 'events.multi_task_scalar_metrics_iter_histogram', body: { tasks: tenTasks, samples: 2000 }, targetMs: 300 },
      { name: 'get_task_latest_scalar_values', endpoint: 'events.get_task_latest_scalar_values', body: { task: BIG }, targetMs: 100 },
      { name: 'get_task_log, tail page of 500', endpoint: 'events.get_task_log', body: { task: BIG, from: 'tail', batch_size: 500 }, targetMs: 100 },
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
      for (let i = 0; i < 2; i++) await post(query.url, p.endpoint, p.body); // warm-up
      const before = await query.metrics();
      const ms: number[] = [];
      for (let i = 0; i < repeats; i++) {
        const t = performance.now();
        await post(query.url, p.endpoint, p.body);
        ms.push(performance.now() - t);
      }
      const after = await query.metrics();
      const chSec = chSeconds(after, p.endpoint) - chSeconds(before, p.endpoint);
      ms.sort((a, b) => a - b);
      const mean = ms.reduce((s, x) => s + x, 0) / ms.length;
      const chMean = (chSec * 1000) / repeats;
      const p95 = percentile(ms, 95);
      results[p.endpoint] = { p50: percentile(ms, 50), p95, meanMs: mean, clickhouseMeanMs: chMean };
      rows.push([p.name, fixed(percentile(ms, 50)), fixed(p95), fixed(chMean), fixed(mean - chMean), `< ${p.targetMs}`, p95 < p.targetMs ? 'met' : 'MISSED']);
      progress(`${p.name}: p50 ${fixed(percentile(ms, 50))} ms, p95 ${fixed(p95)} ms (ClickHouse ${fixed(chMean)} ms a request)`);
    }

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
      const direct = await timeStatement(ch, statement, repeats);
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

    return {
      params: { iters, metrics: METRICS, variants: VARIANTS, smallTasks, logLines, repeats, imageIters, imageMetrics: IMAGE_METRICS, imageVariants: IMAGE_VARIANTS },
      results,
      tables: [
        {
          title: `Read latency (ms), ${int(METRICS * VARIANTS * iters)} points in the big task, ${repeats} requests each, one at a time`,
          columns: ['endpoint', 'p50', 'p95', 'ClickHouse, mean', 'service overhead, mean', 'target (p95)', ''],
          rows,
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
      ],
    };
  },
};

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
async function timeStatement(ch: ClickHouseClient, statement: { query: string; params: Record<string, unknown> }, repeats: number): Promise<number[]> {
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

async function post(url: string, endpoint: string, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${url}/${endpoint}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${endpoint}: ${res.status} ${text.slice(0, 300)}`);
}

function chSeconds(metrics: string, endpoint: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith('query_clickhouse_duration_seconds_sum') && l.includes(`endpoint="${endpoint}"`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}
