import { field, type ConfigOf } from '@trackstream/config';
import type { Logger } from '@trackstream/runtime';
import type { Kafka } from 'kafkajs';
import { createKafka, parseBrokers } from './client';

/** Kafka settings every service shares; services spread this into their own spec. */
export const kafkaConfigSpec = {
  kafkaBrokers: field({ env: 'KAFKA_BROKERS', type: 'string', default: '127.0.0.1:9092', description: 'Comma-separated Kafka bootstrap brokers' }),
  kafkaTopicPrefix: field({ env: 'KAFKA_TOPIC_PREFIX', type: 'string', default: 'trackstream', description: 'Topics are <prefix>.events and <prefix>.events.dead-letter' }),
  kafkaEventsPartitions: field({ env: 'KAFKA_EVENTS_PARTITIONS', type: 'integer', default: 12, minimum: 1, maximum: 10_000, description: 'Partitions of the events topic when it is created' }),
  kafkaReplicationFactor: field({ env: 'KAFKA_REPLICATION_FACTOR', type: 'integer', default: 1, minimum: 1, maximum: 10, description: 'Replication factor of the topics when they are created' }),
} as const;

export type KafkaConfig = ConfigOf<typeof kafkaConfigSpec>;

/** A kafkajs client on the configured brokers; `clientId` names the service to the brokers. */
export function kafkaFromConfig(c: KafkaConfig, clientId: string, logger: Logger): Kafka {
  return createKafka({ brokers: parseBrokers(c.kafkaBrokers), clientId, logger });
}
