/**
 * Issue 4, `npm run bench -- writer`:
 *  1. rows/s of the writer draining a topic pre-filled with N scalar events (messages made as the
 *     gateway makes them: packEvents + messageKey, not through the gateway), the writer being
 *     its own process (services/writer/dist/main.js, default settings: 50,000-row batches);
 *  2. in the same run, the ceiling: @clickhouse/client inserting the same rows into the same
 *     schema (insert-ceiling.ts), in the writer's format (TabSeparated) and, for reference, as
 *     JSONEachRow objects;
 *  3. bytes per scalar point on disk of the writer's table (disk.ts), and of the scalar buckets;
 *  5. in the same rounds, the writer into a database without the scalar buckets' view: what the
 *     aggregates cost on the insert path;
 *  4. freshness at a steady load through gateway + writer (freshness.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Partitioners } from 'kafkajs';
import { createClickHouse, migrate, SCALAR_BUCKETS_VIEW, type ClickHouseClient } from '@trackstream/clickhouse';
import { createKafka, ensureTopics, parseBrokers, topicNames, type Kafka } from '@trackstream/kafka';
import type { LocalStack } from '@trackstream/local-stack';
import { createLogger } from '@trackstream/runtime';
import { cpuBetween, describeCpu, msPerThousand, pidCpuSeconds, stackCpuSeconds, type CpuByProcess } from './cpu';
import { batchReports, gatewayMessages, type KafkaMessage } from './data';
import { bucketDisk, bucketDiskTable, diskTable, diskUsage } from './disk';
import { freshnessTable, measureFreshness } from './freshness';
import type { Benchmark } from './harness';
import { insertCeiling, viewInsertCost, type CeilingRun, type ViewInsertCost } from './insert-ceiling';
import { metricSum } from './metrics-text';
import { every, fixed, int, pct, progress } from './progress';
import type { Table } from './report';
import { countRows, pipelineConfig, pipelineEnv, startService, uniqueId, type Env } from './services';
import { medianBy } from './stats';

/** Events per Kafka message of the pre-filled topic: one SDK flush of 100 reports of a task. */
const EVENTS_PER_MESSAGE = 100;
const TASKS = 100;
/** The writer's default WRITER_BATCH_ROWS. */
const INSERT_BATCH_ROWS = 50_000;
const TARGET_RATIO = 0.7;
/** Writer + ceiling pairs in a full run. */
const ROUNDS = 3;
/** Inserts of one batch on each side when measuring the buckets' view alone. */
const VIEW_COST_INSERTS = 20;

interface Round {
  writer: WriterRun;
  /** The same drain into a database without the scalar buckets' materialized views. */
  withoutBuckets: WriterRun;
  /** In the writer's format (TabSeparated), the faster of one and two inserts in flight: the ceiling of the ratio. */
  ceiling: CeilingRun;
  serialCeiling: CeilingRun;
  parallelCeiling: CeilingRun;
  /** The same rows as JSONEachRow objects, for reference. */
  jsonCeiling: CeilingRun;
  ratio: number;
}

