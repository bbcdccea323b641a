import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClickHouseError, type ClickHouseClient } from '@clickhouse/client';
import type { Logger } from '@trackstream/runtime';
import { assertIdentifier, createClickHouse, type ClickHouseSettings } from './client';

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

/** Reads `NNNN_<verb>_<object>.sql` files in order; `{{db}}` becomes the database name. */
export function loadMigrations(database: string, dir: string = MIGRATIONS_DIR): Migration[] {
  const db = assertIdentifier(database);
  return readdirSync(dir)
    .filter((f) => FILE.test(f))
    .sort()
    .map((file) => {
      const [, id, name] = FILE.exec(file) as RegExpExecArray;
      const text = readFileSync(join(dir, file), 'utf8');
      return {
        id: Number(id),
        name: name ?? file,
        checksum: createHash('sha256').update(text).digest('hex'),
        statements: splitStatements(text.replaceAll('{{db}}', db)),
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
}

/**
 * Applies the migrations that have not run yet and records each in `schema_migrations`.
 * Safe when several processes start at once: a lock table (CREATE TABLE succeeds for one
 * process only) serialises them, and every statement is idempotent (`IF NOT EXISTS`) so a
 * runner that crashed half-way can simply run again.
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
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations
      (id UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC'))
      ENGINE = ReplacingMergeTree ORDER BY id`,
  });
  const migrations = loadMigrations(db, opts.dir);
  await acquireLock(client, db, opts.staleLockMs ?? 120_000, log);
  try {
    const rs = await client.query({ query: `SELECT id, checksum FROM ${db}.schema_migrations FINAL`, format: 'JSONEachRow' });
    const applied = new Map((await rs.json<{ id: number; checksum: string }>()).map((r) => [Number(r.id), r.checksum]));
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
    return ran;
  } finally {
    await client.command({ query: `DROP TABLE IF EXISTS ${db}.schema_migrations_lock` });
  }
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
