import { createRegistry } from '@trackstream/metrics';
import { createLogger, runMain, serveComponents } from '@trackstream/runtime';
import { createGateway } from './app';
import { readGatewayConfig } from './config';

const config = readGatewayConfig(process.env);
const logger = createLogger({ service: 'gateway', level: config.logLevel });
runMain(logger, async () => {
  const registry = createRegistry();
  return serveComponents({ port: config.port, components: [createGateway({ logger, registry })], registry, logger });
});
