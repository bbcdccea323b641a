/**
 * ConsumerLoop's ordering rules with a fake Kafka consumer, a fake sink and a fake decoder (no
 * Kafka, no ClickHouse): inserts may overlap, commits may not overtake them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BatchConsumer, BatchContext, ConsumedMessage, PartitionOffset } from '@trackstream/kafka';
import { Registry } from '@trackstream/metrics';
import { createLogger } from '@trackstream/runtime';
import { ConsumerLoop } from './consumer';
import type { DeadLetter } from './dead-letter';
import type { Deleter } from './deleter';
import { createWriterMetrics } from './metrics';
import type { Sink } from './sink';

interface Harness {
  loop: ConsumerLoop;
  commits: string[];
  inserted: string[];
  feed(offsets: string[]): Promise<void>;
}

/** Each message is one row whose text is its offset; `insertMs(offset)` decides how long its insert takes or whether it throws. */
function fakeHarness(insertMs: (offset: string) => number | 'fail'): Harness {
  const commits: string[] = [];
  const inserted: string[] = [];
  let handler: ((m: readonly ConsumedMessage[], ctx: BatchContext) => Promise<void>) | undefined;
  const consumer: BatchConsumer = {
    async start(h) {
      handler = h;
    },
    async commit(offsets: readonly PartitionOffset[]) {
      commits.push(...offsets.map((o) => o.offset));
    },
    async stop() {},
  };
  const sink = {
    async insert(_table: string, chunks: readonly Buffer[]) {
      const offset = chunks.map((c) => c.toString()).join(',');
      const ms = insertMs(offset);
      if (ms === 'fail') throw new Error(`insert of ${offset} failed`);
      await sleep(ms);
      inserted.push(offset);
    },
  } as unknown as Sink;
  const loop = new ConsumerLoop({
    consumer,
    sink,
    deadLetter: {} as DeadLetter,
    deleter: {} as Deleter,
    decode: (m) => ({ kind: 'events', receivedAt: Date.now(), rows: [{ table: 'scalars', data: Buffer.from(m.offset), count: 1 }] }),
    limits: { maxRows: 1, maxBytes: 1 << 20, maxAgeMs: 60_000 },
    metrics: createWriterMetrics(new Registry()),
    logger: createLogger({ service: 'test', level: 'silent' }),
  });
  const ctx: BatchContext = { topic: 't', partition: 0, highWatermark: '100', heartbeat: async () => undefined, isActive: () => true };
  return {
    loop,
    commits,
    inserted,
    async feed(offsets) {
      await loop.start();
      await handler?.(offsets.map((offset) => ({ partition: 0, offset, key: null, value: null, headers: {} })), ctx);
    },
  };
}

test('fake consumer and sink: batches insert two at a time, yet commit in order, each after its insert', async () => {
  // The first insert is the slowest: the second finishes before it, and must not commit first.
  const h = fakeHarness((o) => ({ '0': 80, '1': 10, '2': 30, '3': 5 })[o] ?? 1);
  await h.feed(['0', '1', '2', '3']);
  await h.loop.stop();
  assert.notEqual(h.inserted[0], '0', 'a later insert ran beside the first and finished before it');
  assert.deepEqual(h.commits, ['1', '2', '3', '4']);
  assert.equal(h.loop.healthy, true);
});

test('fake consumer and sink: after a failed insert no later batch commits, and the loop reports it', async () => {
  const h = fakeHarness((o) => (o === '1' ? 'fail' : 5));
  // Waiting on a full pipeline, the consumer meets the failure (Kafka would hand the batch over again).
  await h.feed(['0', '1', '2', '3']).catch(() => undefined);
  await h.loop.stop();
  assert.deepEqual(h.commits, ['1'], 'only the batch before the failure');
  assert.ok(h.inserted.includes('2'), 'later batches were inserted (idempotent when consumed again)');
  assert.equal(h.loop.healthy, false);
});
