/**
 * Cluster rendering of the migrations. The SQL files describe one ClickHouse server; when a
 * cluster name is configured, each statement is rewritten for a sharded, replicated cluster:
 *
 * - `CREATE TABLE db.t (...) ENGINE = XMergeTree(args) ...` becomes
 *   `db.t_local ON CLUSTER` with `ENGINE = ReplicatedXMergeTree('<path>', '{replica}', args)`,
 *   plus `db.t`, a Distributed table over `t_local` sharded by a hash of the first two sort-key
 *   columns, so every version of a row lands on the same shard (ReplacingMergeTree and FINAL
 *   stay exact) and the services keep using the names they know;
 * - `ALTER TABLE`, `DELETE FROM`, `OPTIMIZE TABLE`, `DROP TABLE`, `CREATE VIEW`, `CREATE DATABASE`
 *   get `ON CLUSTER` and are pointed at the local table (and, for column changes and drops, the
 *   Distributed one too);
 * - `CREATE MATERIALIZED VIEW db.v TO db.t AS SELECT ... FROM db.s ...` gets `ON CLUSTER` and
 *   reads and writes the local tables: each shard aggregates the rows it stores (both tables are
 *   sharded by the same key columns, so a curve's rows and its aggregates share a shard);
 * - anything else is refused, so a migration the rules do not cover fails loudly instead of
 *   creating a schema that is wrong on a cluster.
 *
 * Without a cluster name nothing is rewritten: a single server runs the files as they are.
 */
import { assertIdentifier } from './client';

/** A schema setting or migration that can't work as configured: retrying won't help. */
export class SchemaError extends Error {
  override readonly name = 'SchemaError';
}

/** Suffix of the per-shard table behind each Distributed table. */
export const LOCAL_SUFFIX = '_local';

export interface ClusterSettings {
  /** The cluster's name in the servers' `remote_servers`, or a macro such as `{cluster}`. */
  cluster: string;
}

/** What rendering one migration after another learns: tables that became Distributed + local. */
export interface ClusterRenderState {
  sharded: Set<string>;
}

export function newClusterRenderState(): ClusterRenderState {
  return { sharded: new Set() };
}

/** A cluster name is templated into DDL as a string literal: a plain name or a `{macro}`. */
export function assertClusterName(name: string): string {
  if (!/^(?:[A-Za-z_][A-Za-z0-9_-]{0,127}|\{[A-Za-z_][A-Za-z0-9_]{0,63}\})$/.test(name)) {
    throw new SchemaError(`not a usable ClickHouse cluster name: ${JSON.stringify(name)}`);
  }
  return name;
}

/** ZooKeeper (Keeper) path of a replicated table: one replica set per shard. */
export function replicaPath(db: string, table: string): string {
  return `/clickhouse/tables/{shard}/${db}/${table}`;
}

