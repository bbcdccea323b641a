/**
 * Issue 6, `npm run bench` (or `npm run bench -- cluster`): the end-to-end cluster simulation.
 * The whole pipeline runs as ONE all-in-one child process (services/all-in-one/dist/main.js, as
 * `npm start` runs it) on an isolated stack; this process simulates a training cluster of
 * `--tasks` SDK clients (cluster-sim.ts) offering `--rate` events/s, and measures, over each
 * phase's window (after ramp and warm-up):
 *  - events/s offered, acknowledged (200s), and queryable (slope of count() per table, polled without FINAL);
 *  - add_batch latency; freshness = 200 reply -> the batch's last scalar iteration visible
 *    through events.get_task_latest_scalar_values (last_iter), for a sample of batches;
 *  - CPU seconds and RSS of the all-in-one process, Kafka, ClickHouse and this process (/proc);
 * then at the end: every acknowledged event stored exactly once (acked per kind vs count()
 * FINAL per table); and the ceilings of the same run: kafkajs producing gateway-made messages of
 * scalars (closed loop), @clickhouse/client inserting the same rows (insert-ceiling.ts).
 *
 * Full mode: a phase at `--rate` (default 104,000 events/s, ~100,000 of them scalars), then one
 * at half of it (the latency target's load); `--rate` given twice sets both. Quick: one phase.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CompressionTypes, Partitioners } from 'kafkajs';
import { createClickHouse, type ClickHouseClient } from '@trackstream/clickhouse';
import { createKafka, ensureTopics, parseBrokers } from '@trackstream/kafka';
import { createLogger } from '@trackstream/runtime';
import { Cluster, KINDS, addCounts, totalOf, zeroCounts, type KindCounts } from './cluster-sim';
import { ownCpuSeconds, stackCpuSeconds } from './cpu';
import { batchReports, gatewayMessages } from './data';
import type { Benchmark } from './harness';
import { HttpClient } from './http-client';
import { insertCeiling } from './insert-ceiling';
import { closedLoop } from './load';
import { metricSum } from './metrics-text';
import { ProcMonitor, topSelfTime, type ProcWindow } from './procmon';
import { every, fixed, int, pct, progress } from './progress';
import type { Table } from './report';
import { pipelineConfig, pipelineEnv, startService, uniqueId } from './services';
import { percentile } from './stats';
import { parseVariants, type Variant } from './variants';

const TABLE_OF: Record<(typeof KINDS)[number], string> = { scalars: 'scalars', vectors: 'vectors', images: 'images', plots: 'plots', logs: 'logs' };
const DEFAULT_RATE = 104_000;
const DEFAULT_TASKS = 200;
const TARGET_SCALARS_PER_SEC = 100_000;
const TARGET_P99_MS = 100;
const TARGET_FRESHNESS_P95_MS = 2000;
const SAMPLE_EVERY = 50;
const MAX_PENDING_SAMPLES = 8;
const POLL_MS = 200;

interface Args {
  tasks: number;
  rates: number[];
}

/** --tasks N, --rate R (twice: two phases). Exported for main.ts's validation. */
export function parseClusterArgs(argv: readonly string[], quick: boolean): Args {
  let tasks = DEFAULT_TASKS;
  const rates: number[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const [flag, inline] = a.split('=', 2) as [string, string | undefined];
    if (flag !== '--tasks' && flag !== '--rate') continue;
    const v = Number(inline ?? argv[++i]);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${flag} wants a positive number`);
    if (flag === '--tasks') tasks = Math.round(v);
    else rates.push(v);
  }
  if (rates.length === 0) rates.push(DEFAULT_RATE);
  if (rates.length === 1 && !quick) rates.push((rates[0] as number) / 2);
  return { tasks, rates };
}

interface Latency {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** A whole number, or '-' when there is none (no samples). */
function num(n: number): string {
  return Number.isFinite(n) ? int(n) : '-';
}

function lat(values: number[]): Latency {
  const s = [...values].sort((a, b) => a - b);
  return { count: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN };
}

interface PhaseResult {
  label: string;
  targetRate: number;
  seconds: number;
  generatedPerSec: number;
  offeredPerSec: number;
  ackedPerSec: number;
  ackedScalarsPerSec: number;
  queryablePerSec: number;
  queryableScalarsPerSec: number;
  requestsPerSec: number;
  meanBatch: number;
  retries: number;
  failed: number;
  firstProblem: string | undefined;
  notAdded: number;
  clientBacklogAtEnd: number;
  unsentDropped: number;
  latencyMs: Latency;
  freshnessMs: Latency;
  freshnessUnresolved: number;
  procs: Record<string, ProcWindow>;
  pipeline: PipelineFigures;
  cpuMsPer1000Acked: Record<string, number>;
}

/** From the all-in-one's /metrics, over a phase window. */
interface PipelineFigures {
  writerRowsPerSec: number;
  writerInserts: number;
  writerInsertSec: number;
  writerInsertMsMean: number;
  writerInsertFailures: number;
  /** Acked but not yet counted in ClickHouse at the window's end (Kafka + the writer's buffers). */
  notYetStoredAtEnd: number;
  gatewayRefused: number;
  produceMsMean: number;
  countPollMsMean: number;
  countPollMsMax: number;
}

/** The sum of `name` over the samples whose labels include `label` (e.g. outcome="refused"). */
function metricWith(text: string, name: string, label: string): number {
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) && line.includes(label)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

function pipelineFigures(before: string, after: string, seconds: number, polls: readonly number[], notYetStoredAtEnd: number): PipelineFigures {
  const d = (name: string) => metricSum(after, name) - metricSum(before, name);
  const inserts = d('writer_insert_duration_seconds_count');
  const insertSec = d('writer_insert_duration_seconds_sum');
  const produces = d('gateway_produce_duration_seconds_count');
  return {
    writerRowsPerSec: d('writer_rows_written_total') / seconds,
    writerInserts: inserts,
    writerInsertSec: insertSec,
    writerInsertMsMean: (insertSec * 1000) / Math.max(1, inserts),
    writerInsertFailures: d('writer_insert_failures_total'),
    notYetStoredAtEnd,
    gatewayRefused: metricWith(after, 'gateway_events_total', 'outcome="refused"') - metricWith(before, 'gateway_events_total', 'outcome="refused"'),
    produceMsMean: (d('gateway_produce_duration_seconds_sum') * 1000) / Math.max(1, produces),
    countPollMsMean: polls.reduce((a, b) => a + b, 0) / Math.max(1, polls.length),
    countPollMsMax: polls.length ? Math.max(...polls) : NaN,
  };
}

/** Least-squares slope (per second) of (t ms, y). */
function slope(points: ReadonlyArray<{ t: number; y: number }>): number {
  if (points.length < 2) return NaN;
  const n = points.length;
  const mt = points.reduce((s, p) => s + p.t, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.y - my);
    den += (p.t - mt) ** 2;
  }
  return (num / den) * 1000;
}

/**
 * count() per table; with `final`, of distinct identities (FINAL: what an exact reader sees).
 * Without FINAL ClickHouse answers from part metadata, at no cost to the pipeline; FINAL reads
 * the sort keys of every row (0.3-2.4 s per round at a few million rows on chDB here).
 */
async function countsFinal(ch: ClickHouseClient, db: string, final = true): Promise<KindCounts> {
  const c = zeroCounts();
  await Promise.all(
    KINDS.map(async (k) => {
      const rs = await ch.query({ query: `SELECT count() AS n FROM ${db}.${TABLE_OF[k]}${final ? ' FINAL' : ''}`, format: 'JSONEachRow' });
      const [row] = await rs.json<{ n: string }>();
      c[k] = Number(row?.n ?? 0);
    }),
  );
  return c;
}

export const clusterBenchmark: Benchmark = {
  name: 'cluster',
  description: 'end to end: a simulated cluster of SDK clients against the all-in-one process; acked, queryable, latency, freshness, exact counts, ceilings',
  async run({ stack, quick, defer }) {
    const args = parseClusterArgs(process.argv.slice(2), quick);
    const rampMs = 3000;
    const warmupMs = quick ? 6000 : 10_000;
    const durationMs = quick ? 15_000 : 40_000;
    const countEveryMs = quick ? 3000 : 5000;
    const variants = parseVariants(process.argv.slice(2));
    // Ceilings: the default settings' topics and database names, and the variants' own.
    const id = uniqueId('cl');
    const config = pipelineConfig(pipelineEnv(stack, id));
    const logger = createLogger({ service: 'bench', level: 'warn' });
    const clickhouse = createClickHouse({ url: stack.clickhouseUrl, database: 'default', requestTimeoutMs: 120_000 });
    defer(() => clickhouse.close());

    /** One all-in-one process with the variant's settings, its phases, and its exact count. */
    async function runVariant(variant: Variant) {
      const id = uniqueId('cl');
      progress(`starting the all-in-one process (gateway + writer + query)${variant.name === 'default' ? '' : `, variant ${variant.name}: ${JSON.stringify(variant.env)}`}`);
      const app = await startService('all-in-one', { ...pipelineEnv(stack, id), ...variant.env });
      defer(() => app.stop());
      await app.healthy();
      const pids: Record<string, number> = { 'all-in-one': app.pid };
      for (const s of await stack.status()) if (s.pid !== undefined) pids[s.name] = s.pid;
      pids['bench (load generator)'] = process.pid;
      const mon = new ProcMonitor(pids);
      mon.start(1000);
      defer(() => mon.stop());

      const http = new HttpClient(app.url, args.tasks * 2);
      defer(() => http.close());
      const reader = new HttpClient(app.url, MAX_PENDING_SAMPLES);
      defer(() => reader.close());

      // Queryable counts, polled through the whole run.
      const countPoints: Array<{ t: number; c: KindCounts; ms: number }> = [];
      let polling = true;
      const countPoller = (async () => {
        while (polling) {
          const t = performance.now();
          // The slope polls count() without FINAL (see countsFinal); the exact check uses FINAL.
          const c = await countsFinal(clickhouse, id, false).catch(() => undefined); // tables appear after migrations
          if (c) countPoints.push({ t: (t + performance.now()) / 2, c, ms: performance.now() - t });
          await sleep(Math.max(0, countEveryMs - (performance.now() - t)));
        }
      })();

      const ackedAll = zeroCounts();
      const phases: PhaseResult[] = [];
      /** Waits until ClickHouse holds every acknowledged event (or nothing moved for 60 s: the writer was seen to pause 10-20 s under load; or `maxMs`). */
      async function drain(maxMs: number, final: boolean): Promise<KindCounts> {
        const t0 = performance.now();
        let stored = zeroCounts();
        let lastChange = performance.now();
        for (;;) {
          const c = await countsFinal(clickhouse, id, final);
          if (totalOf(c) !== totalOf(stored)) lastChange = performance.now();
          stored = c;
          if (KINDS.every((k) => stored[k] >= ackedAll[k])) return stored;
          if (performance.now() - lastChange > 60_000 || performance.now() - t0 > maxMs) return stored;
          await sleep(1000);
        }
      }

      for (const [i, rate] of args.rates.entries()) {
        if (i > 0) {
          // Each phase starts from a caught-up pipeline: no backlog of the previous one in its figures.
          progress(`between phases: waiting for the writer to catch up (${int(totalOf(ackedAll))} acked)`);
          await drain(180_000, false);
        }
        phases.push(await runPhase(`phase ${i + 1}`, rate, i));
      }

      async function runPhase(label: string, rate: number, index: number): Promise<PhaseResult> {
        progress(`${variant.name === 'default' ? '' : `${variant.name}, `}${label}: ${args.tasks} simulated SDK clients offering ${int(rate)} events/s (ramp ${rampMs / 1000} s, warm-up ${warmupMs / 1000} s, measured ${durationMs / 1000} s)`);
        let w0 = Infinity;
        let w1 = Infinity;
        const inWindow = (t: number) => t >= w0 && t <= w1;
        const acked = zeroCounts();
        const latencies: number[] = [];
        const freshness: number[] = [];
        let retries = 0;
        let failed = 0;
        let notAdded = 0;
        let firstProblem: string | undefined;
        let scalarBatches = 0;
        const pending = new Map<string, { iter: number; at: number }>();
        const cluster = new Cluster({
          tasks: args.tasks,
          ratePerSec: rate,
          rampMs,
          salt: `${id}-${index}`,
          http,
          hooks: {
            acked(counts, at, ms, events, added) {
              addCounts(ackedAll, counts);
              if (added !== events) {
                notAdded += events - added;
                firstProblem ??= `added ${added} of ${events}`;
              }
              if (inWindow(at)) {
                addCounts(acked, counts);
                latencies.push(ms);
              }
            },
            scalarsAcked(task, maxIter, at) {
              if (scalarBatches++ % SAMPLE_EVERY !== 0 || !inWindow(at) || pending.size >= MAX_PENDING_SAMPLES || pending.has(task)) return;
              pending.set(task, { iter: maxIter, at });
            },
            retried(reason) {
              retries++;
              firstProblem ??= reason;
            },
            failed(reason) {
              failed++;
              firstProblem ??= reason;
            },
          },
        });
        let sampling = true;
        const freshnessPoller = (async () => {
          while (sampling || pending.size > 0) {
            await sleep(POLL_MS);
            await Promise.all(
              [...pending].map(async ([task, s]) => {
                const reply = await reader.post('/events.get_task_latest_scalar_values', Buffer.from(JSON.stringify({ task })), 'application/json').catch(() => undefined);
                if (reply?.status !== 200) return;
                const lastIter = (JSON.parse(reply.body) as { data: { last_iter: number } }).data.last_iter;
                if (lastIter >= s.iter && pending.delete(task)) freshness.push(performance.now() - s.at);
              }),
            );
          }
        })();
        cluster.start();
        const tStart = performance.now();
        const stopTicker = every(5000, () => {
          const s = (performance.now() - tStart) / 1000;
          const last = countPoints[countPoints.length - 1];
          return `${label}: ${s.toFixed(0)} s, generated ${int(cluster.generated / s)} events/s, acked ${int(totalOf(ackedAll))} total, stored ${int(last ? totalOf(last.c) : 0)}, client backlog ${int(cluster.backlog())}, retries ${retries}, freshness samples ${freshness.length}`;
        });
        await sleep(warmupMs);
        const metrics0 = await app.metrics();
        const m0 = mon.sample();
        const gen0 = cluster.generated;
        const off0 = totalOf(cluster.offered);
        const req0 = cluster.requests;
        w0 = performance.now();
        await sleep(durationMs);
        w1 = performance.now();
        const m1 = mon.sample();
        const metrics1 = await app.metrics();
        const gen1 = cluster.generated;
        const off1 = totalOf(cluster.offered);
        const req1 = cluster.requests;
        const backlog = cluster.backlog();
        const lastCount = countPoints[countPoints.length - 1];
        const notYetStored = totalOf(ackedAll) - (lastCount ? totalOf(lastCount.c) : 0);
        stopTicker();
        const { unsent } = await cluster.stop();
        sampling = false;
        // Samples not visible 30 s after the load stopped are given up, and counted.
        let unresolvedBefore = 0;
        const giveUp = setTimeout(() => {
          unresolvedBefore = pending.size;
          pending.clear();
        }, 30_000);
        await freshnessPoller;
        clearTimeout(giveUp);
        const seconds = (w1 - w0) / 1000;
        const pts = countPoints.filter((p) => p.t >= w0 && p.t <= w1);
        const procs = mon.window(m0, m1);
        const ackedTotal = totalOf(acked);
        const r: PhaseResult = {
          label,
          targetRate: rate,
          seconds,
          generatedPerSec: (gen1 - gen0) / seconds,
          offeredPerSec: (off1 - off0) / seconds,
          ackedPerSec: ackedTotal / seconds,
          ackedScalarsPerSec: acked.scalars / seconds,
          queryablePerSec: slope(pts.map((p) => ({ t: p.t, y: totalOf(p.c) }))),
          queryableScalarsPerSec: slope(pts.map((p) => ({ t: p.t, y: p.c.scalars }))),
          requestsPerSec: (req1 - req0) / seconds,
          meanBatch: ackedTotal / Math.max(1, latencies.length),
          retries,
          failed,
          firstProblem,
          notAdded,
          clientBacklogAtEnd: backlog,
          unsentDropped: unsent,
          latencyMs: lat(latencies),
          freshnessMs: lat(freshness),
          freshnessUnresolved: unresolvedBefore,
          procs,
          pipeline: pipelineFigures(metrics0, metrics1, seconds, pts.map((p) => p.ms), notYetStored),
          cpuMsPer1000Acked: Object.fromEntries(Object.entries(procs).map(([n, p]) => [n, (p.cpuSec * 1000) / (ackedTotal / 1000)])),
        };
        progress(
          `${label}: acked ${int(r.ackedPerSec)} events/s (${int(r.ackedScalarsPerSec)} scalars), queryable ${int(r.queryablePerSec)} events/s, add_batch p99 ${fixed(r.latencyMs.p99)} ms, freshness p95 ${int(r.freshnessMs.p95)} ms (${r.freshnessMs.count} samples); retries ${retries}, failed ${failed}`,
        );
        return r;
      }

      // Exact count: every acknowledged event stored exactly once.
      progress(`count check: waiting for ClickHouse to hold every acknowledged event (${int(totalOf(ackedAll))})`);
      const drainStart = performance.now();
      await drain(quick ? 90_000 : 300_000, true);
      // A moment longer: a duplicate would show after the last rows arrived.
      await sleep(2000);
      const stored = await countsFinal(clickhouse, id);
      const rawRows = await countsFinal(clickhouse, id, false);
      const drainSec = (performance.now() - drainStart) / 1000;
      polling = false;
      await countPoller;
      const exact = KINDS.map((k) => ({ kind: k, acked: ackedAll[k], stored: stored[k], rowsBeforeMerge: rawRows[k], lost: Math.max(0, ackedAll[k] - stored[k]), duplicates: Math.max(0, stored[k] - ackedAll[k]) }));
      const lost = exact.reduce((s, e) => s + e.lost, 0);
      const dups = exact.reduce((s, e) => s + e.duplicates, 0);
      progress(`count check: ${int(totalOf(stored))} stored of ${int(totalOf(ackedAll))} acked (${drainSec.toFixed(1)} s after the load); lost ${lost}, duplicates ${dups}`);

      mon.stop();
      progress('stopping the all-in-one process');
      await app.stop();
      const profDir = process.env['BENCH_CPU_PROF_DIR'];
      const profile = profDir ? topSelfTime(profDir) : undefined;
      return { variant: variant.name, env: variant.env, phases, exact, lost, duplicates: dups, drainSec, profile, acked: totalOf(ackedAll), stored: totalOf(stored), rawRows: totalOf(rawRows) };
    }
    type VariantRun = Awaited<ReturnType<typeof runVariant>>;
    const runs: VariantRun[] = [];
    for (const v of variants) runs.push(await runVariant(v));

    // Ceilings, with the pipeline stopped.
    const kafka = createKafka({ brokers: parseBrokers(config.kafkaBrokers), clientId: 'bench-ceiling', logger });
    const ceilingTopic = `${id}.ceiling`;
    await ensureTopics(kafka, [{ topic: ceilingTopic, numPartitions: config.kafkaEventsPartitions }]);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await producer.connect();
    defer(() => producer.disconnect());
    const RING = 128;
    const ringMessages = Array.from({ length: RING }, (_, r) => gatewayMessages(batchReports(r, 100, args.tasks, id), Date.now()));
    const kafkaCeiling = await closedLoop({
      label: 'kafkajs ceiling (batches of 100 scalars)',
      concurrency: 8,
      warmupMs: 2000,
      durationMs: quick ? 5000 : 15_000,
      eventsPerOp: 100,
      sample: async () => ({ cpuSeconds: { 'kafkajs producer': ownCpuSeconds(), ...(await stackCpuSeconds(stack)) } }),
      async op(seq) {
        await producer.send({ topic: ceilingTopic, acks: -1, compression: CompressionTypes.None, messages: ringMessages[seq % RING] ?? [] });
      },
    });
    const ceilingEvents = quick ? 300_000 : 1_000_000;
    const chMessages = Array.from({ length: ceilingEvents / 100 }, (_, m) => gatewayMessages(batchReports(m, 100, args.tasks, id), Date.now())).flat();
    const chCeiling = await insertCeiling({ stack, clickhouse, logger, db: `${id}_ceiling`, batchRows: config.writerBatchRows }, chMessages, 'TabSeparated');

    const multi = runs.length > 1;
    /** The variant's name as a first column, when there are several. */
    const v = (r: VariantRun): string[] => (multi ? [r.variant] : []);
    const vc: string[] = multi ? ['variant'] : [];
    const judged = runs.map((r) => {
      const top = r.phases[0] as PhaseResult;
      const half = r.phases.find((p) => Math.abs(p.targetRate - top.targetRate / 2) < 1) ?? (r.phases.length > 1 ? r.phases[r.phases.length - 1] : undefined);
      const targets = {
        throughput: top.ackedScalarsPerSec >= TARGET_SCALARS_PER_SEC && top.queryableScalarsPerSec >= TARGET_SCALARS_PER_SEC,
        latencyAtHalf: half ? half.latencyMs.p99 < TARGET_P99_MS : undefined,
        // An overloaded phase's freshness grows with its backlog: the target is judged at half load when there is one.
        freshness: (half ? [half] : r.phases).every((p) => p.freshnessMs.p95 < TARGET_FRESHNESS_P95_MS && p.freshnessUnresolved === 0),
        exact: r.lost === 0 && r.duplicates === 0,
      };
      return { run: r, top, half, targets };
    });
    const met = (b: boolean | undefined) => (b === undefined ? 'not run (one phase)' : b ? 'met' : 'MISSED');
    const phaseRows = <T>(f: (p: PhaseResult, r: VariantRun) => T[]): T[][] => runs.flatMap((r) => r.phases.map((p) => f(p, r)));

    const tables: Table[] = [
      {
        title: 'Throughput (events/s over each phase window)',
        columns: [...vc, 'phase', 'target rate', 'generated', 'sent', 'acked (200)', 'acked scalars', 'queryable (count() slope)', 'queryable scalars', 'req/s', 'events / req', 'retries', 'failed', 'client backlog at end'],
        rows: phaseRows((p, r) => [
          ...v(r),
          p.label,
          int(p.targetRate),
          int(p.generatedPerSec),
          int(p.offeredPerSec),
          int(p.ackedPerSec),
          int(p.ackedScalarsPerSec),
          int(p.queryablePerSec),
          int(p.queryableScalarsPerSec),
          int(p.requestsPerSec),
          int(p.meanBatch),
          p.retries,
          p.failed,
          int(p.clientBacklogAtEnd),
        ]),
      },
      {
        title: 'add_batch latency and freshness (ms)',
        columns: [...vc, 'phase', 'add_batch p50', 'p95', 'p99', 'max', 'requests', 'freshness p50', 'p95', 'p99', 'max', 'samples', 'unresolved'],
        rows: phaseRows((p, r) => [
          ...v(r),
          p.label,
          fixed(p.latencyMs.p50),
          fixed(p.latencyMs.p95),
          fixed(p.latencyMs.p99),
          fixed(p.latencyMs.max),
          p.latencyMs.count,
          num(p.freshnessMs.p50),
          num(p.freshnessMs.p95),
          num(p.freshnessMs.p99),
          num(p.freshnessMs.max),
          p.freshnessMs.count,
          p.freshnessUnresolved,
        ]),
      },
      {
        title: "Inside the all-in-one (its /metrics over each phase window)",
        columns: [...vc, 'phase', 'writer rows/s', 'inserts', 's in inserts', 'ms / insert', 'insert failures', 'acked, not yet in ClickHouse at end (events)', 'events refused (503)', 'Kafka ack ms, mean', 'count() poll ms, mean / max'],
        rows: phaseRows((p, r) => [
          ...v(r),
          p.label,
          int(p.pipeline.writerRowsPerSec),
          p.pipeline.writerInserts,
          fixed(p.pipeline.writerInsertSec),
          int(p.pipeline.writerInsertMsMean),
          p.pipeline.writerInsertFailures,
          int(p.pipeline.notYetStoredAtEnd),
          int(p.pipeline.gatewayRefused),
          int(p.pipeline.produceMsMean),
          `${int(p.pipeline.countPollMsMean)} / ${int(p.pipeline.countPollMsMax)}`,
        ]),
      },
      {
        title: 'Processes over each phase window',
        columns: [...vc, 'phase', 'process', 'CPU s', 'cores busy', 'CPU ms / 1k acked events', 'RSS peak MiB', 'RSS avg MiB'],
        rows: runs.flatMap((r) =>
          r.phases.flatMap((p) =>
            Object.entries(p.procs).map(([name, w]) => [...v(r), p.label, name, fixed(w.cpuSec), fixed(w.coresBusy, 2), fixed(p.cpuMsPer1000Acked[name] ?? NaN, 2), int(w.rssPeakMiB), int(w.rssAvgMiB)]),
          ),
        ),
      },
      {
        title: 'Exact count: acknowledged vs stored (count() FINAL), whole run',
        columns: [...vc, 'kind', 'acked', 'stored (FINAL)', 'lost', 'duplicates', 'rows without FINAL (unmerged re-deliveries)'],
        rows: runs.flatMap((r) => [
          ...r.exact.map((e) => [...v(r), e.kind, int(e.acked), int(e.stored), e.lost, e.duplicates, int(e.rowsBeforeMerge)]),
          [...v(r), 'all', int(r.acked), int(r.stored), r.lost, r.duplicates, int(r.rawRows)],
        ]),
      },
      {
        title: 'Ceilings (same run, pipeline stopped) and ratios',
        columns: ['ceiling', 'events (rows) / s', 'pipeline figure', 'pipeline / ceiling'],
        rows: judged.flatMap(({ run, top }) => [
          [`kafkajs produce, gateway-made messages of 100 scalars, acks=-1, 8 in flight`, int(kafkaCeiling.eventsPerSec), `${multi ? `${run.variant}: ` : ''}acked ${int(top.ackedPerSec)}`, pct(top.ackedPerSec / kafkaCeiling.eventsPerSec)],
          [`@clickhouse/client TabSeparated inserts of ${int(config.writerBatchRows)} scalar rows`, int(chCeiling.rowsPerSec), `${multi ? `${run.variant}: ` : ''}queryable ${int(top.queryablePerSec)}`, pct(top.queryablePerSec / chCeiling.rowsPerSec)],
        ]),
      },
      {
        title: 'Targets',
        columns: [...vc, 'target', 'figure', 'verdict'],
        rows: judged.flatMap(({ run: r, top, half, targets }) => [
          [...v(r), `>= ${int(TARGET_SCALARS_PER_SEC)} scalar events/s acked and queryable (${top.label})`, `${int(top.ackedScalarsPerSec)} acked, ${int(top.queryableScalarsPerSec)} queryable`, met(targets.throughput)],
          [...v(r), `add_batch p99 < ${TARGET_P99_MS} ms at half load`, half ? `${fixed(half.latencyMs.p99)} ms (${half.label}, ${int(half.targetRate)} events/s offered)` : '-', met(targets.latencyAtHalf)],
          [...v(r), `freshness p95 < ${TARGET_FRESHNESS_P95_MS} ms${half ? ' (at half load)' : ''}`, r.phases.map((p) => `${p.label}: ${num(p.freshnessMs.p95)} ms`).join(', '), met(targets.freshness)],
          [...v(r), 'zero loss, zero duplicates', `lost ${r.lost}, duplicates ${r.duplicates}`, met(targets.exact)],
        ]),
      },
    ];
    for (const r of runs) {
      if (!r.profile) continue;
      tables.push({
        title: `All-in-one CPU profile${multi ? ` (${r.variant})` : ''}: top self time (${r.profile.file})`,
        columns: ['function', 'where', 'self %'],
        rows: r.profile.rows.map((row) => [row.fn, row.where, fixed(row.selfPct)]),
      });
    }
    const [first] = judged;
    return {
      params: { variants, tasks: args.tasks, rates: args.rates, rampMs, warmupMs, durationMs, countEveryMs, sampleEvery: SAMPLE_EVERY, pollMs: POLL_MS, partitions: config.kafkaEventsPartitions, ceilingEvents },
      results: {
        ...(multi ? { runs: judged.map((j) => ({ ...j.run, targets: j.targets })) } : { ...first?.run, targets: first?.targets }),
        kafkaCeiling: { ...kafkaCeiling, samples: undefined },
        clickhouseCeiling: chCeiling,
      },
      tables,
      notes: [
        ...(multi ? [`Variants, each its own all-in-one process (topics, group and database of its own), run one after the other: ${variants.map((x) => `${x.name} = ${JSON.stringify(x.env)}`).join('; ')}.`] : []),
        `One all-in-one process (services/all-in-one/dist/main.js, default settings) on an isolated Kafka + ClickHouse (${stack.state.clickhouseEngine.kind}); ${args.tasks} simulated SDK clients in the bench process (cluster-sim.ts): per iteration 8-20 scalars, every 10th a vector, 5th a log line, 100th two debug images, 300th a plot (~3 KB); flush at 100 queued or ~5 s, logs every ~2 s; one request in flight per queue; 503/network errors retried with backoff.`,
        `Each phase: ramp ${rampMs / 1000} s and warm-up ${warmupMs / 1000} s excluded, then ${durationMs / 1000} s measured. "generated" = events the clients queued; "sent" = events put in requests; "acked" = in 200 replies received in the window; "queryable" = least-squares slope of count() summed over the tables, polled every ${countEveryMs / 1000} s (without FINAL: polling FINAL cost ClickHouse 0.3-2.4 s per round here and slowed the writer; the exact check at the end uses FINAL). Events still queued in the clients when a phase stops are dropped (never sent, so never acked).`,
        `Latency: each 200 request's round trip. Freshness: 1 in ${SAMPLE_EVERY} scalar batches (at most ${MAX_PENDING_SAMPLES} pending), 200 reply -> events.get_task_latest_scalar_values shows last_iter >= the batch's last iteration, polled every ${POLL_MS} ms (so +~${POLL_MS / 2} ms of polling granularity).`,
        'CPU and RSS from /proc (utime+stime, VmRSS sampled every second) of each process; "bench (load generator)" is this process (simulated clients, freshness and count polling).',
        'Ceilings run after the pipeline stopped, with scalars only (data.ts), not the mixed events of the cluster.',
        'Duplicates: a retry after a network error may re-send events Kafka already had; scalars/vectors/plots/images collapse under FINAL, log lines would be counted twice.',
      ],
    };
  },
};
