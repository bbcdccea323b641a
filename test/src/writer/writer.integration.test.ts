/** The writer through the real gateway: rows exact, last write wins, poison messages, deletes. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { messageKey } from '@trackstream/event-schema';
import { waitFor } from '@trackstream/local-stack';
import { startPipeline, uniqueName, type Pipeline } from '../helpers/pipeline';

let p: Pipeline;
before(async () => {
  p = await startPipeline();
});
after(async () => {
  await p.stop();
});

const T0 = 1_700_000_000_123;

test('events of every kind appear in their tables, every field exact, within seconds', async () => {
  const task = `exact "task" \\ {x} ü 🚀`;
  const events = [
    { type: 'training_stats_scalar', task, iter: 3, metric: 'loss "q"', variant: 'tr\\ain', value: -0.125, timestamp: T0 },
    { type: 'training_stats_scalar', task, iter: 4, metric: 'loss "q"', variant: 'tr\\ain', value: Number.NaN, timestamp: T0 + 1 },
    { type: 'training_stats_scalar', task, iter: 5, metric: 'loss "q"', variant: 'tr\\ain', value: Number.NEGATIVE_INFINITY, timestamp: T0 + 2 },
    { type: 'training_stats_vector', task, iter: 1, metric: 'hist', variant: 'w', values: [1, 2.5, Number.POSITIVE_INFINITY], timestamp: T0 },
    { type: 'training_debug_image', task, iter: 2, metric: 'img', variant: 'sample', key: 'k/1.png', url: 'https://files/x.png?a=1&b=2', timestamp: T0 },
    { type: 'plot', task, iter: 9, metric: 'roc', variant: 'auc', plot_str: '{"data":[{"x":[1,2]}]}', timestamp: T0 },
    { type: 'log', task, iter: 12, level: 'warning', worker: 'gpu-1', msg: 'line one\nline two\ttab', timestamp: T0 },
  ];
  const body = events.map((e) => JSON.stringify(e, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? `__${v}__` : v)).replace(/"__(NaN|Infinity|-Infinity)__"/g, '$1')).join('\n');
  const t = Date.now();
  const r = await p.call('events.add_batch', body, { headers: { 'content-type': 'application/json-lines' } });
  assert.equal(r.data['added'], 7);
  const where = 'WHERE tenant = {tenant:String} AND task = {task:String}';
  const params = { tenant: 'default', task };
  await p.waitForCount(`SELECT count() FROM logs ${where}`, 1, params, 20_000);
  await p.waitForCount(`SELECT count() FROM scalars ${where}`, 3, params, 20_000);
  const seconds = (Date.now() - t) / 1000;
  assert.ok(seconds < 10, `visible within seconds (took ${seconds})`);

  const q = async (sql: string) => (await p.clickhouse.query({ query: sql, query_params: params, format: 'JSONEachRow' })).json<Record<string, unknown>>();
  assert.deepEqual(await q(`SELECT task, metric, variant, iter, toString(value) AS v, toUnixTimestamp64Milli(timestamp) AS ts FROM scalars FINAL ${where} ORDER BY iter`), [
    { task, metric: 'loss "q"', variant: 'tr\\ain', iter: '3', v: '-0.125', ts: String(T0) },
    { task, metric: 'loss "q"', variant: 'tr\\ain', iter: '4', v: 'nan', ts: String(T0 + 1) },
    { task, metric: 'loss "q"', variant: 'tr\\ain', iter: '5', v: '-inf', ts: String(T0 + 2) },
  ]);
  assert.deepEqual(await q(`SELECT metric, variant, iter, arrayMap(x -> toString(x), values) AS v FROM vectors FINAL ${where}`), [
    { metric: 'hist', variant: 'w', iter: '1', v: ['1', '2.5', 'inf'] },
  ]);
  assert.deepEqual(await q(`SELECT metric, variant, iter, key, url FROM images FINAL ${where}`), [
    { metric: 'img', variant: 'sample', iter: '2', key: 'k/1.png', url: 'https://files/x.png?a=1&b=2' },
  ]);
  assert.deepEqual(await q(`SELECT metric, variant, iter, plot_str FROM plots FINAL ${where}`), [{ metric: 'roc', variant: 'auc', iter: '9', plot_str: '{"data":[{"x":[1,2]}]}' }]);
  assert.deepEqual(await q(`SELECT iter, level, worker, msg, toUnixTimestamp64Milli(timestamp) AS ts FROM logs FINAL ${where}`), [
    { iter: '12', level: 'warning', worker: 'gpu-1', msg: 'line one\nline two\ttab', ts: String(T0) },
  ]);
});

test('re-reporting the same (task, iter, metric, variant) keeps one row, the newest value', async () => {
  const task = uniqueName('rereport');
  for (const value of [1, 2, 3]) {
    const r = await p.addBatch([{ type: 'training_stats_scalar', task, iter: 10, metric: 'acc', variant: 'val', value }]);
    assert.equal(r.status, 200);
  }
  await p.addBatch([{ type: 'training_stats_scalar', task, iter: 11, metric: 'acc', variant: 'val', value: 9 }]);
  await p.waitForCount('SELECT count() FROM scalars FINAL WHERE task = {task:String} AND iter = 11', 1, { task });
  const rows = await (
    await p.clickhouse.query({ query: 'SELECT iter, value FROM scalars FINAL WHERE task = {task:String} ORDER BY iter', query_params: { task }, format: 'JSONEachRow' })
  ).json();
  assert.deepEqual(rows, [
    { iter: '10', value: 3 },
    { iter: '11', value: 9 },
  ]);
});

test('a poison message goes to the dead-letter topic with its reason; the events behind it are written', async () => {
  const task = uniqueName('poison');
  const kafka = new Kafka({ clientId: 'poison-test', brokers: [p.stack.kafkaBrokers], logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: `${p.config.kafkaTopicPrefix}.events`, messages: [{ key: messageKey('default', task), value: '{"v":99,"garbage":true}' }] });
  await producer.send({ topic: `${p.config.kafkaTopicPrefix}.events`, messages: [{ key: messageKey('default', task), value: Buffer.from([0xff, 0xfe, 0x00]) }] });
  // Well-formed (the header's counts, the fields per line) but a value ClickHouse can't read:
  // only the insert finds out. Its good neighbour in the same batch must still be stored.
  const header = (rows: Record<string, number>) => JSON.stringify({ v: 2, tenant: 'default', task, receivedAt: Date.now(), rows });
  const fields = (iter: number, value: string) => `m\tv\t${iter}\t${value}\t2024-01-01 00:00:00.000\n`;
  await producer.send({
    topic: `${p.config.kafkaTopicPrefix}.events`,
    messages: [
      { key: messageKey('default', task), value: `${header({ scalars: 1 })}\n${fields(7, 'not-a-number')}` },
      { key: messageKey('default', task), value: `${header({ scalars: 1 })}\n${fields(8, '0.5')}` },
    ],
  });
  await producer.disconnect();
  const r = await p.addBatch([{ type: 'training_stats_scalar', task, iter: 1, metric: 'm', variant: 'v', value: 1 }]);
  assert.equal(r.status, 200);
  await p.waitForCount('SELECT count() FROM scalars WHERE task = {task:String}', 2, { task });
  assert.equal(await p.count('SELECT count() FROM scalars FINAL WHERE task = {task:String} AND iter = 8 AND value = 0.5', { task }), 1);

  const dlq = kafka.consumer({ groupId: uniqueName('dlq-reader') });
  const seen: Array<Record<string, string>> = [];
  await dlq.connect();
  await dlq.subscribe({ topic: `${p.config.kafkaTopicPrefix}.events.dead-letter`, fromBeginning: true });
  await dlq.run({
    eachMessage: async ({ message }) => {
      seen.push(Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, v?.toString() ?? ''])));
    },
  });
  await waitFor(() => seen.length >= 3, { timeoutMs: 20_000, what: 'three dead letters' });
  await dlq.disconnect();
  assert.deepEqual(seen.map((h) => h['reason']).sort(), ['invalid-json', 'rejected-by-clickhouse', 'unknown-version']);
  assert.ok(seen.every((h) => h['source-offset'] !== undefined && h['source-partition'] !== undefined));
  const metrics = await p.registry.getSingleMetricAsString('writer_dead_lettered_total');
  assert.match(metrics, /reason="unknown-version"} 1/);
});

test('delete_for_task: acknowledged events never reappear, events added after it are kept, the reply counts', async () => {
  const task = uniqueName('delete');
  const ev = (iter: number) => ({ type: 'training_stats_scalar', task, iter, metric: 'm', variant: 'v', value: iter });
  // 30 events acknowledged before the delete, some still in flight in Kafka when it is called.
  for (let b = 0; b < 3; b++) assert.equal((await p.addBatch(Array.from({ length: 10 }, (_, i) => ev(b * 10 + i)))).status, 200);
  await p.addBatch([{ type: 'log', task, msg: 'x' }]);
  // Events racing with the delete: sent while it runs; either side of it is correct.
  let racing = true;
  const racer = (async () => {
    let i = 1000;
    while (racing) {
      await p.addBatch([ev(i++)]);
      await sleep(5);
    }
  })();
  const del = await p.call<{ deleted: number }>('events.delete_for_task', { task });
  racing = false;
  await racer;
  assert.equal(del.status, 200);
  assert.ok(del.data.deleted >= 31, `counted what was acknowledged before (${del.data.deleted})`);
  // Added after the call returned: kept.
  assert.equal((await p.addBatch([ev(5000), ev(5001)])).status, 200);
  await p.waitForCount('SELECT count() FROM scalars FINAL WHERE task = {task:String} AND iter >= 5000', 2, { task });
  await sleep(1000);
  const before = await p.count('SELECT count() FROM scalars FINAL WHERE task = {task:String} AND iter < 1000', { task });
  assert.equal(before, 0, 'no event acknowledged before the delete reappears');
  assert.equal(await p.count('SELECT count() FROM logs WHERE task = {task:String}', { task }), 0, 'every kind deleted');
  // An invalid task id is refused, not treated as 'delete nothing'.
  assert.equal((await p.call('events.delete_for_task', { task: '' })).meta.result_subcode, 101);
});
