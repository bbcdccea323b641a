import type { Registry } from '@trackstream/metrics';
import type { Component, Logger } from '@trackstream/runtime';

export interface WriterDeps {
  logger: Logger;
  registry: Registry;
}

/** The writer component; a skeleton: Kafka consumption and inserts come with the writer issue. */
export function createWriter(deps: WriterDeps): Component {
  const logger = deps.logger.child({ component: 'writer' });
  return {
    name: 'writer',
    async start() {
      logger.debug('started');
    },
    async stop() {
      logger.debug('stopped');
    },
    health: () => [],
  };
}