export const writerBenchmark: Benchmark = {
  name: 'writer',
  description: 'rows/s of the writer vs raw @clickhouse/client inserts of the same rows; bytes per point; freshness',
  async run({ stack, quick, defer }) {
    const events = quick ? 200_000 : 1_000_000;
    const logger = createLogger({ service: 'bench', level: 'warn' });
    const clickhouse = createClickHouse({ url: stack.clickhouseUrl, database: 'default' });
    defer(() => clickhouse.close());
    const id = uniqueId('wr');
    const env = pipelineEnv(stack, id);
    const config = pipelineConfig(env);
    const kafka = createKafka({ brokers: parseBrokers(config.kafkaBrokers), clientId: 'bench', logger });

    const messages = await prefill(kafka, topicNames(config.kafkaTopicPrefix), config.kafkaEventsPartitions, events);
    // Writer and ceiling take turns, a few times: on a shared machine one pair can be off by a lot.
    const rounds: Round[] = [];
    for (let k = 1; k <= (quick ? 1 : ROUNDS); k++) {
      const db = `${id}_${k}`;
      progress(`round ${k}: a new writer group reads the topic from the start into database ${db}`);
      // With and without the buckets' views, in turn (the first of a pair runs on a warmer or colder machine).
      const withViews = () => drainWithWriter(stack, { ...env, WRITER_GROUP_ID: `${id}-writer-${k}`, CLICKHOUSE_DATABASE: db }, clickhouse, db, events, defer);
      const plainDb = `${db}_plain`;
      const withoutViews = async () => {
        await migrate({ url: stack.clickhouseUrl, database: plainDb }, { logger });
        await clickhouse.command({ query: `DROP VIEW IF EXISTS ${plainDb}.${SCALAR_BUCKETS_VIEW}` });
        progress(`round ${k}: the same drain into ${plainDb}, without the scalar buckets' view`);
        return drainWithWriter(stack, { ...env, WRITER_GROUP_ID: `${id}-plain-${k}`, CLICKHOUSE_DATABASE: plainDb }, clickhouse, plainDb, events, defer);
      };
      let writer: WriterRun;
      let withoutBuckets: WriterRun;
      if (k % 2 === 1) {
        writer = await withViews();
        withoutBuckets = await withoutViews();
      } else {
        withoutBuckets = await withoutViews();
        writer = await withViews();
      }
      const ceilingOptions = { stack, clickhouse, logger, batchRows: INSERT_BATCH_ROWS };
      const serialCeiling = await insertCeiling({ ...ceilingOptions, db: `${db}_tsv` }, messages, 'TabSeparated');
      const parallelCeiling = await insertCeiling({ ...ceilingOptions, db: `${db}_tsv2`, inFlight: 2 }, messages, 'TabSeparated');
      const ceiling = parallelCeiling.rowsPerSec > serialCeiling.rowsPerSec ? parallelCeiling : serialCeiling;
      const jsonCeiling = await insertCeiling({ ...ceilingOptions, db: `${db}_json` }, messages, 'JSONEachRow');
      const round = { writer, withoutBuckets, ceiling, serialCeiling, parallelCeiling, jsonCeiling, ratio: writer.rowsPerSec / ceiling.rowsPerSec };
      rounds.push(round);
      progress(`round ${k}: writer / ceiling = ${pct(round.ratio)}`);
    }
    progress("the scalar buckets' view: one batch inserted in turn with and without it");
    const viewCost = await viewInsertCost(clickhouse, { withDb: `${id}_1`, withoutDb: `${id}_1_plain`, batchRows: INSERT_BATCH_ROWS, inserts: quick ? 6 : VIEW_COST_INSERTS }, messages);
    const disk = await diskUsage(clickhouse, `${id}_1`);
    const buckets = await bucketDisk(clickhouse, `${id}_1`);
    const median = medianBy(rounds, (r) => r.ratio);
    const freshness = await measureFreshness(stack, clickhouse, quick, defer);

    return {
      params: { events, eventsPerMessage: EVENTS_PER_MESSAGE, tasks: TASKS, partitions: config.kafkaEventsPartitions, insertBatchRows: INSERT_BATCH_ROWS, targetRatio: TARGET_RATIO, rounds: rounds.length, freshness: freshness.params },
      results: { ratio: median.ratio, rounds, viewCost, disk, buckets, freshness: freshness.results },
      tables: [throughputTable(rounds, median), bucketCostTable(rounds), viewCostTable(viewCost), writerDetailTable(median), freshnessTable(freshness.results), diskTable(disk), bucketDiskTable(buckets)],
      notes: [
        `Writer: its own process with default settings, draining ${int(events)} events pre-filled as ${int(events / EVENTS_PER_MESSAGE)} messages over ${TASKS} tasks; rows/s counts from the first rows visible (count() polled every 100 ms) to count() = N, i.e. leaves out start-up, group join and the first batch.`,
        `Writer and ceiling run in turn, ${rounds.length} time(s); the ratio is the median round's, whose details the second table shows.`,
        `Ceiling: @clickhouse/client in the bench process, inserts of ${int(INSERT_BATCH_ROWS)} rows one after another, and (made beforehand) two at a time as the writer runs them; the ratio is against the faster. The same rows (mapped as services/writer/src/rows.ts does) into the same schema (migrate() into another database); only the inserts are timed. The ratio is against the writer's own format, TabSeparated; JSONEachRow objects are shown for reference.`,
        `Freshness: ${freshness.params.eventsPerSec} events/s in batches of ${freshness.params.batch} through gateway + writer in this process (default WRITER_BATCH_MS=1000); every ${freshness.params.sampleEvery}th request goes to a task of its own, whose rows are polled every ${freshness.params.pollMs} ms.`,
        'Bytes on disk: the scalars table after the writer run and OPTIMIZE TABLE FINAL (per-column sizes exist only for wide parts; fresh small parts are compact). Values: float32-precision loss/accuracy/grad_norm, a stepped learning rate, whole-number GPU figures; 8 series per task, one iteration every 250 ms.',
      ],
    };
  },
};

// ---------------------------------------------------------------------------------- pre-fill

