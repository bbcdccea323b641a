import { test } from 'node:test';
import assert from 'node:assert/strict';
import { currentTtl, parseRetentionByTable, planRetention, type StoredTable } from './retention';
import { schemaOptions } from './schema-config';

const q = (name: string, ttl = ''): StoredTable => ({
  name,
  createTableQuery: `CREATE TABLE db.${name} (\`received_at\` DateTime64(3, 'UTC'), \`x\` String TTL toDateTime(received_at) + toIntervalDay(1)) ENGINE = ReplacingMergeTree(version) ORDER BY (tenant, task)${ttl} SETTINGS index_granularity = 8192`,
});

test("the scalar buckets and their repairs follow the scalars' retention", () => {
  const tables = [q('scalars'), q('scalar_buckets'), q('scalar_bucket_repairs'), q('logs')];
  assert.deepEqual(planRetention('db', tables, { defaultDays: 90, byTable: { scalars: 30 } }).statements, [
    'ALTER TABLE db.logs MODIFY TTL toDateTime(received_at) + toIntervalDay(90)',
    'ALTER TABLE db.scalar_bucket_repairs MODIFY TTL toDateTime(received_at) + toIntervalDay(30)',
    'ALTER TABLE db.scalar_buckets MODIFY TTL toDateTime(received_at) + toIntervalDay(30)',
    'ALTER TABLE db.scalars MODIFY TTL toDateTime(received_at) + toIntervalDay(30)',
  ]);
});

test('the current TTL is told apart: none, written by the runner, or another one', () => {
  assert.deepEqual(currentTtl(q('a').createTableQuery), { kind: 'none' });
  assert.deepEqual(currentTtl(q('a', ' TTL toDateTime(received_at) + toIntervalDay(30)').createTableQuery), { kind: 'managed', days: 30 });
  assert.deepEqual(currentTtl(q('a', ' TTL toDateTime(timestamp) + toIntervalMonth(1)').createTableQuery), { kind: 'foreign' });
  assert.deepEqual(currentTtl(q('a', ' TTL toDateTime(received_at) + toIntervalDay(30) DELETE WHERE x = 1').createTableQuery), { kind: 'foreign' });
});

test('retention sets, changes and removes the TTLs it manages, and only when they differ', () => {
  const tables = [q('scalars'), q('logs', ' TTL toDateTime(received_at) + toIntervalDay(7)'), q('images', ' TTL toDateTime(received_at) + toIntervalDay(90)'), q('plots', ' TTL toDateTime(received_at) + toIntervalDay(9)')];
  const plan = planRetention('db', tables, { defaultDays: 90, byTable: { logs: 30, plots: 0 } });
  assert.deepEqual(plan.statements, [
    'ALTER TABLE db.logs MODIFY TTL toDateTime(received_at) + toIntervalDay(30)',
    'ALTER TABLE db.plots REMOVE TTL',
    'ALTER TABLE db.scalars MODIFY TTL toDateTime(received_at) + toIntervalDay(90)',
  ]);
  assert.deepEqual(planRetention('db', tables, { defaultDays: 0, byTable: {} }).statements, [
    'ALTER TABLE db.images REMOVE TTL',
    'ALTER TABLE db.logs REMOVE TTL',
    'ALTER TABLE db.plots REMOVE TTL',
  ]);
  assert.deepEqual(planRetention('db', [q('scalars')], { defaultDays: 0, byTable: {} }), { statements: [], leftAlone: [] });
});

test('a TTL the runner did not write is left alone when the table is to be kept forever', () => {
  const plan = planRetention('db', [q('logs', ' TTL toDateTime(timestamp) + toIntervalMonth(1)')], { defaultDays: 0, byTable: {} });
  assert.deepEqual(plan, { statements: [], leftAlone: ['logs'] });
  assert.deepEqual(planRetention('db', [q('logs', ' TTL toDateTime(timestamp) + toIntervalMonth(1)')], { defaultDays: 5, byTable: {} }).statements, [
    'ALTER TABLE db.logs MODIFY TTL toDateTime(received_at) + toIntervalDay(5)',
  ]);
});

test('on a cluster the local tables are altered on every server; overrides use the plain names', () => {
  const plan = planRetention('db', [q('logs_local'), q('scalars_local')], { defaultDays: 0, byTable: { logs: 14 } }, 'events');
  assert.deepEqual(plan.statements, [`ALTER TABLE db.logs_local ON CLUSTER 'events' MODIFY TTL toDateTime(received_at) + toIntervalDay(14)`]);
});

test('an override naming a table without retention is an error that lists the event tables', () => {
  assert.throws(() => planRetention('db', [q('logs'), q('scalars')], { defaultDays: 0, byTable: { log: 3 } }), /log.*event tables: logs, scalars/);
});

test('RETENTION_DAYS_BY_TABLE is table=days, comma-separated', () => {
  assert.deepEqual(parseRetentionByTable(''), {});
  assert.deepEqual(parseRetentionByTable(' logs=30, images = 14 ,'), { logs: 30, images: 14 });
  assert.throws(() => parseRetentionByTable('logs:30'), /table=days/);
  assert.throws(() => parseRetentionByTable('logs=-1'), /table=days/);
  assert.throws(() => parseRetentionByTable("logs=1;DROP TABLE x"), /table=days/);
});

test('schema options: no cluster by default, a checked cluster name otherwise', () => {
  assert.deepEqual(schemaOptions({ clickhouseCluster: '', retentionDays: 0, retentionDaysByTable: '' }), { retention: { defaultDays: 0, byTable: {} } });
  assert.deepEqual(schemaOptions({ clickhouseCluster: '{cluster}', retentionDays: 7, retentionDaysByTable: 'logs=1' }), {
    cluster: '{cluster}',
    retention: { defaultDays: 7, byTable: { logs: 1 } },
  });
  assert.throws(() => schemaOptions({ clickhouseCluster: "c'; --", retentionDays: 0, retentionDaysByTable: '' }), /cluster name/);
});
