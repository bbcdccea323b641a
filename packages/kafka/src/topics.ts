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
export async function ensureTopics(kafka: Kafka, specs: readonly TopicSpec[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.topic));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((s) => ({
        topic: s.topic,
        numPartitions: s.numPartitions,
        replicationFactor: s.replicationFactor ?? 1,
        configEntries: Object.entries(s.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
  } finally {
    await admin.disconnect();
  }
}
