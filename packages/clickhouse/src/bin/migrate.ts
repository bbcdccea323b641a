#!/usr/bin/env node
/**
 * Applies the ClickHouse migrations once and exits: the one-shot step that runs before the
 * writers start (the `migrate` service of docker-compose.yml, the Kubernetes Job). It is the
 * place where the cluster layout (CLICKHOUSE_CLUSTER) and retention (RETENTION_DAYS...) are
 * applied; the writer's own start-up run only adds pending migrations of a single server.
 *
 *   CLICKHOUSE_URL=http://127.0.0.1:8123 node packages/clickhouse/dist/bin/migrate.js
 */
import { parseConfig } from '@trackstream/config';
import { createLogger, logRetries, retry } from '@trackstream/runtime';
import { SchemaError } from '../cluster';
import { clickhouseSettingsFromConfig } from '../config';
import { migrate } from '../migrations';
import { migrateConfigSpec, schemaOptions } from '../schema-config';

async function main(): Promise<void> {
  const config = parseConfig(migrateConfigSpec, process.env);
  const logger = createLogger({ service: 'migrate', level: config.logLevel });
  const settings = clickhouseSettingsFromConfig(config);
  try {
    const schema = schemaOptions(config);
    // ClickHouse may still be starting: retried. A setting the schema can't take is final.
    const ran = await retry(() => migrate(settings, { logger, ...schema }), {
      onRetry: logRetries(logger, 'ClickHouse migrations'),
      retriable: (e) => !(e instanceof SchemaError),
      timeoutMs: 120_000,
    });
    logger.info({ applied: ran, cluster: schema.cluster ?? null, database: config.clickhouseDatabase }, 'schema up to date');
  } catch (e) {
    logger.fatal({ err: e }, 'migrations failed');
    process.exitCode = 1;
  }
}

void main();
