import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClickHouseError, type ClickHouseClient } from '@clickhouse/client';
import type { Logger } from '@trackstream/runtime';
import { assertIdentifier, createClickHouse, type ClickHouseSettings } from './client';
import { clusterBookkeeping, newClusterRenderState, renderForCluster, SchemaError } from './cluster';
import { applyRetention, type RetentionSettings } from './retention';

export interface Migration {
  id: number;
  name: string;
  checksum: string;
  statements: string[];
}

/** `migrations/` ships beside `dist/` in this package. */
export const MIGRATIONS_DIR = join(__dirname, '..', 'migrations');

const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;
const TABLE_ALREADY_EXISTS = '57';

/**
 * Reads `NNNN_<verb>_<object>.sql` files in order; `{{db}}` becomes the database name. With a
 * `cluster`, every statement is rewritten for it (see cluster.ts); the checksum is the file's.
 */
export function loadMigrations(database: string, dir: string = MIGRATIONS_DIR, opts: { cluster?: string } = {}): Migration[] {
  const db = assertIdentifier(database);
  const { cluster } = opts;
  const state = newClusterRenderState();
  return readdirSync(dir)
    .filter((f) => FILE.test(f))
    .sort()
    .map((file) => {
      const [, id, name] = FILE.exec(file) as RegExpExecArray;
      const text = readFileSync(join(dir, file), 'utf8');
      const statements = splitStatements(text.replaceAll('{{db}}', db));
      return {
        id: Number(id),
        name: name ?? file,
        checksum: createHash('sha256').update(text).digest('hex'),
        statements: cluster === undefined ? statements : statements.flatMap((s) => renderForCluster(s, { cluster }, state)),
      };
    });
}

/** Statements end with `;` at the end of a line; `--` comment lines are dropped. */
export function splitStatements(sql: string): string[] {
  return sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export interface MigrateOptions {
  logger: Logger;
  /** A lock older than this is taken to be left by a crashed runner. */
  staleLockMs?: number;
  dir?: string;
  /**
   * A ClickHouse cluster to create the schema on (Replicated tables, Distributed tables over
   * them, ON CLUSTER DDL). A database made for one server is refused, and so is the reverse.
   */
  cluster?: string;
  /** Makes the event tables' TTL match these settings; without them TTLs are left as they are. */
  retention?: RetentionSettings;
}

/**
 * Applies the migrations that have not run yet and records each in `schema_migrations`.
 * Safe when several processes start at once: a lock table (CREATE TABLE succeeds for one
 * process only) serialises them, and every statement is idempotent (`IF NOT EXISTS`) so a
 * runner that crashed half-way can simply run again. With `retention`, the event tables' TTLs
 * are then made to match it (see retention.ts).
 */
export async function migrate(settings: ClickHouseSettings, opts: MigrateOptions): Promise<number[]> {
  const db = assertIdentifier(settings.database);
  // Its own client on the `default` database: the target database may not exist yet.
  const client = createClickHouse({ ...settings, database: 'default' });
  try {
    return await migrateWith(client, db, opts);
  } finally {
    await client.close();
  }
}

async function migrateWith(client: ClickHouseClient, db: string, opts: MigrateOptions): Promise<number[]> {
  const log = opts.logger.child({ component: 'migrations' });
  const { cluster } = opts;
  // Rendered first: a statement a cluster can't take fails before anything is created.
  const migrations = loadMigrations(db, opts.dir, cluster === undefined ? {} : { cluster });
  if (cluster === undefined) {
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
    await client.command({
      query: `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations
      (id UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC'))
      ENGINE = ReplacingMergeTree ORDER BY id`,
    });
  } else {
    // Before any ON CLUSTER statement: a single server's database must not get cluster tables.
    await assertLayout(client, db, cluster);
    const ddl = clusterBookkeeping(db, { cluster });
    await client.command({ query: ddl.database });
    await client.command({ query: ddl.migrationsTable });
  }
  await acquireLock(client, db, opts.staleLockMs ?? 120_000, log);
  try {
    const rs = await client.query({ query: `SELECT id, checksum FROM ${db}.schema_migrations FINAL`, format: 'JSONEachRow' });
    const applied = new Map((await rs.json<{ id: number; checksum: string }>()).map((r) => [Number(r.id), r.checksum]));
    if (cluster === undefined && migrations.some((m) => !applied.has(m.id))) await assertLayout(client, db, cluster);
    const ran: number[] = [];
    for (const m of migrations) {
      const seen = applied.get(m.id);
      if (seen !== undefined) {
        if (seen !== m.checksum) log.warn({ id: m.id, name: m.name }, 'an applied migration file changed since it ran; add a new migration instead');
        continue;
      }
      log.info({ id: m.id, name: m.name }, 'applying migration');
      for (const statement of m.statements) await client.command({ query: statement });
      await client.insert({
        table: `${db}.schema_migrations`,
        values: [{ id: m.id, name: m.name, checksum: m.checksum, applied_at: Date.now() }],
        format: 'JSONEachRow',
      });
      ran.push(m.id);
    }
    if (opts.retention) await applyRetention(client, db, opts.retention, log, cluster);
    return ran;
  } finally {
    await client.command({ query: `DROP TABLE IF EXISTS ${db}.schema_migrations_lock` });
  }
}

/**
 * Refuses to apply migrations to a database laid out for the other mode: single-server DDL on
 * a cluster's database (or the reverse) would leave tables that exist on one server only.
 */
async function assertLayout(client: ClickHouseClient, db: string, cluster: string | undefined): Promise<void> {
  const rs = await client.query({
    query: `SELECT engine FROM system.tables WHERE database = {db:String} AND name = 'schema_migrations'`,
    query_params: { db },
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ engine: string }>();
  const problem = layoutProblem(db, row?.engine, cluster);
  if (problem) throw new SchemaError(problem);
}

/**
 * Why `schema_migrations` of engine `engine` (undefined: not created yet) rules out migrating
 * `db` for `cluster`, if it does.
 */
export function layoutProblem(db: string, engine: string | undefined, cluster: string | undefined): string | undefined {
  if (engine === undefined) return undefined;
  const replicated = engine.startsWith('Replicated');
  if (replicated && cluster === undefined) {
    return `database ${db} is laid out for a ClickHouse cluster: apply its pending migrations with CLICKHOUSE_CLUSTER set (packages/clickhouse/dist/bin/migrate.js)`;
  }
  if (!replicated && cluster !== undefined) {
    return `database ${db} was created for one ClickHouse server, not for cluster ${cluster}: see docs/scaling.md for moving it`;
  }
  return undefined;
}

async function acquireLock(client: ClickHouseClient, db: string, staleMs: number, log: Logger): Promise<void> {
  for (;;) {
    try {
      await client.command({ query: `CREATE TABLE ${db}.schema_migrations_lock (at DateTime) ENGINE = Log` });
      return;
    } catch (e) {
      if (!(e instanceof ClickHouseError && e.code === TABLE_ALREADY_EXISTS)) throw e;
    }
    const rs = await client.query({
      query: `SELECT dateDiff('millisecond', metadata_modification_time, now()) AS age FROM system.tables WHERE database = {db:String} AND name = 'schema_migrations_lock'`,
      query_params: { db },
      format: 'JSONEachRow',
    });
    const [row] = await rs.json<{ age: string }>();
    if (row && Number(row.age) > staleMs) {
      log.warn({ ageMs: Number(row.age) }, 'removing a stale migration lock');
      await client.command({ query: `DROP TABLE IF EXISTS ${db}.schema_migrations_lock` });
      continue;
    }
    await sleep(200);
  }
}
