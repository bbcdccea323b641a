import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from '@trackstream/runtime';

export interface ConsumedMessage {
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

export interface BatchContext {
  topic: string;
  partition: number;
  /** The partition's high watermark when the batch was fetched (the next offset to be written). */
  highWatermark: string;
  /** Tells the group this member is alive; call it during long work. */
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping or the partition was revoked. */
  isActive(): boolean;
}

export interface PartitionOffset {
  partition: number;
  /** The next offset to read, i.e. one past the last processed message. */
  offset: string;
}

export interface BatchConsumer {
  /** Joins the group and calls `handle` for each fetched batch of one partition, in order. */
  start(handle: (messages: readonly ConsumedMessage[], ctx: BatchContext) => Promise<void>): Promise<void>;
  /** Commits offsets explicitly; nothing is ever committed automatically. */
  commit(offsets: readonly PartitionOffset[]): Promise<void>;
  stop(): Promise<void>;
}

export interface BatchConsumerOptions {
  groupId: string;
  topic: string;
  logger: Logger;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  maxBytesPerPartition?: number;
}

/**
 * Our consumer interface over kafkajs `eachBatch`, with auto-commit off: the caller commits
 * only what it has stored. Offsets are resolved as messages are handed over, so the next
 * fetch continues after them; after a rebalance or restart consumption resumes from the last
 * commit, and anything handed over but not committed is delivered again.
 */
export function createBatchConsumer(kafka: Kafka, opts: BatchConsumerOptions): BatchConsumer {
  const log = opts.logger.child({ component: 'consumer' });
  const consumer: Consumer = kafka.consumer({
    groupId: opts.groupId,
    sessionTimeout: opts.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: opts.heartbeatIntervalMs ?? 3000,
    maxBytesPerPartition: opts.maxBytesPerPartition ?? 16 * 1024 * 1024,
    maxBytes: 64 * 1024 * 1024,
    allowAutoTopicCreation: false,
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 5000 },
  });
  consumer.on(consumer.events.CRASH, (e) => log.error({ err: e.payload.error, restart: e.payload.restart }, 'consumer crashed'));
  consumer.on(consumer.events.GROUP_JOIN, (e) => log.info({ assigned: e.payload.memberAssignment }, 'joined consumer group'));

  return {
    async start(handle) {
      await consumer.connect();
      await consumer.subscribe({ topic: opts.topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 1,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          if (batch.messages.length === 0) return;
          const messages = batch.messages.map((m) => ({
            partition: batch.partition,
            offset: m.offset,
            key: m.key,
            value: m.value,
            headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, v?.toString() ?? ''])),
          }));
          await handle(messages, {
            topic: batch.topic,
            partition: batch.partition,
            highWatermark: batch.highWatermark,
            heartbeat,
            isActive: () => isRunning() && !isStale(),
          });
          for (const m of batch.messages) resolveOffset(m.offset);
        },
      });
    },
    async commit(offsets) {
      if (offsets.length === 0) return;
      await consumer.commitOffsets(offsets.map((o) => ({ topic: opts.topic, partition: o.partition, offset: o.offset })));
    },
    async stop() {
      await consumer.disconnect();
    },
  };
}
