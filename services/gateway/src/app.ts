import type { Registry } from '@trackstream/metrics';
import type { Component, Logger } from '@trackstream/runtime';
import { Router } from 'express';

export interface GatewayDeps {
  logger: Logger;
  registry: Registry;
}

/** The gateway component; its endpoints are filled in by the issues that build it. */
export function createGateway(deps: GatewayDeps): Component {
  const logger = deps.logger.child({ component: 'gateway' });
  return {
    name: 'gateway',
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
