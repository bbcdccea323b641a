import { createRegistry } from '@trackstream/metrics';
import { createLogger, runMain, serveComponents } from '@trackstream/runtime';
import { createWriter } from './app';
import { readWriterConfig } from './config';

const config = readWriterConfig(process.env);
const logger = createLogger({ service: 'writer', level: config.logLevel });
runMain(logger, async () => {
  const registry = createRegistry({ diskUsagePaths: config.diskUsagePaths });
  return serveComponents({ port: config.port, components: [createWriter({ logger, registry, config })], registry, logger });
});