async function prefill(kafka: Kafka, topics: { events: string; deadLetter: string }, partitions: number, events: number): Promise<KafkaMessage[]> {
  progress(`pre-fill: encoding ${int(events)} scalar events as the gateway would`);
  const receivedAt = Date.now();
  const messages = Array.from({ length: Math.ceil(events / EVENTS_PER_MESSAGE) }, (_, m) => gatewayMessages(batchReports(m, EVENTS_PER_MESSAGE, TASKS), receivedAt)).flat();
  await ensureTopics(kafka, [
    { topic: topics.events, numPartitions: partitions },
    { topic: topics.deadLetter, numPartitions: 1 },
  ]);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  const chunk = 500;
  let sent = 0;
  const stopTicker = every(2000, () => `pre-fill: ${int(sent * EVENTS_PER_MESSAGE)} events in Kafka`);
  const t0 = performance.now();
  try {
    let next = 0;
    const sender = async (): Promise<void> => {
      for (let from = next; from < messages.length; from = next) {
        next += chunk;
        const part = messages.slice(from, from + chunk);
        await producer.send({ topic: topics.events, acks: -1, messages: part });
        sent += part.length;
      }
    };
    await Promise.all([sender(), sender(), sender(), sender()]);
  } finally {
    stopTicker();
    await producer.disconnect();
  }
  progress(`pre-fill: ${int(messages.length)} messages (${int(events)} events) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return messages;
}

// ---------------------------------------------------------------------------------- the writer

interface WriterRun {
  /** From spawning the process to the first rows visible (start-up, group join, first batch). */
  firstRowsSec: number;
  /** Rows per second after the first rows were visible: consuming, decoding, inserting. */
  rowsPerSec: number;
  /** N / (spawn to the last row visible), start-up included. */
  overallRowsPerSec: number;
  steadySec: number;
  steadyRows: number;
  flushes: number;
  meanRowsPerFlush: number;
  /** Time spent in inserts (writer_insert_duration_seconds), and in flushes (inserts + commit). */
  insertSec: number;
  flushSec: number;
  /** Over the steady part, and over the whole run (start-up included). */
  cpuMsPer1000Rows: CpuByProcess;
  overallCpuMsPer1000Rows: CpuByProcess;
}

/**
 * Starts a writer process and polls count() until all `n` rows are in. The rate counts from the
 * first rows visible: how soon a process is up and has joined its group is not what is measured.
 */
async function drainWithWriter(stack: LocalStack, env: Env, clickhouse: ClickHouseClient, db: string, n: number, defer: (fn: () => unknown) => void): Promise<WriterRun> {
  progress('writer: starting its process');
  const t0 = performance.now();
  const writer = await startService('writer', env);
  defer(() => writer.stop());
  const cpu = async (): Promise<CpuByProcess> => ({ writer: pidCpuSeconds(writer.pid), ...(await stackCpuSeconds(stack)) });
  const cpuStart = await cpu();
  let count = 0;
  let first: { at: number; count: number; cpu: CpuByProcess } | undefined;
  const stopTicker = every(2000, () => `writer: ${int(count)} / ${int(n)} rows in ClickHouse`);
  try {
    const deadline = Date.now() + 15 * 60_000;
    while (count < n) {
      if (!writer.running) throw new Error('the writer process exited');
      if (Date.now() > deadline) throw new Error(`the writer stored ${count} of ${n} rows in 15 minutes`);
      await sleep(100);
      // Until the writer's migrations ran, the database does not exist.
      count = await countRows(clickhouse, `${db}.scalars`).catch(() => 0);
      if (!first && count > 0) first = { at: performance.now(), count, cpu: await cpu() };
    }
  } finally {
    stopTicker();
  }
  const tDone = performance.now();
  const cpuDone = await cpu();
  const metrics = await writer.metrics();
  await writer.stop();

  const start = first as NonNullable<typeof first>;
  const steadyRows = n - start.count;
  const steadySec = (tDone - start.at) / 1000;
  const flushes = metricSum(metrics, 'writer_flush_duration_seconds_count');
  const run: WriterRun = {
    firstRowsSec: (start.at - t0) / 1000,
    rowsPerSec: steadyRows / steadySec,
    overallRowsPerSec: n / ((tDone - t0) / 1000),
    steadySec,
    steadyRows,
    flushes,
    meanRowsPerFlush: metricSum(metrics, 'writer_batch_rows_sum') / Math.max(1, flushes),
    insertSec: metricSum(metrics, 'writer_insert_duration_seconds_sum'),
    flushSec: metricSum(metrics, 'writer_flush_duration_seconds_sum'),
    cpuMsPer1000Rows: msPerThousand(cpuBetween(start.cpu, cpuDone), steadyRows),
    overallCpuMsPer1000Rows: msPerThousand(cpuBetween(cpuStart, cpuDone), n),
  };
  progress(
    `writer: first rows after ${run.firstRowsSec.toFixed(1)} s, then ${int(steadyRows)} rows in ${steadySec.toFixed(1)} s: ${int(run.rowsPerSec)} rows/s; ${flushes} flushes; ` +
      `CPU ms / 1k rows: ${describeCpu(run.cpuMsPer1000Rows)} (whole run: ${describeCpu(run.overallCpuMsPer1000Rows)})`,
  );
  return run;
}

// ---------------------------------------------------------------------------------- tables

function throughputTable(rounds: readonly Round[], median: Round): Table {
  const row = (label: string, r: Round) => [
    label,
    int(r.writer.rowsPerSec),
    int(r.serialCeiling.rowsPerSec),
    int(r.parallelCeiling.rowsPerSec),
    pct(r.ratio),
    int(r.jsonCeiling.rowsPerSec),
    fixed(r.writer.firstRowsSec),
    int(r.writer.overallRowsPerSec),
  ];
  return {
    title: 'Throughput: writer vs @clickhouse/client ceiling (rows/s)',
    columns: [
      'round',
      'writer rows/s',
      'ceiling rows/s (TabSeparated, 1 insert at a time)',
      'ceiling rows/s (TabSeparated, 2 in flight)',
      'writer / the faster ceiling',
      'ceiling rows/s (JSONEachRow)',
      'writer: s to first rows',
      'writer rows/s incl. start-up',
    ],
    rows: [
      ...(rounds.length > 1 ? rounds.map((r, i) => row(String(i + 1), r)) : []),
      row(rounds.length > 1 ? 'median' : '1', median),
      ['target', '', '', '', `>= ${pct(TARGET_RATIO)}: ${median.ratio >= TARGET_RATIO ? 'met' : 'MISSED'}`, '', '', ''],
    ],
  };
}

const BUCKET_COST_TARGET = 0.9;

function bucketCostTable(rounds: readonly Round[]): Table {
  const ratios = rounds.map((r) => r.writer.rowsPerSec / r.withoutBuckets.rowsPerSec);
  const median = [...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 2)] as number;
  return {
    title: "The scalar buckets' cost on the insert path: the writer with and without its materialized view",
    columns: ['round', 'rows/s with buckets', 'rows/s without', 'with / without', 'CPU ms / 1k rows with', 'CPU ms / 1k rows without'],
    rows: [
      ...rounds.map((r, i) => [String(i + 1), int(r.writer.rowsPerSec), int(r.withoutBuckets.rowsPerSec), pct(ratios[i] as number), describeCpu(r.writer.cpuMsPer1000Rows), describeCpu(r.withoutBuckets.cpuMsPer1000Rows)]),
      ['median', '', '', pct(median), '', ''],
      ['target', '', '', `>= ${pct(BUCKET_COST_TARGET)}: ${median >= BUCKET_COST_TARGET ? 'met' : 'MISSED'}`, '', ''],
    ],
  };
}

function viewCostTable(c: ViewInsertCost): Table {
  const ratio = (k: 'min' | 'p50') => c.withoutViewMs[k] / c.withViewMs[k];
  return {
    title: `One insert of ${int(c.rows)} rows with and without the buckets' view, in turn, ${c.inserts} times each (ms)`,
    columns: ['measure', 'with the view', 'without', 'without / with: the rate with the view'],
    rows: [
      ['fastest', fixed(c.withViewMs.min), fixed(c.withoutViewMs.min), pct(ratio('min'))],
      ['median', fixed(c.withViewMs.p50), fixed(c.withoutViewMs.p50), pct(ratio('p50'))],
    ],
  };
}

