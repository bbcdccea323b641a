/**
 * Proves the local Kafka is a real broker: partitions, acks=all, consumer groups, durability.
 * The same tests run against the test stack's broker (the pom's version, the default) and
 * against a second broker of the oldest supported version, started here on its own.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { kafkaVersion, LocalStack, OLDEST_SUPPORTED_KAFKA, repoRoot, testStack, waitFor } from '@trackstream/local-stack';

const N = 10_000;

/** The conformance tests on the broker of `openStack`'s stack. */
function conformance(openStack: () => Promise<LocalStack>, close: (stack: LocalStack) => Promise<void>): void {
  let stack: LocalStack;
  let kafka: Kafka;
  const topic = `conformance-${randomUUID()}`;
  const group = `conformance-group-${randomUUID()}`;
  const clients: Array<Producer | Consumer> = [];

  before(async () => {
    stack = await openStack();
    kafka = new Kafka({ clientId: 'conformance', brokers: [stack.kafkaBrokers], logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 200 } });
  });

  after(async () => {
    for (const c of clients) await c.disconnect().catch(() => undefined);
    if (stack) await close(stack);
  });

  test('create a 12-partition topic', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 12, replicationFactor: 1 }], waitForLeaders: true });
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    await admin.disconnect();
    assert.equal(meta.topics[0]?.partitions.length, 12);
  });

  test('produce 10,000 messages with acks=all', async () => {
    const producer = kafka.producer({ idempotent: true });
    clients.push(producer);
    await producer.connect();
    for (let b = 0; b < N; b += 1000) {
      const messages = Array.from({ length: 1000 }, (_, i) => ({ key: `k${(b + i) % 97}`, value: String(b + i) }));
      const res = await producer.send({ topic, acks: -1, messages });
      assert.ok(res.length > 0);
    }
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    assert.equal(offsets.reduce((s, p) => s + Number(p.high), 0), N);
    assert.ok(offsets.filter((p) => Number(p.high) > 0).length > 1, 'messages spread over partitions');
  });

  /** Consumes with the group until `want` messages arrived; commits what it processed. */
  async function consume(want: number): Promise<Set<string>> {
    const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10_000, heartbeatInterval: 1000 });
    clients.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen = new Set<string>();
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, resolveOffset }) => {
        for (const m of batch.messages) {
          seen.add(m.value?.toString() ?? '');
          resolveOffset(m.offset);
        }
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) }]);
      },
    });
    await waitFor(() => seen.size >= want, { timeoutMs: 60_000, what: `${want} messages` });
    await consumer.disconnect();
    return seen;
  }

  test('a consumer group consumes every message, and committed offsets survive its restart', async () => {
    const first = await consume(N);
    assert.equal(first.size, N);
    const producer = kafka.producer();
    clients.push(producer);
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: 'late', value: 'late-1' }, { key: 'late', value: 'late-2' }] });
    // Restarted, the group resumes after its committed offsets: only the two new messages.
    const second = await consume(2);
    assert.deepEqual([...second].sort(), ['late-1', 'late-2']);
  });

  test('messages survive a broker restart', async () => {
    await stack.stop('kafka');
    await stack.start('kafka');
    const admin = kafka.admin();
    await admin.connect();
    try {
      // Right after a restart the partitions may still be loading: poll until they answer.
      const total = await waitFor(
        async () => {
          const offsets = await admin.fetchTopicOffsets(topic);
          return offsets.reduce((s, p) => s + Number(p.high), 0);
        },
        { timeoutMs: 60_000, what: 'topic offsets after restart' },
      );
      assert.equal(total, N + 2);
    } finally {
      await admin.disconnect();
    }
    // And they are readable, not just counted.
    const reader = kafka.consumer({ groupId: `${group}-reader` });
    clients.push(reader);
    await reader.connect();
    await reader.subscribe({ topic, fromBeginning: true });
    let n = 0;
    await reader.run({ eachBatch: async ({ batch }) => void (n += batch.messages.length) });
    await waitFor(() => n >= N + 2, { timeoutMs: 60_000, what: 'all messages after restart' });
    await reader.disconnect();
    assert.equal(n, N + 2);
  });
}

describe(`Kafka ${kafkaVersion(repoRoot())} (the default broker, the test stack's)`, () => {
  conformance(testStack, async () => undefined);
});

describe(`Kafka ${OLDEST_SUPPORTED_KAFKA} (the oldest supported broker, a second one of its own)`, () => {
  conformance(
    async () => {
      const stack = await LocalStack.isolated({ kafkaVersion: OLDEST_SUPPORTED_KAFKA, kafkaHeapMb: 256, log: () => undefined });
      await stack.start('kafka');
      return stack;
    },
    async (stack) => {
      await stack.down();
      stack.destroy();
    },
  );
});
