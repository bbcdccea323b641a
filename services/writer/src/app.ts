import { assertClusterName, clickhouseFromConfig, clickhouseSettingsFromConfig, migrate, type ClickHouseClient } from '@trackstream/clickhouse';
import { createBatchConsumer, createProducer, ensureTopics, kafkaFromConfig, topicNames, type Kafka } from '@trackstream/kafka';
import type { Registry } from '@trackstream/metrics';
import { logRetries, retry, type Component, type Logger } from '@trackstream/runtime';
import type { WriterConfig } from './config';
import { ConsumerLoop } from './consumer';
import { DeadLetter } from './dead-letter';
import { Deleter } from './deleter';
import { createWriterMetrics } from './metrics';
import { decodeToRows } from './rows';
import { Sink } from './sink';

export interface WriterDeps {
  logger: Logger;
  registry: Registry;
  config: WriterConfig;
  /** Shared clients, when a main composes several components; made from config otherwise. */
  kafka?: Kafka;
  clickhouse?: ClickHouseClient;
}

/** The writer: Kafka events topic -> ClickHouse tables, as one consumer-group member. */
export function createWriter(deps: WriterDeps): Component {
  const { config } = deps;
  const logger = deps.logger.child({ component: 'writer' });
  const kafka = deps.kafka ?? kafkaFromConfig(config, 'trackstream-writer', logger);
  const clickhouse = deps.clickhouse ?? clickhouseFromConfig(config);
  const topics = topicNames(config.kafkaTopicPrefix);
  const metrics = createWriterMetrics(deps.registry);
  const producer = createProducer(kafka, { logger, sendTimeoutMs: 10_000, compression: 'none' });
  const sink = new Sink(clickhouse, config.clickhouseDatabase, metrics, logger, {
    initialDelayMs: config.writerRetryInitialMs,
    maxDelayMs: config.writerRetryMaxMs,
  });
  const consumer = createBatchConsumer(kafka, {
    groupId: config.writerGroupId,
    topic: topics.events,
    logger,
    sessionTimeoutMs: config.writerSessionTimeoutMs,
    heartbeatIntervalMs: Math.max(500, Math.floor(config.writerSessionTimeoutMs / 10)),
  });
  const loop = new ConsumerLoop({
    consumer,
    sink,
    deadLetter: new DeadLetter(producer, topics.deadLetter, topics.events, metrics),
    deleter: new Deleter(clickhouse, config.clickhouseDatabase, sink, metrics, logger, config.clickhouseCluster || undefined),
    decode: decodeToRows,
    limits: { maxRows: config.writerBatchRows, maxBytes: config.writerBatchBytes, maxAgeMs: config.writerBatchMs },
    metrics,
    logger,
  });
  const stopping = new AbortController();
  let consuming = false;

  return {
    name: 'writer',
    async start() {
      const cluster = config.clickhouseCluster ? { cluster: assertClusterName(config.clickhouseCluster) } : {};
      await retry(() => migrate(clickhouseSettingsFromConfig(config), { logger, ...cluster }), {
        onRetry: logRetries(logger, 'ClickHouse migrations'),
        signal: stopping.signal,
      });
      await retry(
        () =>
          ensureTopics(kafka, [
            { topic: topics.events, numPartitions: config.kafkaEventsPartitions, replicationFactor: config.kafkaReplicationFactor },
            { topic: topics.deadLetter, numPartitions: 1, replicationFactor: config.kafkaReplicationFactor },
          ]),
        { onRetry: logRetries(logger, 'Kafka topics'), signal: stopping.signal },
      );
      await producer.start();
      await loop.start();
      consuming = true;
      logger.info({ topic: topics.events, group: config.writerGroupId }, 'writer consuming');
    },
    async stop() {
      stopping.abort();
      if (consuming) await loop.stop();
      consuming = false;
      await producer.stop();
      if (!deps.clickhouse) await clickhouse.close();
    },
    health: () => [
      { name: 'writer-consuming', check: () => consuming && loop.healthy },
      { name: 'clickhouse', check: async () => (await clickhouse.ping()).success },
    ],
  };
}
