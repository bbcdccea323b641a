/**
 * The writer benchmark's ceiling: @clickhouse/client inserting the rows the writer makes of the
 * same Kafka messages, straight into the same schema (migrate() into a database of its own), in
 * batches of the writer's size, one insert after another as the writer flushes. Only the inserts
 * are timed (building the rows is the writer's work, not the ceiling's).
 */
import { Readable } from 'node:stream';
import { migrate, toCHDateTime64, TSV_COLUMNS, type ClickHouseClient } from '@trackstream/clickhouse';
import { decodeMessage } from '@trackstream/event-schema';
import { decodeToRows, versionOf } from '@trackstream/writer';
import type { LocalStack } from '@trackstream/local-stack';
import type { Logger } from '@trackstream/runtime';
import { cpuBetween, msPerThousand, ownCpuSeconds, stackCpuSeconds, type CpuByProcess } from './cpu';
import type { KafkaMessage } from './data';
import { every, int, progress } from './progress';
import { countRows } from './services';
import { summarize, type Summary } from './stats';

/** How rows travel: built from one Kafka message (its index standing for its offset), then inserted. */
interface InsertFormat<Row> {
  rows(value: Buffer, offset: number): Row[];
  insert(client: ClickHouseClient, table: string, rows: Row[]): Promise<unknown>;
}

/** What the writer sends: its own TSV lines (services/writer's decodeToRows). */
const TAB_SEPARATED: InsertFormat<string> = {
  rows: (value, offset) => {
    const decoded = decodeToRows({ partition: 0, offset: String(offset), key: null, value, headers: {} });
    return decoded.kind === 'events' ? decoded.rows.filter((r) => r.table === 'scalars').flatMap((r) => r.data.toString('utf8').split(/(?<=\n)/)) : [];
  },
  insert: (client, table, lines) =>
    client.insert({
      table,
      // One body: the cheapest way for the client to send the rows.
      values: Readable.from([Buffer.from(lines.join(''), 'utf8')], { objectMode: false }),
      format: 'TabSeparated',
      columns: TSV_COLUMNS.scalars as [string, ...string[]],
    }),
};

/** How a Float64 travels in JSONEachRow: JSON has no NaN/Infinity, ClickHouse reads these strings. */
function toCHFloat(v: number): number | 'nan' | 'inf' | '-inf' {
  if (Number.isFinite(v)) return v;
  if (Number.isNaN(v)) return 'nan';
  return v > 0 ? 'inf' : '-inf';
}

/** One object per row, encoded by the client: how the writer inserted before it moved to TSV. */
const JSON_EACH_ROW: InsertFormat<object> = {
  rows: (value, offset) => {
    const msg = decodeMessage(value);
    const receivedAt = toCHDateTime64(msg.receivedAt);
    return msg.events.flatMap((e, i) =>
      e.type === 'training_stats_scalar'
        ? [
            {
              tenant: e.tenant,
              task: e.task,
              metric: e.metric,
              variant: e.variant,
              iter: e.iter,
              value: toCHFloat(e.value),
              timestamp: toCHDateTime64(e.timestamp),
              received_at: receivedAt,
              version: versionOf(String(offset), i),
            },
          ]
        : [],
    );
  },
  insert: (client, table, rows) => client.insert({ table, values: rows, format: 'JSONEachRow' }),
};

export const INSERT_FORMATS = { TabSeparated: TAB_SEPARATED, JSONEachRow: JSON_EACH_ROW } as const;
export type InsertFormatName = keyof typeof INSERT_FORMATS;

export interface CeilingRun {
  format: InsertFormatName;
  /** Inserts running at once. */
  inFlight: number;
  inserts: number;
  insertSec: number;
  rowsPerSec: number;
  insertMs: Summary;
  cpuMsPer1000Rows: CpuByProcess;
}

/**
 * Every batch is made first (only the inserts are timed), then `inFlight` inserts run at once
 * (1 by default; the writer overlaps two, so its ceiling must be allowed to as well); the rate is
 * over the wall time of that phase.
 */
