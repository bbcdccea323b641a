/**
 * The local all-in-one process: gateway, writer and query in one Node process on one port (the
 * writer on a worker thread of its own: see writer-thread.ts), as
 * `npm start` runs them. A composition root only: the three services never import one another.
 */
import { createRegistry } from '@trackstream/metrics';
import { createLogger, runMain, serveComponents } from '@trackstream/runtime';
import { composeAllInOne } from './compose';
import { readAllInOneConfig } from './config';

const config = readAllInOneConfig(process.env);
const logger = createLogger({ service: 'trackstream', level: config.logLevel });
runMain(logger, async () => {
  const registry = createRegistry({ diskUsagePaths: config.diskUsagePaths });
  const app = await composeAllInOne(config, logger, registry, { writer: 'own-thread' });
  const shutdown = await serveComponents({
    port: config.port,
    components: app.components,
    registry,
    logger,
    ...(app.moreMetrics ? { moreMetrics: app.moreMetrics } : {}),
  });
  return async () => {
    await shutdown();
    await app.close();
  };
});
