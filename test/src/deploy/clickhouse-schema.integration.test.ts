/**
 * The one-shot migration step (packages/clickhouse/dist/bin/migrate.js) against the real
 * ClickHouse: retention TTLs set, changed and removed from the environment, expired rows
 * really dropped; and every statement of the cluster layout accepted by ClickHouse's parser.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createClickHouse, loadMigrations, migrate, planRetention, type ClickHouseClient } from '@trackstream/clickhouse';
import { createLogger } from '@trackstream/runtime';
import { repoRoot, testStack } from '@trackstream/local-stack';
import { uniqueName } from '../helpers/pipeline';

const logger = createLogger({ service: 'schema-test', level: 'error' });
const run = promisify(execFile);
const MIGRATE_BIN = join(repoRoot(), 'packages', 'clickhouse', 'dist', 'bin', 'migrate.js');

async function runMigrate(env: Record<string, string>): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [MIGRATE_BIN], { env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'info', ...env }, timeout: 180_000 });
    return { code: 0, output: stdout + stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, output: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

async function ttls(ch: ClickHouseClient, db: string): Promise<Record<string, string>> {
  const rows = await (
    await ch.query({
      query: `SELECT name, extract(create_table_query, 'TTL (toDateTime\\\\(received_at\\\\) \\\\+ toIntervalDay\\\\(\\\\d+\\\\))') AS ttl FROM system.tables WHERE database = {db:String} AND name != 'schema_migrations' ORDER BY name`,
      query_params: { db },
      format: 'JSONEachRow',
    })
  ).json<{ name: string; ttl: string }>();
  return Object.fromEntries(rows.map((r) => [r.name, r.ttl]));
}

test('the migrate step applies RETENTION_DAYS as TTLs, the writer-style run leaves them, and 0 removes them', async () => {
  const stack = await testStack();
  const db = uniqueName('ret');
  const base = { CLICKHOUSE_URL: stack.clickhouseUrl, CLICKHOUSE_DATABASE: db };
  const ch = createClickHouse({ url: stack.clickhouseUrl, database: 'default' });
  try {
    const first = await runMigrate({ ...base, RETENTION_DAYS: '30', RETENTION_DAYS_BY_TABLE: 'logs=7' });
    assert.equal(first.code, 0, first.output);
    const day = (n: number): string => `toDateTime(received_at) + toIntervalDay(${n})`;
    assert.deepEqual(await ttls(ch, db), { images: day(30), logs: day(7), plots: day(30), scalar_bucket_repairs: day(30), scalar_buckets: day(30), scalar_buckets_view: '', scalars: day(30), task_deletions: '', vectors: day(30) });

    // A row received 40 days ago is past scalars' 30 days; one received now is not.
    await ch.command({
      query: `INSERT INTO ${db}.scalars (tenant, task, metric, variant, iter, value, timestamp, received_at, version)
        VALUES ('t', 'old', 'm', 'v', 1, 1, now64(3) - INTERVAL 40 DAY, now64(3) - INTERVAL 40 DAY, 1), ('t', 'new', 'm', 'v', 1, 1, now64(3), now64(3), 1)`,
    });
    await ch.command({ query: `OPTIMIZE TABLE ${db}.scalars FINAL` });
    const left = await (await ch.query({ query: `SELECT task FROM ${db}.scalars ORDER BY task`, format: 'JSONEachRow' })).json<{ task: string }>();
    assert.deepEqual(left.map((r) => r.task), ['new']);

    // The writer's start-up run (no retention settings) keeps the TTLs as they are.
    assert.deepEqual(await migrate({ url: stack.clickhouseUrl, database: db }, { logger }), []);
    assert.equal((await ttls(ch, db))['scalars'], day(30));

    // Unchanged settings: nothing to alter.
    const again = await runMigrate({ ...base, RETENTION_DAYS: '30', RETENTION_DAYS_BY_TABLE: 'logs=7' });
    assert.equal(again.code, 0, again.output);
    assert.doesNotMatch(again.output, /applying retention/);

    const changed = await runMigrate({ ...base, RETENTION_DAYS: '0', RETENTION_DAYS_BY_TABLE: 'logs=3' });
    assert.equal(changed.code, 0, changed.output);
    assert.deepEqual(await ttls(ch, db), { images: '', logs: day(3), plots: '', scalar_bucket_repairs: '', scalar_buckets: '', scalar_buckets_view: '', scalars: '', task_deletions: '', vectors: '' });

    const wrong = await runMigrate({ ...base, RETENTION_DAYS_BY_TABLE: 'log=3' });
    assert.equal(wrong.code, 1, 'an override naming no event table fails the step');
    assert.match(wrong.output, /RETENTION_DAYS_BY_TABLE names tables without retention: log/);
    assert.equal((await ttls(ch, db))['logs'], day(3), 'and changes nothing');
  } finally {
    await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    await ch.close();
  }
});

test('every statement of the cluster layout, retention included, parses in ClickHouse', async () => {
  const stack = await testStack();
  const ch = createClickHouse({ url: stack.clickhouseUrl, database: 'default' });
  try {
    const statements = loadMigrations('trackstream', undefined, { cluster: 'events' }).flatMap((m) => m.statements);
    const locals = statements.flatMap((s) => /^CREATE TABLE IF NOT EXISTS trackstream\.(\w+_local) /.exec(s)?.[1] ?? []);
    const withRetention = locals.filter((t) => statements.some((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS trackstream.${t} `) && s.includes('received_at')));
    const retention = planRetention(
      'trackstream',
      withRetention.map((name) => ({ name, createTableQuery: '' })),
      { defaultDays: 30, byTable: {} },
      'events',
    ).statements;
    assert.ok(locals.length >= 6 && retention.length >= 5);
    for (const sql of [...statements, ...retention]) {
      const rs = await ch.query({ query: `EXPLAIN AST ${sql}`, format: 'TabSeparatedRaw' });
      const ast = await rs.text();
      assert.match(ast, /^(CreateQuery|AlterQuery|DropQuery|DeleteQuery|OptimizeQuery|InsertQuery)/, sql);
    }
  } finally {
    await ch.close();
  }
});
