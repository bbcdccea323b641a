import { authConfigSpec } from '@trackstream/api';
import { clickhouseConfigSpec } from '@trackstream/clickhouse';
import { field, parseConfig, type ConfigOf, type Env } from '@trackstream/config';

export const queryOwnConfigSpec = {
  queryRequestTimeoutMs: field({ env: 'QUERY_REQUEST_TIMEOUT_MS', type: 'integer', default: 60_000, minimum: 1000, description: 'Longest time a read request may take (downloads excepted once streaming)' }),
  queryScrollSecret: field({ env: 'QUERY_SCROLL_SECRET', type: 'string', default: '', description: 'Key signing scroll_id cursors; the same on every query replica (random per process when empty)' }),
} as const;

export const queryConfigSpec = {
  port: field({ env: 'PORT', type: 'integer', default: 8083, minimum: 0, maximum: 65535, description: 'HTTP port (API, health, metrics)' }),
  logLevel: field({ env: 'LOG_LEVEL', type: 'string', default: 'info', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace'], description: 'Log level' }),
  ...clickhouseConfigSpec,
  ...authConfigSpec,
  ...queryOwnConfigSpec,
} as const;

export type QueryConfig = ConfigOf<typeof queryConfigSpec>;

export function readQueryConfig(env: Env): QueryConfig {
  return parseConfig(queryConfigSpec, env);
}
