import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layoutProblem, loadMigrations, splitStatements } from './migrations';

test('splitStatements drops comment lines and splits on line-ending semicolons', () => {
  const sql = `-- header\nCREATE TABLE a (x String DEFAULT ';') ENGINE = Log;\n\n-- two\nCREATE TABLE b (y UInt8)\nENGINE = Log;\n`;
  assert.deepEqual(splitStatements(sql), [`CREATE TABLE a (x String DEFAULT ';') ENGINE = Log`, 'CREATE TABLE b (y UInt8)\nENGINE = Log']);
});

test('loadMigrations numbers the shipped files in order and fills in the database', () => {
  const ms = loadMigrations('tsdb');
  assert.ok(ms.length >= 1);
  assert.deepEqual(
    ms.map((m) => m.id),
    [...ms.map((m) => m.id)].sort((a, b) => a - b),
  );
  const first = ms[0]!;
  assert.equal(first.id, 1);
  assert.ok(first.statements.every((s) => !s.includes('{{db}}')));
  assert.ok(first.statements.some((s) => s.startsWith('CREATE TABLE IF NOT EXISTS tsdb.scalars')));
});

test('loadMigrations refuses a database name that is not a plain identifier', () => {
  assert.throws(() => loadMigrations('x; DROP TABLE y'), /identifier/);
});

test('migrations for one server and for a cluster are never mixed in one database', () => {
  assert.equal(layoutProblem('db', 'ReplacingMergeTree', undefined), undefined);
  assert.equal(layoutProblem('db', 'ReplicatedReplacingMergeTree', 'events'), undefined);
  assert.match(layoutProblem('db', 'ReplicatedReplacingMergeTree', undefined) ?? '', /laid out for a ClickHouse cluster.*CLICKHOUSE_CLUSTER/);
  assert.match(layoutProblem('db', 'ReplacingMergeTree', 'events') ?? '', /created for one ClickHouse server, not for cluster events/);
  // A database without bookkeeping yet is new: either layout may create it.
  assert.equal(layoutProblem('db', undefined, 'events'), undefined);
  assert.equal(layoutProblem('db', undefined, undefined), undefined);
});