function writerDetailTable({ writer: w, serialCeiling, parallelCeiling, jsonCeiling }: Round): Table {
  const ceilingRow = (c: CeilingRun) => [`ceiling, ${c.format}${c.inFlight > 1 ? `, ${c.inFlight} in flight (wall of the phase)` : ''}`, fixed(c.insertSec), c.inserts, int(INSERT_BATCH_ROWS), fixed(c.insertSec), int(c.insertMs.mean), describeCpu(c.cpuMsPer1000Rows)];
  return {
    title: 'Where the time goes (the median round)',
    columns: ['run', 'wall s', 'inserts', 'rows / insert', 'time in inserts s', 'ms / insert, mean', 'CPU ms / 1k rows'],
    rows: [
      [
        'writer (wall: spawn to last row; CPU: after the first rows)',
        fixed(w.firstRowsSec + w.steadySec),
        w.flushes,
        int(w.meanRowsPerFlush),
        `${fixed(w.insertSec)} (flushes ${fixed(w.flushSec)})`,
        int((w.insertSec * 1000) / Math.max(1, w.flushes)),
        describeCpu(w.cpuMsPer1000Rows),
      ],
      ceilingRow(serialCeiling),
      ceilingRow(parallelCeiling),
      ceilingRow(jsonCeiling),
    ],
  };
}
