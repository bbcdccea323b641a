import { createApiRouter, type Auth, type Endpoint } from '@trackstream/api';
import { createClickHouse, type ClickHouseClient } from '@trackstream/clickhouse';
import type { Registry } from '@trackstream/metrics';
import type { Component, Logger } from '@trackstream/runtime';
import type { QueryConfig } from './config';

export interface QueryDeps {
  logger: Logger;
  registry: Registry;
  config: QueryConfig;
  auth: Auth;
  clickhouse?: ClickHouseClient;
}

/** The query service: the read endpoints of the events API, answered from ClickHouse. */
export function createQuery(deps: QueryDeps): Component {
  const { config } = deps;
  const logger = deps.logger.child({ component: 'query' });
  const clickhouse =
    deps.clickhouse ??
    createClickHouse({ url: config.clickhouseUrl, username: config.clickhouseUser, password: config.clickhousePassword, database: config.clickhouseDatabase });
  const endpoints: Endpoint[] = [];
  const routes = createApiRouter({
    service: 'query',
    registry: deps.registry,
    logger,
    auth: deps.auth,
    timeoutMs: config.queryRequestTimeoutMs,
    endpoints,
  });
  return {
    name: 'query',
    routes,
    async start() {},
    async stop() {
      if (!deps.clickhouse) await clickhouse.close();
    },
    health: () => [{ name: 'clickhouse', check: async () => (await clickhouse.ping()).success }],
  };
}
