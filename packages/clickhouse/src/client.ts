import { ClickHouseLogLevel, createClient, EXCEPTION_TAG_HEADER_NAME, extractErrorAtTheEndOfChunk, type ClickHouseClient } from '@clickhouse/client';

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

/** How a response body ends when its statement failed after the first rows were sent (ClickHouse 25.11 on, and the chDB front). */
const EXCEPTION_END = Buffer.from('__exception__\r\n');

/**
 * Reads a raw result (`exec`) whole: the bytes of its body, or the statement's error when it
 * failed mid-stream (the body then ends with ClickHouse's exception block).
 */
export async function readRawBody(res: { stream: NodeJS.ReadableStream; response_headers: Record<string, unknown> }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of res.stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return checkedBody(Buffer.concat(chunks), res.response_headers);
}

/** `body`, unless it ends with the exception block of a statement that failed mid-stream: then that error. */
export function checkedBody(body: Buffer, headers: Record<string, unknown>): Buffer {
  const tag = headers[EXCEPTION_TAG_HEADER_NAME];
  if (typeof tag === 'string' && body.subarray(-EXCEPTION_END.length).equals(EXCEPTION_END)) throw extractErrorAtTheEndOfChunk(body, tag);
  return body;
}

/**
 * Whether query parameters are short enough for the URL, where `exec` and `command` send them
 * (only `query` can send long ones in a multipart body). JSON bytes, 3x for percent-encoding,
 * against the 4 KiB that @clickhouse/client itself allows a URL parameter.
 */
export function paramsFitUrl(params: Record<string, unknown>): boolean {
  return Buffer.byteLength(JSON.stringify(params)) * 3 <= 4096;
}

export type { ClickHouseClient } from '@clickhouse/client';
export { ClickHouseError } from '@clickhouse/client';
