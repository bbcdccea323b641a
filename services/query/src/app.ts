import type { Registry } from '@trackstream/metrics';
import type { Component, Logger } from '@trackstream/runtime';
import { Router } from 'express';

export interface QueryDeps {
  logger: Logger;
  registry: Registry;
}

/** The query component; its endpoints are filled in by the issues that build it. */
export function createQuery(deps: QueryDeps): Component {
  const logger = deps.logger.child({ component: 'query' });
  return {
    name: 'query',
    routes: Router(),
    async start() {
      logger.debug('started');
    },
    async stop() {
      logger.debug('stopped');
    },
    health: () => [],
  };
}
