import { field } from '@trackstream/config';

/** ClickHouse settings every service shares; services spread this into their own spec. */
export const clickhouseConfigSpec = {
  clickhouseUrl: field({ env: 'CLICKHOUSE_URL', type: 'string', default: 'http://127.0.0.1:8123', description: 'ClickHouse HTTP endpoint' }),
  clickhouseUser: field({ env: 'CLICKHOUSE_USER', type: 'string', default: 'default', description: 'ClickHouse user' }),
  clickhousePassword: field({ env: 'CLICKHOUSE_PASSWORD', type: 'string', default: '', description: 'ClickHouse password' }),
  clickhouseDatabase: field({ env: 'CLICKHOUSE_DATABASE', type: 'string', default: 'trackstream', description: 'Database holding the event tables (created by the migrations)' }),
} as const;
