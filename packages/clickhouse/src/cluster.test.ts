import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertClusterName, newClusterRenderState, renderForCluster, shardingKey } from './cluster';
import { loadMigrations } from './migrations';

const C = { cluster: 'events' };

test('a ReplacingMergeTree table becomes a replicated local table and a Distributed table under its own name', () => {
  const state = newClusterRenderState();
  const out = renderForCluster(
    `CREATE TABLE IF NOT EXISTS db.scalars\n(\n    tenant LowCardinality(String),\n    task String,\n    iter Int64 CODEC(Delta, ZSTD(1)),\n    version UInt64\n)\nENGINE = ReplacingMergeTree(version)\nORDER BY (tenant, task, iter)`,
    C,
    state,
  );
  assert.deepEqual(out, [
    `CREATE TABLE IF NOT EXISTS db.scalars_local ON CLUSTER 'events' (\n    tenant LowCardinality(String),\n    task String,\n    iter Int64 CODEC(Delta, ZSTD(1)),\n    version UInt64\n)\nENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/scalars_local', '{replica}', version)\nORDER BY (tenant, task, iter)`,
    `CREATE TABLE IF NOT EXISTS db.scalars ON CLUSTER 'events' AS db.scalars_local ENGINE = Distributed('events', 'db', 'scalars_local', cityHash64(tenant, task))`,
  ]);
  assert.ok(state.sharded.has('db.scalars'));
});

