import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';

export interface ClickHouseSettings {
  url: string;
  username?: string;
  password?: string;
  /** Default database of every statement; the migration runner creates it. */
  database: string;
  requestTimeoutMs?: number;
  maxOpenConnections?: number;
}

/** The one place a ClickHouse client is made. */
export function createClickHouse(s: ClickHouseSettings): ClickHouseClient {
  return createClient({
    url: s.url,
    username: s.username ?? 'default',
    password: s.password ?? '',
    database: s.database,
    request_timeout: s.requestTimeoutMs ?? 60_000,
    max_open_connections: s.maxOpenConnections ?? 10,
    compression: { request: false, response: false },
    // Failures surface as ClickHouseError to our code, which logs them once, with context.
    log: { level: ClickHouseLogLevel.OFF },
    clickhouse_settings: {
      // NaN and ±Infinity come back as "nan"/"inf"/"-inf" instead of null: losses do go NaN.
      output_format_json_quote_denormals: 1,
      // UInt64/Int64 as JSON strings: they exceed 2^53.
      output_format_json_quote_64bit_integers: 1,
    },
  });
}

/** ClickHouse identifiers we template into DDL (database names): no quoting games. */
export function assertIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) throw new Error(`not a plain ClickHouse identifier: ${JSON.stringify(name)}`);
  return name;
}

export type { ClickHouseClient } from '@clickhouse/client';
export { ClickHouseError } from '@clickhouse/client';
