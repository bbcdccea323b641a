/**
 * The local all-in-one process: gateway, writer and query composed in one Node process on one
 * port, as `npm start` runs them. It is a composition root only: it wires the three services'
 * components, which never import one another, and lets them share one Kafka and one ClickHouse
 * client.
 */
import { authFromConfig } from '@trackstream/api';
import { createClickHouse } from '@trackstream/clickhouse';
import { createGateway } from '@trackstream/gateway';
import { createKafka, parseBrokers } from '@trackstream/kafka';
import { createRegistry } from '@trackstream/metrics';
import { createQuery } from '@trackstream/query';
import { createLogger, runMain, serveComponents } from '@trackstream/runtime';
import { createWriter } from '@trackstream/writer';
import { readAllInOneConfig } from './config';

const config = readAllInOneConfig(process.env);
const logger = createLogger({ service: 'trackstream', level: config.logLevel });
runMain(logger, async () => {
  const registry = createRegistry();
  const auth = await authFromConfig(config);
  const kafka = createKafka({ brokers: parseBrokers(config.kafkaBrokers), clientId: 'trackstream', logger });
  const clickhouse = createClickHouse({
    url: config.clickhouseUrl,
    username: config.clickhouseUser,
    password: config.clickhousePassword,
    database: config.clickhouseDatabase,
  });
  const shared = { logger, registry, config, kafka, clickhouse };
  // The writer starts first: it runs the migrations every reader relies on. The gateway's
  // routes pass what they don't serve on to the query's, which answer everything else.
  const components = [
    createWriter(shared),
    createGateway({ ...shared, auth, fallthrough: true }),
    createQuery({ ...shared, auth }),
  ];
  const shutdown = await serveComponents({ port: config.port, components, registry, logger });
  return async () => {
    await shutdown();
    await clickhouse.close();
  };
});
