/**
 * The writer's delivery guarantee under faults: at-least-once consumption onto idempotent rows,
 * so a replay, a crash or a ClickHouse outage ends with every acknowledged event stored exactly
 * once (counted with FINAL, which applies the dedup rule).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { waitFor } from '@trackstream/local-stack';
import { startPipeline, type Pipeline } from '../helpers/pipeline';
import { startLoad, type LoadResult } from '../helpers/load';
import { startWriterProcess, type WriterProcess } from '../helpers/writer-process';

let p: Pipeline;
let writer: WriterProcess | undefined;

before(async () => {
  // The writer runs as a child process so it can be killed; the gateway stays in this process.
  p = await startPipeline({ writer: false, env: { WRITER_BATCH_MS: '150' } });
  writer = await startWriterProcess(p.config);
});
after(async () => {
  await writer?.kill('SIGKILL');
  await p.stop();
});

async function storedExactly(prefix: string, expected: LoadResult, timeoutMs = 90_000): Promise<void> {
  const scalars = `SELECT count() FROM scalars FINAL WHERE startsWith(task, {prefix:String})`;
  const logs = `SELECT count() FROM logs FINAL WHERE startsWith(task, {prefix:String})`;
  await p.waitForCount(scalars, expected.ackedScalars, { prefix }, timeoutMs);
  await p.waitForCount(logs, expected.ackedLogs, { prefix }, timeoutMs);
  // Exactly: nothing beyond what was acknowledged (a refused batch must not half-appear).
  assert.equal(await p.count(scalars, { prefix }), expected.ackedScalars);
  assert.equal(await p.count(logs, { prefix }), expected.ackedLogs);
  // And no identity twice once merged: uniqExact over the identity equals the FINAL count.
  assert.equal(await p.count(`SELECT uniqExact(task, metric, variant, iter) FROM scalars WHERE startsWith(task, {prefix:String})`, { prefix }), expected.ackedScalars);
}

async function lag(): Promise<number> {
  const kafka = new Kafka({ clientId: 'lag-check', brokers: [p.stack.kafkaBrokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topic = `${p.config.kafkaTopicPrefix}.events`;
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId: p.config.writerGroupId, topics: [topic] });
    return ends.reduce((sum, e) => {
      const c = committed?.partitions.find((x) => x.partition === e.partition);
      const at = c && Number(c.offset) >= 0 ? Number(c.offset) : 0;
      return sum + Number(e.high) - at;
    }, 0);
  } finally {
    await admin.disconnect();
  }
}

test('crash: the writer killed with SIGKILL mid-flush, three times; every acknowledged event stored exactly once', async () => {
  const load = startLoad(p, { taskPrefix: 'crash', intervalMs: 20 });
  for (const delay of [700, 1300, 450]) {
    await sleep(delay);
    await writer?.kill('SIGKILL');
    await sleep(200);
    writer = await startWriterProcess(p.config);
  }
  await sleep(500);
  const result = await load.stop();
  assert.ok(result.acked > 0 && result.refused === 0, `load ran: ${JSON.stringify(result)}`);
  await storedExactly('crash', result);
  await waitFor(async () => (await lag()) === 0, { timeoutMs: 30_000, what: 'lag to drain' });
});

test('replay: the group reset to the beginning consumes everything again and no row count changes', async () => {
  const load = startLoad(p, { taskPrefix: 'replay', intervalMs: 10 });
  await sleep(1500);
  const result = await load.stop();
  await storedExactly('replay', result);
  const totalBefore = await p.count('SELECT count() FROM scalars FINAL');
  const logsBefore = await p.count('SELECT count() FROM logs FINAL');

  await writer?.kill('SIGTERM');
  const kafka = new Kafka({ clientId: 'replay', brokers: [p.stack.kafkaBrokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.resetOffsets({ groupId: p.config.writerGroupId, topic: `${p.config.kafkaTopicPrefix}.events`, earliest: true });
  await admin.disconnect();
  assert.ok((await lag()) > 0, 'the group is back at the beginning');
  writer = await startWriterProcess(p.config);
  await waitFor(async () => (await lag()) === 0, { timeoutMs: 60_000, what: 'the replay to finish' });
  assert.equal(await p.count('SELECT count() FROM scalars FINAL'), totalBefore);
  assert.equal(await p.count('SELECT count() FROM logs FINAL'), logsBefore);
  await storedExactly('replay', result);
});

test('ClickHouse stopped for 20 s under a steady load: no loss, no duplicates, and the lag drains', async () => {
  const load = startLoad(p, { taskPrefix: 'chdown', intervalMs: 25 });
  await sleep(1000);
  await p.stack.stop('clickhouse');
  await sleep(20_000);
  const lagDuringOutage = await lag();
  await p.stack.start('clickhouse');
  await sleep(1000);
  const result = await load.stop();
  assert.ok(lagDuringOutage > 0, 'messages waited in Kafka during the outage');
  assert.equal(result.refused, 0, 'the gateway kept accepting: Kafka holds the events');
  await storedExactly('chdown', result);
  await waitFor(async () => (await lag()) === 0, { timeoutMs: 60_000, what: 'lag to drain' });
  const metrics = await writer!.metrics();
  assert.match(metrics, /writer_insert_failures_total\{[^}]*\} [1-9]/, 'the failed inserts were retried, and counted');
  // The lag metric measures what is stored and committed: drained, it reads 0 on every partition.
  const lagLines = metrics.split('\n').filter((l) => l.startsWith('writer_consumer_lag_messages{'));
  assert.ok(lagLines.length > 0 && lagLines.every((l) => l.endsWith(' 0')), lagLines.join('\n'));
});
