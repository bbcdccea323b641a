import { ClickHouseError } from '@clickhouse/client';

/**
 * What a failed ClickHouse call means for its caller:
 * - `bad-rows`: ClickHouse answered that the rows themselves can't be read; sending them again can't help;
 * - `retriable`: ClickHouse answered that it can't serve now (busy, or the tables are not created yet);
 * - `unreachable`: no answer from ClickHouse at all (refused, reset or timed-out connection);
 * - `statement`: any other answer: the statement itself is wrong (a bug).
 */
export type ClickHouseFailure = 'bad-rows' | 'retriable' | 'unreachable' | 'statement';

/** ClickHouse's error codes (`ClickHouseError.code`, a decimal string) that decide a failure's class. */
const CODES = {
  // The rows can't be read: a field of the wrong type.
  CANNOT_PARSE_TEXT: '6',
  CANNOT_PARSE_ESCAPE_SEQUENCE: '25',
  CANNOT_PARSE_QUOTED_STRING: '26',
  CANNOT_PARSE_INPUT_ASSERTION_FAILED: '27',
  CANNOT_PARSE_DATE: '38',
  CANNOT_PARSE_DATETIME: '41',
  CANNOT_PARSE_NUMBER: '72',
  INCORRECT_DATA: '117',
  CANNOT_READ_ARRAY_FROM_TEXT: '130',
  VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE: '321',
  // The writer has not created the tables yet.
  UNKNOWN_TABLE: '60',
  UNKNOWN_DATABASE: '81',
  // The server is busy or can't reach what it needs.
  TIMEOUT_EXCEEDED: '159',
  TOO_MANY_SIMULTANEOUS_QUERIES: '202',
  SOCKET_TIMEOUT: '209',
  NETWORK_ERROR: '210',
  ABORTED: '236',
  MEMORY_LIMIT_EXCEEDED: '241',
  ALL_CONNECTION_TRIES_FAILED: '279',
  QUERY_WAS_CANCELLED: '394',
  // The disk is full: nothing can be written until space comes back.
  NOT_ENOUGH_SPACE: '243',
} as const;

const BAD_ROWS: ReadonlySet<string> = new Set([
  CODES.CANNOT_PARSE_TEXT,
  CODES.CANNOT_PARSE_ESCAPE_SEQUENCE,
  CODES.CANNOT_PARSE_QUOTED_STRING,
  CODES.CANNOT_PARSE_INPUT_ASSERTION_FAILED,
  CODES.CANNOT_PARSE_DATE,
  CODES.CANNOT_PARSE_DATETIME,
  CODES.CANNOT_PARSE_NUMBER,
  CODES.INCORRECT_DATA,
  CODES.CANNOT_READ_ARRAY_FROM_TEXT,
  CODES.VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE,
]);

const RETRIABLE: ReadonlySet<string> = new Set([
  CODES.UNKNOWN_TABLE,
  CODES.UNKNOWN_DATABASE,
  CODES.TIMEOUT_EXCEEDED,
  CODES.TOO_MANY_SIMULTANEOUS_QUERIES,
  CODES.SOCKET_TIMEOUT,
  CODES.NETWORK_ERROR,
  CODES.ABORTED,
  CODES.MEMORY_LIMIT_EXCEEDED,
  CODES.ALL_CONNECTION_TRIES_FAILED,
  CODES.QUERY_WAS_CANCELLED,
  CODES.NOT_ENOUGH_SPACE,
]);

/** Classifies a failure of a ClickHouse call by its error code, never by its message. */
export function classifyClickHouseError(e: unknown): ClickHouseFailure {
  if (!(e instanceof ClickHouseError)) return 'unreachable';
  if (BAD_ROWS.has(e.code)) return 'bad-rows';
  if (RETRIABLE.has(e.code)) return 'retriable';
  return 'statement';
}

/** ClickHouse refused to write for lack of disk space (retriable, once space comes back). */
export function isDiskFull(e: unknown): boolean {
  return e instanceof ClickHouseError && e.code === CODES.NOT_ENOUGH_SPACE;
}