const NAME = String.raw`([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)`;
const CREATE_TABLE = new RegExp(String.raw`^CREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?${NAME}\s*`, 'i');
const CREATE_VIEW = new RegExp(String.raw`^CREATE\s+(OR\s+REPLACE\s+)?VIEW\s+(IF\s+NOT\s+EXISTS\s+)?${NAME}\s*`, 'i');
const CREATE_MATERIALIZED_VIEW = new RegExp(String.raw`^CREATE\s+MATERIALIZED\s+VIEW\s+(IF\s+NOT\s+EXISTS\s+)?${NAME}\s+TO\s+${NAME}\s+AS\s+`, 'i');
const FROM_TABLE = new RegExp(String.raw`\bFROM\s+${NAME}\b`, 'gi');
const CREATE_DATABASE = /^CREATE\s+DATABASE\s+(IF\s+NOT\s+EXISTS\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*$/i;
const ALTER_TABLE = new RegExp(String.raw`^ALTER\s+TABLE\s+${NAME}\s+`, 'i');
const DELETE_FROM = new RegExp(String.raw`^DELETE\s+FROM\s+${NAME}\s+`, 'i');
const OPTIMIZE_TABLE = new RegExp(String.raw`^OPTIMIZE\s+TABLE\s+${NAME}\b`, 'i');
const DROP_TABLE = new RegExp(String.raw`^DROP\s+TABLE\s+(IF\s+EXISTS\s+)?${NAME}\b`, 'i');
const INSERT_INTO = /^INSERT\s+INTO\s+/i;
const ENGINE = /\bENGINE\s*=\s*([A-Za-z]*)MergeTree\b(\s*\()?/i;
const COLUMN_ACTION = /^\s*(ADD|DROP|MODIFY|RENAME|COMMENT)\s+COLUMN\b/i;

/**
 * Rewrites one statement of a migration for `settings.cluster`; `state` carries the tables
 * earlier statements made Distributed. Returns the statements to run, in order.
 */
export function renderForCluster(statement: string, settings: ClusterSettings, state: ClusterRenderState): string[] {
  const on = `ON CLUSTER '${assertClusterName(settings.cluster)}'`;
  const sql = statement.trim();
  let m: RegExpExecArray | null;

  if (CREATE_DATABASE.test(sql)) return [`${sql} ${on}`];

  if ((m = CREATE_TABLE.exec(sql))) {
    const [head, ine, db = '', table = ''] = m;
    const ifNotExists = ine ? 'IF NOT EXISTS ' : '';
    const body = sql.slice(head.length);
    const engine = ENGINE.exec(body);
    if (!engine || /^\s*AS\b/i.test(body) || /^Replicated/i.test(engine[1] ?? '')) {
      // A table without a MergeTree engine of its own (Log, Memory, ...) exists once per server.
      return [`CREATE TABLE ${ifNotExists}${db}.${table} ${on} ${body}`];
    }
    const local = `${table}${LOCAL_SUFFIX}`;
    const args = `'${replicaPath(db, local)}', '{replica}'`;
    const family = engine[1] ?? '';
    // `XMergeTree(a, b)` keeps its arguments after the replica's; `XMergeTree` gets none.
    const tail = engine[2] === undefined ? ')' : nextIsClose(body, engine) ? '' : ', ';
    const replicated = `ENGINE = Replicated${family}MergeTree(${args}${tail}`;
    const localBody = body.slice(0, engine.index) + replicated + body.slice(engine.index + engine[0].length);
    const key = shardingKey(body, `${db}.${table}`);
    state.sharded.add(`${db}.${table}`);
    return [
      `CREATE TABLE ${ifNotExists}${db}.${local} ${on} ${localBody}`,
      `CREATE TABLE ${ifNotExists}${db}.${table} ${on} AS ${db}.${local} ENGINE = Distributed('${settings.cluster}', '${db}', '${local}', cityHash64(${key}))`,
    ];
  }

  if ((m = CREATE_MATERIALIZED_VIEW.exec(sql))) {
    const [head, ine, db = '', view = '', toDb = '', toTable = ''] = m;
    const ifNotExists = ine ? 'IF NOT EXISTS ' : '';
    const sources = [...sql.slice(head.length).matchAll(FROM_TABLE)].map((f) => `${f[1]}.${f[2]}`);
    // A view between tables that are not sharded alike would aggregate on one server only.
    if (!state.sharded.has(`${toDb}.${toTable}`) || sources.length === 0 || sources.some((t) => !state.sharded.has(t))) throw unsupported(sql);
    const select = sql.slice(head.length).replace(FROM_TABLE, (_all, d: string, t: string) => `FROM ${localName(d, t, state)}`);
    return [`CREATE MATERIALIZED VIEW ${ifNotExists}${db}.${view} ${on} TO ${localName(toDb, toTable, state)} AS ${select}`];
  }

  if ((m = CREATE_VIEW.exec(sql))) {
    const [head, orRep, ine, db = '', view = ''] = m;
    const orReplace = orRep ? 'OR REPLACE ' : '';
    const ifNotExists = ine ? 'IF NOT EXISTS ' : '';
    return [`CREATE ${orReplace}VIEW ${ifNotExists}${db}.${view} ${on} ${sql.slice(head.length)}`];
  }

  if ((m = ALTER_TABLE.exec(sql))) {
    const [head, db = '', table = ''] = m;
    const actions = sql.slice(head.length);
    const name = `${db}.${table}`;
    if (!state.sharded.has(name)) return [`ALTER TABLE ${name} ${on} ${actions}`];
    const out = [`ALTER TABLE ${name}${LOCAL_SUFFIX} ${on} ${actions}`];
    // The Distributed table mirrors the columns; every other change (TTL, indexes, mutations)
    // concerns the stored data only.
    if (splitTopLevel(actions).every((a) => COLUMN_ACTION.test(a))) out.push(`ALTER TABLE ${name} ${on} ${actions}`);
    return out;
  }

  if ((m = DELETE_FROM.exec(sql))) {
    const [head, db = '', table = ''] = m;
    return [`DELETE FROM ${localName(db, table, state)} ${on} ${sql.slice(head.length)}`];
  }

  if ((m = OPTIMIZE_TABLE.exec(sql))) {
    const [head, db = '', table = ''] = m;
    return [`OPTIMIZE TABLE ${localName(db, table, state)} ${on}${sql.slice(head.length)}`];
  }

  if ((m = DROP_TABLE.exec(sql))) {
    const [head, ie, db = '', table = ''] = m;
    const ifExists = ie ? 'IF EXISTS ' : '';
    const rest = sql.slice(head.length);
    const name = `${db}.${table}`;
    if (!state.sharded.has(name)) return [`DROP TABLE ${ifExists}${name} ${on}${rest}`];
    state.sharded.delete(name);
    return [`DROP TABLE ${ifExists}${name} ${on}${rest}`, `DROP TABLE ${ifExists}${name}${LOCAL_SUFFIX} ${on}${rest}`];
  }

  // INSERT ... SELECT into a Distributed table is spread over the shards by its sharding key.
  if (INSERT_INTO.test(sql)) return [sql];

  throw unsupported(sql);
}

function localName(db: string, table: string, state: ClusterRenderState): string {
  return state.sharded.has(`${db}.${table}`) ? `${db}.${table}${LOCAL_SUFFIX}` : `${db}.${table}`;
}

function unsupported(sql: string): Error {
  return new SchemaError(`migration statement not supported on a cluster (CLICKHOUSE_CLUSTER): ${sql.slice(0, 80).replace(/\s+/g, ' ')}...`);
}

function nextIsClose(body: string, engine: RegExpExecArray): boolean {
  return /^\s*\)/.test(body.slice(engine.index + engine[0].length));
}

/**
 * The Distributed tables' sharding key: the first two columns of ORDER BY (tenant, task for
 * the event tables). Any prefix of the sort key keeps every version of a row on one shard.
 */
export function shardingKey(body: string, table: string): string {
  const m = /\bORDER\s+BY\s+/i.exec(body);
  if (!m) throw new SchemaError(`${table}: a MergeTree table without ORDER BY can't be sharded`);
  let rest = body.slice(m.index + m[0].length);
  let items: string[];
  if (rest.startsWith('(')) {
    const close = matchingParen(rest, 0);
    items = splitTopLevel(rest.slice(1, close));
  } else {
    rest = rest.split(/\s+(?:PARTITION|PRIMARY|SAMPLE|TTL|SETTINGS|COMMENT)\b/i)[0] ?? rest;
    items = [rest];
  }
  const key = items.map((s) => s.trim()).filter((s) => s.length > 0 && s !== 'tuple()').slice(0, 2);
  if (key.length === 0) throw new SchemaError(`${table}: an empty sort key can't shard the table`);
  return key.join(', ');
}

/**
 * Walks `s` from `from`, skipping quoted text (with backslash escapes), and calls `visit` with
 * each other character's index and the parenthesis depth after it; stops when `visit` says so.
 */
function scanOutsideQuotes(s: string, from: number, visit: (i: number, c: string, depth: number) => boolean | void): void {
  let depth = 0;
  let quote = '';
  for (let i = from; i < s.length; i++) {
    const c = s[i] as string;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    if (visit(i, c, depth) === true) return;
  }
}

function matchingParen(s: string, open: number): number {
  let close = -1;
  scanOutsideQuotes(s, open, (i, c, depth) => {
    if (c === ')' && depth === 0) {
      close = i;
      return true;
    }
    return false;
  });
  if (close < 0) throw new Error(`unbalanced parentheses in: ${s.slice(0, 80)}`);
  return close;
}

/** Splits on commas outside parentheses and quotes. */
export function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let start = 0;
  scanOutsideQuotes(s, 0, (i, c, depth) => {
    if (c === ',' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  });
  out.push(s.slice(start));
  return out;
}

/**
 * The migration runner's own bookkeeping on a cluster: one replica set across every server
 * (no `{shard}` in the path), so whichever server a runner reaches knows what was applied.
 */
export function clusterBookkeeping(db: string, settings: ClusterSettings): { database: string; migrationsTable: string } {
  const on = `ON CLUSTER '${assertClusterName(settings.cluster)}'`;
  assertIdentifier(db);
  return {
    database: `CREATE DATABASE IF NOT EXISTS ${db} ${on}`,
    migrationsTable: `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations ${on}
      (id UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC'))
      ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/${db}/schema_migrations', '{replica}') ORDER BY id`,
  };
}