export async function insertCeiling(
  o: { stack: LocalStack; clickhouse: ClickHouseClient; logger: Logger; db: string; batchRows: number; inFlight?: number },
  messages: readonly KafkaMessage[],
  formatName: InsertFormatName,
): Promise<CeilingRun> {
  const inFlight = o.inFlight ?? 1;
  const format = INSERT_FORMATS[formatName] as InsertFormat<unknown>;
  const table = `${o.db}.scalars`;
  const label = `ceiling (${formatName}${inFlight > 1 ? `, ${inFlight} in flight` : ''})`;
  progress(`${label}: the same rows straight into ${table}, ${int(o.batchRows)} per insert`);
  await migrate({ url: o.stack.clickhouseUrl, database: o.db }, { logger: o.logger });
  const batches: unknown[][] = [[]];
  for (let m = 0; m < messages.length; m++) {
    for (const row of format.rows((messages[m] as KafkaMessage).value, m)) {
      let last = batches[batches.length - 1] as unknown[];
      if (last.length >= o.batchRows) batches.push((last = []));
      last.push(row);
    }
  }
  const total = batches.reduce((n, b) => n + b.length, 0);
  const durations: number[] = [];
  let inserted = 0;
  const sample = async (): Promise<CpuByProcess> => ({ 'bench (client)': ownCpuSeconds(), ...(await stackCpuSeconds(o.stack)) });
  const before = await sample();
  const stopTicker = every(2000, () => `${label}: ${int(inserted)} rows inserted`);
  const t0 = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < batches.length; i = next++) {
      const t = performance.now();
      await format.insert(o.clickhouse, table, batches[i] as unknown[]);
      durations.push(performance.now() - t);
      inserted += (batches[i] as unknown[]).length;
    }
  };
  try {
    await Promise.all(Array.from({ length: inFlight }, worker));
  } finally {
    stopTicker();
  }
  const insertSec = (performance.now() - t0) / 1000;
  const cpu = cpuBetween(before, await sample());
  const stored = await countRows(o.clickhouse, table);
  if (stored !== total) throw new Error(`ceiling: ${stored} rows stored of ${total} inserted`);
  const run: CeilingRun = {
    format: formatName,
    inFlight,
    inserts: durations.length,
    insertSec,
    rowsPerSec: total / insertSec,
    insertMs: summarize(durations),
    cpuMsPer1000Rows: msPerThousand(cpu, total),
  };
  progress(`${label}: ${int(total)} rows in ${insertSec.toFixed(1)} s of inserts: ${int(run.rowsPerSec)} rows/s`);
  return run;
}

export interface ViewInsertCost {
  inserts: number;
  rows: number;
  withViewMs: { min: number; p50: number };
  withoutViewMs: { min: number; p50: number };
}

/**
 * What the scalar buckets' view adds to one insert: the writer's first batch of rows inserted in
 * turn into `withDb.scalars` (with the view) and `withoutDb.scalars` (without), `inserts` times
 * each. Shorter and steadier than whole drains: the same bytes, one after the other, so a noisy
 * machine slows both alike.
 */
export async function viewInsertCost(
  clickhouse: ClickHouseClient,
  o: { withDb: string; withoutDb: string; batchRows: number; inserts: number },
  messages: readonly KafkaMessage[],
): Promise<ViewInsertCost> {
  const lines: string[] = [];
  for (let m = 0; m < messages.length && lines.length < o.batchRows; m++) lines.push(...TAB_SEPARATED.rows((messages[m] as KafkaMessage).value, m));
  const batch = lines.slice(0, o.batchRows);
  const timed = async (db: string): Promise<number> => {
    const t = performance.now();
    await TAB_SEPARATED.insert(clickhouse, `${db}.scalars`, batch);
    return performance.now() - t;
  };
  const withView: number[] = [];
  const withoutView: number[] = [];
  for (let i = 0; i < o.inserts; i++) {
    // The first of a pair alternates: neither side always meets the other's merges.
    if (i % 2 === 0) withView.push(await timed(o.withDb)), withoutView.push(await timed(o.withoutDb));
    else withoutView.push(await timed(o.withoutDb)), withView.push(await timed(o.withDb));
  }
  const figures = (ms: number[]) => ({ min: Math.min(...ms), p50: summarize(ms).p50 });
  return { inserts: o.inserts, rows: batch.length, withViewMs: figures(withView), withoutViewMs: figures(withoutView) };
}