test('engines without arguments or with empty ones get only the replica arguments', () => {
  const plain = renderForCluster('CREATE TABLE db.t (a String) ENGINE = MergeTree ORDER BY a', C, newClusterRenderState());
  assert.equal(plain[0], `CREATE TABLE db.t_local ON CLUSTER 'events' (a String) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/db/t_local', '{replica}') ORDER BY a`);
  assert.equal(plain[1], `CREATE TABLE db.t ON CLUSTER 'events' AS db.t_local ENGINE = Distributed('events', 'db', 't_local', cityHash64(a))`);
  const empty = renderForCluster('CREATE TABLE db.t (a String) ENGINE = ReplacingMergeTree() ORDER BY a', C, newClusterRenderState());
  assert.match(empty[0] ?? '', /ENGINE = ReplicatedReplacingMergeTree\('\/clickhouse\/tables\/\{shard\}\/db\/t_local', '\{replica\}'\) ORDER BY a$/);
  const collapsing = renderForCluster('CREATE TABLE db.t (a String, s Int8) ENGINE = CollapsingMergeTree(s) ORDER BY (a)', C, newClusterRenderState());
  assert.match(collapsing[0] ?? '', /ReplicatedCollapsingMergeTree\('[^']+', '\{replica\}', s\)/);
});

test('the sharding key is the first two sort-key columns, nested expressions included', () => {
  assert.equal(shardingKey('(a String) ENGINE = MergeTree ORDER BY (tenant, task, metric)', 't'), 'tenant, task');
  assert.equal(shardingKey('(a String) ENGINE = MergeTree ORDER BY (tenant, toStartOfDay(ts, \'UTC\'), x) SETTINGS a = 1', 't'), "tenant, toStartOfDay(ts, 'UTC')");
  assert.equal(shardingKey('(a String) ENGINE = MergeTree ORDER BY id SETTINGS index_granularity = 8192', 't'), 'id');
  assert.throws(() => shardingKey('(a String) ENGINE = MergeTree ORDER BY tuple()', 't'), /empty sort key/);
  assert.throws(() => shardingKey('(a String) ENGINE = MergeTree', 't'), /without ORDER BY/);
});

test('ALTER, DELETE, OPTIMIZE and DROP of a sharded table go to its local table on every server', () => {
  const state = newClusterRenderState();
  renderForCluster('CREATE TABLE IF NOT EXISTS db.logs (tenant String, task String) ENGINE = MergeTree ORDER BY (tenant, task)', C, state);
  assert.deepEqual(renderForCluster('ALTER TABLE db.logs ADD COLUMN IF NOT EXISTS host String, MODIFY COLUMN task LowCardinality(String)', C, state), [
    `ALTER TABLE db.logs_local ON CLUSTER 'events' ADD COLUMN IF NOT EXISTS host String, MODIFY COLUMN task LowCardinality(String)`,
    `ALTER TABLE db.logs ON CLUSTER 'events' ADD COLUMN IF NOT EXISTS host String, MODIFY COLUMN task LowCardinality(String)`,
  ]);
  // Not a column change: the Distributed table stores nothing to change.
  assert.deepEqual(renderForCluster('ALTER TABLE db.logs ADD INDEX i task TYPE bloom_filter GRANULARITY 4', C, state), [
    `ALTER TABLE db.logs_local ON CLUSTER 'events' ADD INDEX i task TYPE bloom_filter GRANULARITY 4`,
  ]);
  assert.deepEqual(renderForCluster("DELETE FROM db.logs WHERE task = 'x'", C, state), [`DELETE FROM db.logs_local ON CLUSTER 'events' WHERE task = 'x'`]);
  assert.deepEqual(renderForCluster('OPTIMIZE TABLE db.logs FINAL', C, state), [`OPTIMIZE TABLE db.logs_local ON CLUSTER 'events' FINAL`]);
  assert.deepEqual(renderForCluster('DROP TABLE IF EXISTS db.logs SYNC', C, state), [
    `DROP TABLE IF EXISTS db.logs ON CLUSTER 'events' SYNC`,
    `DROP TABLE IF EXISTS db.logs_local ON CLUSTER 'events' SYNC`,
  ]);
  assert.equal(state.sharded.has('db.logs'), false);
});

test('databases, views, non-MergeTree tables and inserts are kept whole; the rest is refused', () => {
  const state = newClusterRenderState();
  assert.deepEqual(renderForCluster('CREATE DATABASE IF NOT EXISTS db', C, state), [`CREATE DATABASE IF NOT EXISTS db ON CLUSTER 'events'`]);
  assert.deepEqual(renderForCluster('CREATE VIEW IF NOT EXISTS db.v AS SELECT 1', C, state), [`CREATE VIEW IF NOT EXISTS db.v ON CLUSTER 'events' AS SELECT 1`]);
  assert.deepEqual(renderForCluster('CREATE TABLE db.l (a String) ENGINE = Log', C, state), [`CREATE TABLE db.l ON CLUSTER 'events' (a String) ENGINE = Log`]);
  assert.deepEqual(renderForCluster('ALTER TABLE db.l ADD COLUMN b String', C, state), [`ALTER TABLE db.l ON CLUSTER 'events' ADD COLUMN b String`]);
  assert.deepEqual(renderForCluster('INSERT INTO db.t SELECT * FROM db.u', C, state), ['INSERT INTO db.t SELECT * FROM db.u']);
  assert.throws(() => renderForCluster('CREATE MATERIALIZED VIEW db.mv TO db.t AS SELECT 1', C, state), /not supported on a cluster/);
  assert.throws(() => renderForCluster('CREATE MATERIALIZED VIEW db.mv TO db.l AS SELECT a FROM db.l', C, state), /not supported on a cluster/);
  assert.throws(() => renderForCluster('RENAME TABLE db.a TO db.b', C, state), /not supported on a cluster/);
});

test('materialized views read and write the local tables of sharded tables', () => {
  const state = newClusterRenderState();
  renderForCluster('CREATE TABLE db.src (tenant String, task String, x Int64) ENGINE = MergeTree ORDER BY (tenant, task, x)', C, state);
  renderForCluster('CREATE TABLE db.agg (tenant String, task String, n SimpleAggregateFunction(sum, UInt64)) ENGINE = AggregatingMergeTree ORDER BY (tenant, task)', C, state);
  assert.deepEqual(renderForCluster('CREATE MATERIALIZED VIEW IF NOT EXISTS db.mv TO db.agg AS SELECT tenant, task, count() AS n FROM db.src GROUP BY tenant, task', C, state), [
    `CREATE MATERIALIZED VIEW IF NOT EXISTS db.mv ON CLUSTER 'events' TO db.agg_local AS SELECT tenant, task, count() AS n FROM db.src_local GROUP BY tenant, task`,
  ]);
});

test('cluster names are plain names or a macro, never SQL', () => {
  assert.equal(assertClusterName('prod-events_1'), 'prod-events_1');
  assert.equal(assertClusterName('{cluster}'), '{cluster}');
  assert.throws(() => assertClusterName("x' SETTINGS a=1 --"), /cluster name/);
  assert.throws(() => assertClusterName(''), /cluster name/);
  assert.throws(() => renderForCluster('CREATE DATABASE db', { cluster: 'a b' }, newClusterRenderState()), /cluster name/);
});

test('every shipped migration renders for a cluster: each MergeTree table gets a local and a Distributed table', () => {
  const single = loadMigrations('tsdb');
  const clustered = loadMigrations('tsdb', undefined, { cluster: 'events' });
  assert.deepEqual(
    clustered.map((m) => [m.id, m.checksum]),
    single.map((m) => [m.id, m.checksum]),
  );
  const all = clustered.flatMap((m) => m.statements);
  assert.ok(all.every((s) => s.includes("ON CLUSTER 'events'") || s.startsWith('INSERT')), 'every DDL statement runs on the whole cluster');
  const created = single.flatMap((m) => m.statements).flatMap((s) => /^CREATE TABLE IF NOT EXISTS tsdb\.(\w+)[^]*ENGINE = \w*MergeTree/.exec(s)?.[1] ?? []);
  assert.ok(created.includes('scalars') && created.includes('logs'));
  for (const table of created) {
    assert.ok(all.some((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS tsdb.${table}_local ON CLUSTER 'events'`) && /ENGINE = Replicated\w*MergeTree\('\/clickhouse\/tables\/\{shard\}\//.test(s)), `${table}_local`);
    assert.ok(all.some((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS tsdb.${table} ON CLUSTER 'events' AS tsdb.${table}_local ENGINE = Distributed('events', 'tsdb', '${table}_local', cityHash64(tenant, task))`)), `${table} distributed`);
  }
});

test('without a cluster the statements are the files as they are', () => {
  const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
  const sql = 'CREATE TABLE IF NOT EXISTS {{db}}.t\n(\n    a String\n)\nENGINE = ReplacingMergeTree\nORDER BY a;\n';
  writeFileSync(join(dir, '0001_create_t.sql'), sql);
  assert.deepEqual(loadMigrations('x', dir)[0]?.statements, ['CREATE TABLE IF NOT EXISTS x.t\n(\n    a String\n)\nENGINE = ReplacingMergeTree\nORDER BY a']);
  assert.deepEqual(loadMigrations('x', dir, { cluster: 'c' })[0]?.statements, [
    "CREATE TABLE IF NOT EXISTS x.t_local ON CLUSTER 'c' (\n    a String\n)\nENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/x/t_local', '{replica}')\nORDER BY a",
    "CREATE TABLE IF NOT EXISTS x.t ON CLUSTER 'c' AS x.t_local ENGINE = Distributed('c', 'x', 't_local', cityHash64(a))",
  ]);
});
