import { authFromConfig } from '@trackstream/api';
import { clickhouseFromConfig } from '@trackstream/clickhouse';
import { createGateway } from '@trackstream/gateway';
import { kafkaFromConfig } from '@trackstream/kafka';
import type { MetricsSnapshot, Registry } from '@trackstream/metrics';
import { createQuery } from '@trackstream/query';
import type { Component, Logger } from '@trackstream/runtime';
import { createWriter } from '@trackstream/writer';
import type { AllInOneConfig } from './config';
import { writerInThread } from './writer-thread';

export interface AllInOne {
  /** In start order: the writer first (it runs the migrations readers rely on). */
  components: Component[];
  /** Closes the shared clients; after the components stopped. */
  close(): Promise<void>;
  /** Metrics of the writer's thread, when it has one (serveComponents' moreMetrics). */
  moreMetrics?: () => Promise<MetricsSnapshot[]>;
}

/**
 * Where the writer runs: on the main thread beside the gateway and query (its metrics then on
 * the caller's registry), on a thread of its own (as `npm start` runs it), or not at all.
 */
export type WriterPlacement = 'main-thread' | 'own-thread' | 'none';

/**
 * Gateway, writer and query sharing one Kafka and one ClickHouse client. The gateway's routes
 * pass what they don't serve on to the query's, which answer everything else (400/404 included).
 */
export async function composeAllInOne(config: AllInOneConfig, logger: Logger, registry: Registry, opts: { writer?: WriterPlacement } = {}): Promise<AllInOne> {
  const auth = await authFromConfig(config);
  const kafka = kafkaFromConfig(config, 'trackstream', logger);
  const clickhouse = clickhouseFromConfig(config);
  const shared = { logger, registry, config, kafka, clickhouse };
  const placement = opts.writer ?? 'main-thread';
  const threaded = placement === 'own-thread' ? writerInThread(config, logger) : undefined;
  const writer = placement === 'main-thread' ? createWriter(shared) : threaded;
  const components = [...(writer ? [writer] : []), createGateway({ ...shared, auth, fallthrough: true }), createQuery({ ...shared, auth })];
  return {
    components,
    close: () => clickhouse.close(),
    ...(threaded ? { moreMetrics: async () => [await threaded.metrics()] } : {}),
  };
}
