import { authFromConfig } from '@trackstream/api';
import { createRegistry } from '@trackstream/metrics';
import { createLogger, runMain, serveComponents } from '@trackstream/runtime';
import { createQuery } from './app';
import { readQueryConfig } from './config';

const config = readQueryConfig(process.env);
const logger = createLogger({ service: 'query', level: config.logLevel });
runMain(logger, async () => {
  const registry = createRegistry({ diskUsagePaths: config.diskUsagePaths });
  const query = createQuery({ logger, registry, config, auth: await authFromConfig(config) });
  return serveComponents({ port: config.port, components: [query], registry, logger });
});
