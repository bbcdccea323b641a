import { authConfigSpec } from '@trackstream/api';
import { clickhouseConfigSpec } from '@trackstream/clickhouse';
import { field, parseConfig, serviceSpec, type ConfigOf, type Env } from '@trackstream/config';

export const queryOwnConfigSpec = {
  queryRequestTimeoutMs: field({ env: 'QUERY_REQUEST_TIMEOUT_MS', type: 'integer', default: 60_000, minimum: 1000, description: 'Longest time a read request may take (downloads excepted once streaming)' }),
  queryScrollSecret: field({ env: 'QUERY_SCROLL_SECRET', type: 'string', default: '', description: 'Key signing scroll_id cursors; the same on every query replica (random per process when empty)' }),
  queryScrollTtlSec: field({ env: 'QUERY_SCROLL_TTL_SEC', type: 'integer', default: 24 * 3600, minimum: 60, description: 'Lifetime of a scroll_id cursor: the longest pause between two pages of a scroll (each page returns a fresh one)' }),
} as const;

export const queryConfigSpec = {
  ...serviceSpec(8083, 'HTTP port (API, health, metrics)'),
  ...clickhouseConfigSpec,
  ...authConfigSpec,
  ...queryOwnConfigSpec,
} as const;

export type QueryConfig = ConfigOf<typeof queryConfigSpec>;

export function readQueryConfig(env: Env): QueryConfig {
  return parseConfig(queryConfigSpec, env);
}
