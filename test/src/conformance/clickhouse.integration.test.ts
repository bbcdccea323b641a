/**
 * Proves the local ClickHouse is a real engine and that its HTTP interface (a real server, or
 * the chDB front) behaves as @clickhouse/client expects.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ClickHouseError, createClient, type ClickHouseClient } from '@clickhouse/client';
import { readRawBody } from '@trackstream/clickhouse';
import { testStack, type LocalStack } from '@trackstream/local-stack';

let stack: LocalStack;
let ch: ClickHouseClient;
const db = `conformance_${randomUUID().replaceAll('-', '')}`;

before(async () => {
  stack = await testStack();
  const admin = createClient({ url: stack.clickhouseUrl });
  await admin.command({ query: `CREATE DATABASE ${db}` });
  await admin.close();
  // ClickHouse 25.8+ sends 64-bit integers as JSON numbers by default; quoted, they stay exact.
  ch = createClient({
    url: stack.clickhouseUrl,
    database: db,
    request_timeout: 120_000,
    clickhouse_settings: { output_format_json_quote_64bit_integers: 1 },
  });
});

after(async () => {
  await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await ch.close();
});

test('ping', async () => {
  const r = await ch.ping();
  assert.equal(r.success, true);
});

test('ReplacingMergeTree with LowCardinality and codecs: 200,000 rows in one insert, FINAL collapses duplicates', async () => {
  await ch.command({
    query: `CREATE TABLE points (
      tenant LowCardinality(String),
      task String CODEC(ZSTD(1)),
      metric LowCardinality(String),
      iter Int64 CODEC(Delta, ZSTD(1)),
      value Float64 CODEC(Gorilla, ZSTD(1)),
      version UInt64
    ) ENGINE = ReplacingMergeTree(version) ORDER BY (tenant, task, metric, iter)`,
  });
  const rows = Array.from({ length: 200_000 }, (_, i) => ({
    tenant: 'default',
    task: `t${i % 10}`,
    metric: 'loss',
    iter: Math.floor(i / 10),
    value: i / 7,
    version: 1,
  }));
  await ch.insert({ table: 'points', values: rows, format: 'JSONEachRow' });
  const count = async (final: boolean): Promise<number> => {
    const rs = await ch.query({ query: `SELECT count() AS n FROM points ${final ? 'FINAL' : ''}`, format: 'JSONEachRow' });
    const [row] = await rs.json<{ n: string }>();
    return Number(row?.n);
  };
  assert.equal(await count(false), 200_000);
  // Re-report 1,000 keys with a newer version: FINAL keeps one row per key, the newest.
  await ch.insert({
    table: 'points',
    values: rows.slice(0, 1000).map((r) => ({ ...r, value: -1, version: 2 })),
    format: 'JSONEachRow',
  });
  assert.equal(await count(false), 201_000);
  assert.equal(await count(true), 200_000);
  const rs = await ch.query({ query: `SELECT countIf(value = -1) AS n FROM points FINAL`, format: 'JSONEachRow' });
  assert.deepEqual(await rs.json(), [{ n: '1000' }]);
});

test('query parameters round-trip exactly (quotes, backslashes, newlines, braces, unicode, emoji)', async () => {
  const nasty = [`it's "quoted"`, 'back\\slash\\\\', 'line1\nline2\r\n\ttab', '{braces} {x:String}', 'ünïcødé 中文 עברית', '🚀🔥👩‍💻', "'; DROP TABLE points; --", ''];
  for (const s of nasty) {
    const rs = await ch.query({ query: 'SELECT {s:String} AS s, length({s:String}) AS n', query_params: { s }, format: 'JSONEachRow' });
    const [row] = await rs.json<{ s: string; n: string }>();
    assert.equal(row?.s, s);
    assert.equal(Number(row?.n), Buffer.byteLength(s));
  }
  const rs = await ch.query({ query: 'SELECT {a:Array(String)} AS a', query_params: { a: nasty }, format: 'JSONEachRow' });
  assert.deepEqual(await rs.json(), [{ a: nasty }]);
});

test('an Int64 above 2^53 round-trips', async () => {
  const big = '9223372036854775807';
  const rs = await ch.query({ query: 'SELECT {v:Int64} AS v, toString({v:Int64} - 1) AS w', query_params: { v: big }, format: 'JSONEachRow' });
  assert.deepEqual(await rs.json(), [{ v: big, w: '9223372036854775806' }]);
  await ch.command({ query: 'CREATE TABLE big (v Int64) ENGINE = MergeTree ORDER BY v' });
  await ch.insert({ table: 'big', values: [{ v: '9007199254740993' }], format: 'JSONEachRow' });
  const back = await (await ch.query({ query: 'SELECT v FROM big', format: 'JSONEachRow' })).json();
  assert.deepEqual(back, [{ v: '9007199254740993' }]);
});

test('errors carry ClickHouse codes: syntax error 62, unknown table 60', async () => {
  await assert.rejects(ch.query({ query: 'SELEC 1' }), (e: unknown) => e instanceof ClickHouseError && e.code === '62');
  await assert.rejects(ch.query({ query: 'SELECT * FROM no_such_table' }), (e: unknown) => e instanceof ClickHouseError && e.code === '60');
  // The connection stays usable after an error.
  assert.equal((await ch.ping()).success, true);
});

test('a raw result read whole: its bytes as sent, and an error raised after the first rows rejects instead of a cut body', async () => {
  const whole = await readRawBody(await ch.exec({ query: `SELECT number, repeat('x', number % 7) FROM numbers(100000) FORMAT TabSeparatedRaw` }));
  const lines = whole.toString('utf8').split('\n');
  assert.equal(lines.length, 100_001);
  assert.equal(lines[99_999], `99999\t${'x'.repeat(99_999 % 7)}`);
  assert.equal(lines[100_000], '');
  // Blocks of megabytes, in one block and in many (written without copies by the chDB front).
  for (const blockSize of [100, 1]) {
    const big = await readRawBody(
      await ch.exec({ query: `SELECT number, repeat(toString(number * 11), 600000) FROM numbers(6) SETTINGS max_block_size = ${blockSize} FORMAT TabSeparatedRaw` }),
    );
    assert.deepEqual(
      big.toString('latin1').split('\n'),
      [...Array.from({ length: 6 }, (_, i) => `${i}\t${String(i * 11).repeat(600_000)}`), ''],
      `max_block_size ${blockSize}`,
    );
  }
  // Small blocks: the failing row comes long after the response started.
  const failing = await ch.exec({
    query: `SELECT number, throwIf(number = 900000, 'late failure') FROM numbers(1000000) SETTINGS max_block_size = 1000 FORMAT TabSeparatedRaw`,
  });
  await assert.rejects(readRawBody(failing), (e: Error) => e.message.includes('late failure'));
});

test('8 concurrent queries succeed', async () => {
  const results = await Promise.all(
    Array.from({ length: 8 }, async (_, i) => {
      const rs = await ch.query({ query: 'SELECT sum(number) AS s FROM numbers({n:UInt64})', query_params: { n: 100_000 + i }, format: 'JSONEachRow' });
      const [row] = await rs.json<{ s: string }>();
      return BigInt(row?.s ?? -1);
    }),
  );
  results.forEach((s, i) => {
    const n = BigInt(100_000 + i);
    assert.equal(s, (n * (n - 1n)) / 2n);
  });
});

test('a per-query setting takes effect', async () => {
  await assert.rejects(
    ch.query({ query: 'SELECT number FROM numbers(10)', clickhouse_settings: { max_result_rows: '1', result_overflow_mode: 'throw' } }).then((r) => r.json()),
    (e: unknown) => e instanceof ClickHouseError && e.code === '396',
  );
  const quoted = await (
    await ch.query({ query: 'SELECT toInt64(1) AS v', format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 0 } })
  ).json();
  assert.deepEqual(quoted, [{ v: 1 }]);
});

test('rows survive a restart of the ClickHouse process', async () => {
  await ch.command({ query: 'CREATE TABLE durable (k String) ENGINE = MergeTree ORDER BY k' });
  await ch.insert({ table: 'durable', values: [{ k: 'a' }, { k: 'b' }], format: 'JSONEachRow' });
  await stack.stop('clickhouse');
  await assert.rejects(ch.query({ query: 'SELECT 1' }));
  await stack.start('clickhouse');
  const rows = await (await ch.query({ query: 'SELECT k FROM durable ORDER BY k', format: 'JSONEachRow' })).json();
  assert.deepEqual(rows, [{ k: 'a' }, { k: 'b' }]);
});
