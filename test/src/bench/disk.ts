/**
 * Bytes per scalar point on disk, for docs/schema.md: the scalars table's active parts
 * (system.parts) and its columns (system.columns), after merging it into one part.
 */
import { SCALAR_BUCKETS, type ClickHouseClient } from '@trackstream/clickhouse';
import { fixed, int, progress } from './progress';
import type { Table } from './report';

interface ColumnUsage {
  name: string;
  compressed: number;
  uncompressed: number;
}

export interface TableUsage {
  rows: number;
  parts: number;
  /** All bytes of the active parts (columns, primary index, marks, ...). */
  partBytes: number;
  columns: ColumnUsage[];
}

async function tableUsage(clickhouse: ClickHouseClient, db: string): Promise<TableUsage> {
  const params = { db, table: 'scalars' };
  const rs = await clickhouse.query({
    query: `SELECT sum(rows) AS rows, count() AS parts, sum(data_compressed_bytes) AS bytes
            FROM system.parts WHERE database = {db:String} AND table = {table:String} AND active`,
    query_params: params,
    format: 'JSONEachRow',
  });
  const [p] = await rs.json<{ rows: string; parts: string; bytes: string }>();
  const cs = await clickhouse.query({
    query: `SELECT name, data_compressed_bytes AS compressed, data_uncompressed_bytes AS uncompressed
            FROM system.columns WHERE database = {db:String} AND table = {table:String} ORDER BY position`,
    query_params: params,
    format: 'JSONEachRow',
  });
  const columns = (await cs.json<{ name: string; compressed: string; uncompressed: string }>()).map((c) => ({
    name: c.name,
    compressed: Number(c.compressed),
    uncompressed: Number(c.uncompressed),
  }));
  return { rows: Number(p?.rows ?? 0), parts: Number(p?.parts ?? 0), partBytes: Number(p?.bytes ?? 0), columns };
}

export async function diskUsage(clickhouse: ClickHouseClient, db: string): Promise<{ asWritten: TableUsage; merged: TableUsage }> {
  const asWritten = await tableUsage(clickhouse, db);
  progress(`bytes on disk: ${fixed(asWritten.partBytes / asWritten.rows)} per point in ${asWritten.parts} parts; merging (OPTIMIZE FINAL)`);
  await clickhouse.command({ query: `OPTIMIZE TABLE ${db}.scalars FINAL` });
  const merged = await tableUsage(clickhouse, db);
  progress(`bytes on disk: ${fixed(merged.partBytes / merged.rows)} per point in ${merged.parts} part(s) after merging`);
  return { asWritten, merged };
}

export function diskTable(d: { asWritten: TableUsage; merged: TableUsage }): Table {
  const m = d.merged;
  const perRow = (bytes: number) => fixed(bytes / Math.max(1, m.rows), 2);
  const sum = (k: 'compressed' | 'uncompressed') => m.columns.reduce((s, c) => s + c[k], 0);
  const ratio = (u: number, c: number) => fixed(u / Math.max(1, c));
  return {
    title: `Bytes per scalar point on disk (scalars, ${int(m.rows)} rows, merged into ${m.parts} part(s); ${fixed(d.asWritten.partBytes / Math.max(1, d.asWritten.rows), 2)} B/row in the ${d.asWritten.parts} parts as written)`,
    columns: ['column', 'compressed B/row', 'uncompressed B/row', 'ratio'],
    rows: [
      ...m.columns.map((c) => [c.name, perRow(c.compressed), perRow(c.uncompressed), ratio(c.uncompressed, c.compressed)]),
      ['all columns', perRow(sum('compressed')), perRow(sum('uncompressed')), ratio(sum('uncompressed'), sum('compressed'))],
      ['whole part(s), system.parts', perRow(m.partBytes), '-', '-'],
    ],
  };
}

/** Bytes of the scalar buckets next to the scalars', after merging each table into one part. */
export async function bucketDisk(clickhouse: ClickHouseClient, db: string): Promise<Array<{ table: string; rows: number; bytes: number }>> {
  const out: Array<{ table: string; rows: number; bytes: number }> = [];
  for (const table of ['scalars', SCALAR_BUCKETS]) {
    await clickhouse.command({ query: `OPTIMIZE TABLE ${db}.${table} FINAL` });
    const rs = await clickhouse.query({
      query: `SELECT sum(rows) AS rows, sum(data_compressed_bytes) AS bytes FROM system.parts WHERE database = {db:String} AND table = {table:String} AND active`,
      query_params: { db, table },
      format: 'JSONEachRow',
    });
    const [r] = await rs.json<{ rows: string; bytes: string }>();
    out.push({ table, rows: Number(r?.rows ?? 0), bytes: Number(r?.bytes ?? 0) });
  }
  return out;
}

export function bucketDiskTable(tables: ReadonlyArray<{ table: string; rows: number; bytes: number }>): Table {
  const points = tables[0]?.rows ?? 0;
  const per = (bytes: number) => fixed(bytes / Math.max(1, points), 2);
  const buckets = tables.slice(1).reduce((s, t) => s + t.bytes, 0);
  return {
    title: `The scalar buckets on disk next to the points (${int(points)} points, each table merged)`,
    columns: ['table', 'rows', 'bytes', 'bytes per point'],
    rows: [
      ...tables.map((t) => [t.table, int(t.rows), int(t.bytes), per(t.bytes)]),
      ['the buckets against the points', '', '', `${fixed((100 * buckets) / Math.max(1, tables[0]?.bytes ?? 0), 1)}%`],
    ],
  };
}
