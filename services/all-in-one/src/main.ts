/**
 * The local all-in-one process: gateway, writer and query composed in one Node process on one
 * port, as `npm start` runs them. It is a composition root only: it wires the three services'
 * components, which never import one another.
 */
import { createRegistry } from '@trackstream/metrics';
import { createLogger, runMain, serveComponents } from '@trackstream/runtime';
import { createGateway } from '@trackstream/gateway';
import { createQuery } from '@trackstream/query';
import { createWriter } from '@trackstream/writer';
import { readAllInOneConfig } from './config';

const config = readAllInOneConfig(process.env);
const logger = createLogger({ service: 'trackstream', level: config.logLevel });
runMain(logger, async () => {
  const registry = createRegistry();
  const components = [createWriter({ logger, registry }), createGateway({ logger, registry }), createQuery({ logger, registry })];
  return serveComponents({ port: config.port, components, registry, logger });
});
