import { authFromConfig } from '@trackstream/api';
import { createRegistry } from '@trackstream/metrics';
import { createLogger, runMain, serveComponents } from '@trackstream/runtime';
import { createGateway } from './app';
import { readGatewayConfig } from './config';

const config = readGatewayConfig(process.env);
const logger = createLogger({ service: 'gateway', level: config.logLevel });
runMain(logger, async () => {
  const registry = createRegistry({ diskUsagePaths: config.diskUsagePaths });
  const gateway = createGateway({ logger, registry, config, auth: await authFromConfig(config) });
  return serveComponents({ port: config.port, components: [gateway], registry, logger });
});
