import { field, type ConfigOf } from '@trackstream/config';
import { createClickHouse, type ClickHouseClient, type ClickHouseSettings } from './client';

/** ClickHouse settings every service shares; services spread this into their own spec. */
export const clickhouseConfigSpec = {
  clickhouseUrl: field({ env: 'CLICKHOUSE_URL', type: 'string', default: 'http://127.0.0.1:8123', description: 'ClickHouse HTTP endpoint' }),
  clickhouseUser: field({ env: 'CLICKHOUSE_USER', type: 'string', default: 'default', description: 'ClickHouse user' }),
  clickhousePassword: field({ env: 'CLICKHOUSE_PASSWORD', type: 'string', default: '', description: 'ClickHouse password' }),
  clickhouseDatabase: field({ env: 'CLICKHOUSE_DATABASE', type: 'string', default: 'trackstream', description: 'Database holding the event tables (created by the migrations)' }),
} as const;

export type ClickHouseConfig = ConfigOf<typeof clickhouseConfigSpec>;

/** The client settings a service's configuration names (what `migrate` takes). */
export function clickhouseSettingsFromConfig(c: ClickHouseConfig): ClickHouseSettings {
  return { url: c.clickhouseUrl, username: c.clickhouseUser, password: c.clickhousePassword, database: c.clickhouseDatabase };
}

/** A ClickHouse client as a service's configuration describes it. */
export function clickhouseFromConfig(c: ClickHouseConfig): ClickHouseClient {
  return createClickHouse(clickhouseSettingsFromConfig(c));
}
