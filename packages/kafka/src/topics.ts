import { retry } from '@trackstream/runtime';
import type { Kafka } from 'kafkajs';

export interface TopicNames {
  /** Event messages from the gateway, keyed by tenant + task. */
  readonly events: string;
  /** Messages the writer could not decode, with the reason in a header. */
  readonly deadLetter: string;
}

export function topicNames(prefix: string): TopicNames {
  return { events: `${prefix}.events`, deadLetter: `${prefix}.events.dead-letter` };
}

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  replicationFactor?: number;
  /** Topic-level configs, e.g. retention.ms. */
  configs?: Record<string, string>;
}

/**
 * Creates the topics that are missing; existing ones are left as they are (a partition count
 * is only ever raised by an operator, since it moves keys between partitions).
 */
export async function ensureTopics(kafka: Kafka, specs: readonly TopicSpec[], opts: { timeoutMs?: number } = {}): Promise<void> {
  if (specs.length === 0) return;
  const admin = kafka.admin();
  await admin.connect();
  try {
    // A topic just made may be unknown to the broker's metadata for a moment (more so on a busy
    // machine): kafkajs then throws a retriable error. Creating is idempotent, so try again.
    await retry(
      async () => {
        const existing = new Set(await admin.listTopics());
        const missing = specs.filter((s) => !existing.has(s.topic));
        if (missing.length > 0) {
          await admin.createTopics({
            waitForLeaders: false,
            topics: missing.map((s) => ({
              topic: s.topic,
              numPartitions: s.numPartitions,
              replicationFactor: s.replicationFactor ?? 1,
              configEntries: Object.entries(s.configs ?? {}).map(([name, value]) => ({ name, value })),
            })),
          });
        }
        const { topics } = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.topic) });
        const leaderless = topics.filter((t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0));
        if (leaderless.length > 0) throw new TopicsNotReady(leaderless.map((t) => t.name));
      },
      { initialDelayMs: 100, maxDelayMs: 1000, timeoutMs: opts.timeoutMs ?? 60_000, retriable: isRetriable },
    );
  } finally {
    await admin.disconnect();
  }
}

class TopicsNotReady extends Error {
  readonly retriable = true;
  constructor(topics: readonly string[]) {
    super(`topics without a leader yet: ${topics.join(', ')}`);
  }
}

/** kafkajs marks the errors worth another attempt (unknown topic, no leader yet, ...). */
function isRetriable(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { retriable?: unknown }).retriable === true;
}
