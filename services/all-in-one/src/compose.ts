import { authFromConfig } from '@trackstream/api';
import { createClickHouse } from '@trackstream/clickhouse';
import { createGateway } from '@trackstream/gateway';
import { createKafka, parseBrokers } from '@trackstream/kafka';
import type { Registry } from '@trackstream/metrics';
import { createQuery } from '@trackstream/query';
import type { Component, Logger } from '@trackstream/runtime';
import { createWriter } from '@trackstream/writer';
import type { AllInOneConfig } from './config';

export interface AllInOne {
  /** In start order: the writer first (it runs the migrations readers rely on). */
  components: Component[];
  /** Closes the shared clients; after the components stopped. */
  close(): Promise<void>;
}

/**
 * Gateway, writer and query sharing one Kafka and one ClickHouse client. The gateway's routes
 * pass what they don't serve on to the query's, which answer everything else (400/404 included).
 */
export async function composeAllInOne(config: AllInOneConfig, logger: Logger, registry: Registry, opts: { writer?: boolean } = {}): Promise<AllInOne> {
  const auth = await authFromConfig(config);
  const kafka = createKafka({ brokers: parseBrokers(config.kafkaBrokers), clientId: 'trackstream', logger });
  const clickhouse = createClickHouse({
    url: config.clickhouseUrl,
    username: config.clickhouseUser,
    password: config.clickhousePassword,
    database: config.clickhouseDatabase,
  });
  const shared = { logger, registry, config, kafka, clickhouse };
  const components = [
    ...(opts.writer === false ? [] : [createWriter(shared)]),
    createGateway({ ...shared, auth, fallthrough: true }),
    createQuery({ ...shared, auth }),
  ];
  return { components, close: () => clickhouse.close() };
}
