/**
 * The writer benchmark's ceiling: @clickhouse/client inserting the rows the writer makes of the
 * same Kafka messages, straight into the same schema (migrate() into a database of its own), in
 * batches of the writer's size, one insert after another as the writer flushes. Only the inserts
 * are timed (building the rows is the writer's work, not the ceiling's).
 */
import { Readable } from 'node:stream';
import {
  migrate,
  toCHDateTime64,
  toCHFloat,
  TSV_COLUMNS,
  tsvFloat,
  tsvInt,
  tsvLine,
  tsvString,
  type ClickHouseClient,
} from '@trackstream/clickhouse';
import { decodeMessage, type ScalarEvent } from '@trackstream/event-schema';
import type { LocalStack } from '@trackstream/local-stack';
import type { Logger } from '@trackstream/runtime';
import { cpuBetween, msPerThousand, ownCpuSeconds, stackCpuSeconds, type CpuByProcess } from './cpu';
import type { KafkaMessage } from './data';
import { every, int, progress } from './progress';
import { countRows } from './services';
import { summarize, type Summary } from './stats';

/**
 * How rows travel. The writer's own mapping (services/writer/src/rows.ts, toRow and versionOf)
 * is not exported by @trackstream/writer, so each format mirrors it from the same public
 * helpers: same columns, same value encodings.
 */
interface InsertFormat<Row> {
  row(e: ScalarEvent, version: string, receivedAt: string): Row;
  insert(client: ClickHouseClient, table: string, rows: Row[]): Promise<unknown>;
}

/** What the writer sends: one TabSeparated line per row, joined into one body per insert. */
const TAB_SEPARATED: InsertFormat<string> = {
  row: (e, version, receivedAt) =>
    tsvLine([tsvString(e.tenant), tsvString(e.task), tsvString(e.metric), tsvString(e.variant), tsvInt(e.iter), tsvFloat(e.value), toCHDateTime64(e.timestamp), receivedAt, version]),
  insert: (client, table, lines) =>
    client.insert({
      table,
      values: Readable.from([Buffer.from(lines.join(''), 'utf8')], { objectMode: false }),
      format: 'TabSeparated',
      columns: TSV_COLUMNS.scalars as [string, ...string[]],
    }),
};

/** One object per row, encoded by the client: how the writer inserted before it moved to TSV. */
const JSON_EACH_ROW: InsertFormat<object> = {
  row: (e, version, receivedAt) => ({
    tenant: e.tenant,
    task: e.task,
    metric: e.metric,
    variant: e.variant,
    iter: e.iter,
    value: toCHFloat(e.value),
    timestamp: toCHDateTime64(e.timestamp),
    received_at: receivedAt,
    version,
  }),
  insert: (client, table, rows) => client.insert({ table, values: rows, format: 'JSONEachRow' }),
};

export const INSERT_FORMATS = { TabSeparated: TAB_SEPARATED, JSONEachRow: JSON_EACH_ROW } as const;
export type InsertFormatName = keyof typeof INSERT_FORMATS;

export interface CeilingRun {
  format: InsertFormatName;
  inserts: number;
  insertSec: number;
  rowsPerSec: number;
  insertMs: Summary;
  cpuMsPer1000Rows: CpuByProcess;
}

export async function insertCeiling(
  o: { stack: LocalStack; clickhouse: ClickHouseClient; logger: Logger; db: string; batchRows: number },
  messages: readonly KafkaMessage[],
  formatName: InsertFormatName,
): Promise<CeilingRun> {
  const format = INSERT_FORMATS[formatName] as InsertFormat<unknown>;
  const table = `${o.db}.scalars`;
  progress(`ceiling (${formatName}): the same rows straight into ${table}, ${int(o.batchRows)} per insert`);
  await migrate({ url: o.stack.clickhouseUrl, database: o.db }, { logger: o.logger });
  const durations: number[] = [];
  const cpu: CpuByProcess = {};
  const sample = async (): Promise<CpuByProcess> => ({ 'bench (client)': ownCpuSeconds(), ...(await stackCpuSeconds(o.stack)) });
  let rows: unknown[] = [];
  let total = 0;
  const insert = async (): Promise<void> => {
    const before = await sample();
    const t0 = performance.now();
    await format.insert(o.clickhouse, table, rows);
    durations.push(performance.now() - t0);
    for (const [name, s] of Object.entries(cpuBetween(before, await sample()))) cpu[name] = (cpu[name] ?? 0) + s;
    total += rows.length;
    rows = [];
  };
  const stopTicker = every(2000, () => `ceiling (${formatName}): ${int(total)} rows inserted`);
  try {
    for (let m = 0; m < messages.length; m++) {
      const msg = decodeMessage((messages[m] as KafkaMessage).value);
      const receivedAt = toCHDateTime64(msg.receivedAt);
      msg.events.forEach((e, i) => {
        // The writer's version: Kafka offset * 2^20 + position; the message's index stands for its offset.
        if (e.type === 'training_stats_scalar') rows.push(format.row(e, ((BigInt(m) << 20n) + BigInt(i)).toString(), receivedAt));
      });
      if (rows.length >= o.batchRows) await insert();
    }
    if (rows.length > 0) await insert();
  } finally {
    stopTicker();
  }
  const stored = await countRows(o.clickhouse, table);
  if (stored !== total) throw new Error(`ceiling: ${stored} rows stored of ${total} inserted`);
  const insertSec = durations.reduce((s, d) => s + d, 0) / 1000;
  const run: CeilingRun = {
    format: formatName,
    inserts: durations.length,
    insertSec,
    rowsPerSec: total / insertSec,
    insertMs: summarize(durations),
    cpuMsPer1000Rows: msPerThousand(cpu, total),
  };
  progress(`ceiling (${formatName}): ${int(total)} rows in ${insertSec.toFixed(1)} s of inserts: ${int(run.rowsPerSec)} rows/s`);
  return run;
}
