import { field, serviceSpec, type ConfigOf } from '@trackstream/config';
import { assertClusterName } from './cluster';
import { clickhouseConfigSpec } from './config';
import { parseRetentionByTable, type RetentionSettings } from './retention';

/** Settings of the schema the migration step (bin/migrate.ts) creates and maintains. */
export const schemaConfigSpec = {
  clickhouseCluster: field({
    env: 'CLICKHOUSE_CLUSTER',
    type: 'string',
    default: '',
    description: 'ClickHouse cluster (remote_servers name or {macro}) to create Replicated tables plus Distributed tables on; empty for one server',
  }),
  retentionDays: field({
    env: 'RETENTION_DAYS',
    type: 'integer',
    default: 0,
    minimum: 0,
    maximum: 100_000,
    description: 'Days event rows are kept after they were received (a TTL on every event table); 0 keeps them forever',
  }),
  retentionDaysByTable: field({
    env: 'RETENTION_DAYS_BY_TABLE',
    type: 'string',
    default: '',
    description: 'Per-table overrides of RETENTION_DAYS, e.g. logs=30,images=14 (0 keeps that table forever)',
  }),
} as const;

export type SchemaConfig = ConfigOf<typeof schemaConfigSpec>;

export interface SchemaOptions {
  cluster?: string;
  retention: RetentionSettings;
}

/** Checks and converts the schema settings (bad names or overrides throw, naming the variable). */
export function schemaOptions(c: SchemaConfig): SchemaOptions {
  const retention = { defaultDays: c.retentionDays, byTable: parseRetentionByTable(c.retentionDaysByTable) };
  return c.clickhouseCluster === '' ? { retention } : { cluster: assertClusterName(c.clickhouseCluster), retention };
}

/** Everything the migration step (bin/migrate.ts) reads from the environment. */
export const migrateConfigSpec = {
  logLevel: serviceSpec(0, '').logLevel,
  ...clickhouseConfigSpec,
  ...schemaConfigSpec,
} as const;
