import { createRegistry } from '@trackstream/metrics';
import { createLogger, runMain, serveComponents } from '@trackstream/runtime';
import { createQuery } from './app';
import { readQueryConfig } from './config';

const config = readQueryConfig(process.env);
const logger = createLogger({ service: 'query', level: config.logLevel });
runMain(logger, async () => {
  const registry = createRegistry();
  return serveComponents({ port: config.port, components: [createQuery({ logger, registry })], registry, logger });
});
