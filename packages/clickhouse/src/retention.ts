/**
 * Retention: how long event rows are kept, as a ClickHouse TTL on each event table (the tables
 * with a `received_at` column), counted from the moment the gateway received the event. The
 * migration runner makes each table's TTL match the configuration: it sets, changes or removes
 * the TTL it manages, and leaves a TTL it did not write alone.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from '@trackstream/runtime';
import { assertClusterName, LOCAL_SUFFIX, SchemaError } from './cluster';
import { SCALAR_DERIVED_TABLES } from './scalar-buckets';

/** The column retention counts from. */
export const RETENTION_COLUMN = 'received_at';

export interface RetentionSettings {
  /** Days rows of every event table are kept; 0 keeps them forever. */
  defaultDays: number;
  /** Per-table overrides by table name (`logs`, `images`, ...); 0 keeps that table's rows forever. */
  byTable: Readonly<Record<string, number>>;
}

/** Parses `logs=30, images=14` (table=days, comma-separated; empty for none). */
export function parseRetentionByTable(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of text.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(\d{1,6})$/.exec(item);
    if (!m) throw new SchemaError(`RETENTION_DAYS_BY_TABLE: expected table=days, got ${JSON.stringify(item)}`);
    out[m[1] as string] = Number(m[2]);
  }
  return out;
}

/** The TTL expression of `days` days, as the runner writes it. */
export function ttlExpression(days: number): string {
  return `toDateTime(${RETENTION_COLUMN}) + toIntervalDay(${days})`;
}

const MANAGED_TTL = new RegExp(String.raw`\bTTL\s+toDateTime\(${RETENTION_COLUMN}\)\s*\+\s*toIntervalDay\((\d+)\)\s*(?=SETTINGS\b|COMMENT\b|$)`);

/** A stored table as system.tables shows it. */
export interface StoredTable {
  name: string;
  createTableQuery: string;
}

export type TtlState = { kind: 'none' } | { kind: 'managed'; days: number } | { kind: 'foreign' };

/** The TTL a table has now: none, one the runner wrote (and its days), or another one. */
export function currentTtl(createTableQuery: string): TtlState {
  // The table's TTL follows its engine; column TTLs sit in the column list before it.
  const engine = createTableQuery.search(/\bENGINE\s*=/);
  const tail = engine < 0 ? '' : createTableQuery.slice(engine);
  const m = MANAGED_TTL.exec(tail);
  if (m) return { kind: 'managed', days: Number(m[1]) };
  return /\sTTL\s/.test(tail) ? { kind: 'foreign' } : { kind: 'none' };
}

export interface RetentionPlan {
  statements: string[];
  /** Tables whose TTL was not written by the runner and that the configuration asks to keep forever. */
  leftAlone: string[];
}

/**
 * The ALTER statements that bring `tables` (the event tables of `db`) to `settings`. On a
 * cluster the tables are the `_local` ones and the statements run ON CLUSTER; overrides name
 * tables without the suffix.
 */
export function planRetention(db: string, tables: readonly StoredTable[], settings: RetentionSettings, cluster?: string): RetentionPlan {
  const logical = (name: string): string => (cluster !== undefined && name.endsWith(LOCAL_SUFFIX) ? name.slice(0, -LOCAL_SUFFIX.length) : name);
  const known = new Set(tables.map((t) => logical(t.name)));
  const unknown = Object.keys(settings.byTable).filter((t) => !known.has(t));
  if (unknown.length > 0) {
    throw new SchemaError(`RETENTION_DAYS_BY_TABLE names tables without retention: ${unknown.join(', ')} (event tables: ${[...known].sort().join(', ')})`);
  }
  const on = cluster === undefined ? '' : ` ON CLUSTER '${assertClusterName(cluster)}'`;
  const statements: string[] = [];
  const leftAlone: string[] = [];
  for (const t of [...tables].sort((a, b) => a.name.localeCompare(b.name))) {
    // The scalar buckets (received_at: their newest row's) are kept as long as the scalars.
    const name = SCALAR_DERIVED_TABLES.includes(logical(t.name)) ? 'scalars' : logical(t.name);
    const want = settings.byTable[name] ?? settings.defaultDays;
    const now = currentTtl(t.createTableQuery);
    if (want > 0) {
      if (now.kind === 'managed' && now.days === want) continue;
      statements.push(`ALTER TABLE ${db}.${t.name}${on} MODIFY TTL ${ttlExpression(want)}`);
    } else if (now.kind === 'managed') {
      statements.push(`ALTER TABLE ${db}.${t.name}${on} REMOVE TTL`);
    } else if (now.kind === 'foreign') {
      leftAlone.push(t.name);
    }
  }
  return { statements, leftAlone };
}

/** Reads the event tables of `db` and applies `planRetention`'s statements. */
export async function applyRetention(client: ClickHouseClient, db: string, settings: RetentionSettings, log: Logger, cluster?: string): Promise<string[]> {
  const rs = await client.query({
    query: `SELECT name, create_table_query AS createTableQuery FROM system.tables
      WHERE database = {db:String} AND engine LIKE '%MergeTree'
        AND name IN (SELECT table FROM system.columns WHERE database = {db:String} AND name = {column:String})`,
    query_params: { db, column: RETENTION_COLUMN },
    format: 'JSONEachRow',
  });
  const tables = await rs.json<StoredTable>();
  const plan = planRetention(db, tables, settings, cluster);
  for (const name of plan.leftAlone) log.warn({ table: name }, 'the table has a TTL the migration runner did not write; left as it is');
  for (const statement of plan.statements) {
    log.info({ statement }, 'applying retention');
    await client.command({ query: statement });
  }
  return plan.statements;
}
