export { createClickHouse, assertIdentifier, ClickHouseError, type ClickHouseClient, type ClickHouseSettings } from './client';
export { migrate, loadMigrations, splitStatements, MIGRATIONS_DIR, type Migration, type MigrateOptions } from './migrations';
export * from './rows';
export { clickhouseConfigSpec } from './config';
export * from './tsv';
