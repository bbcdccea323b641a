export { createClickHouse, assertIdentifier, ClickHouseError, type ClickHouseClient, type ClickHouseSettings } from './client';
export { classifyClickHouseError, isDiskFull, type ClickHouseFailure } from './errors';
export { migrate, loadMigrations, layoutProblem, splitStatements, MIGRATIONS_DIR, type Migration, type MigrateOptions } from './migrations';
export * from './rows';
export { clickhouseConfigSpec, clickhouseFromConfig, clickhouseSettingsFromConfig, type ClickHouseConfig } from './config';
export * from './tsv';
export { renderForCluster, newClusterRenderState, SchemaError, shardingKey, assertClusterName, LOCAL_SUFFIX, type ClusterSettings } from './cluster';
export { planRetention, applyRetention, parseRetentionByTable, currentTtl, ttlExpression, RETENTION_COLUMN, type RetentionSettings, type StoredTable } from './retention';
export { schemaConfigSpec, migrateConfigSpec, schemaOptions, type SchemaConfig, type SchemaOptions } from './schema-config';
