/**
 * The error catalogue of the wire contract (section 1, "Errors"). Every failure a client can see
 * is an ApiError; the router's one error handler turns it into the envelope, with the HTTP status
 * equal to `result_code`.
 */

export interface ApiErrorOptions {
  /** HTTP status; also the envelope's `result_code`. */
  status: number;
  /** The envelope's `result_subcode`. */
  subcode: number;
  /** The envelope's `result_msg`. */
  message: string;
  /** A retry later may succeed (5xx from a backing system). Defaults to false. */
  retriable?: boolean;
  /** Sent as the `Retry-After` header (seconds). */
  retryAfterSec?: number;
  /** Sent as the envelope's `meta.error_data`. Never put payloads or secrets in it. */
  data?: Record<string, unknown>;
  cause?: unknown;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  /** HTTP status. */
  readonly status: number;
  /** ClearML result code; the same number as the HTTP status. */
  readonly code: number;
  readonly subcode: number;
  readonly retriable: boolean;
  readonly retryAfterSec: number | undefined;
  readonly data: Record<string, unknown> | undefined;

  constructor(opts: ApiErrorOptions) {
    super(opts.message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.status = opts.status;
    this.code = opts.status;
    this.subcode = opts.subcode;
    this.retriable = opts.retriable ?? false;
    this.retryAfterSec = opts.retryAfterSec;
    this.data = opts.data;
  }
}

/** An ApiError as is; anything else (a bug) as 500/0 with the original as `cause`. */
export function toApiError(e: unknown): ApiError {
  return e instanceof ApiError ? e : internal(e);
}

const MAX_ECHO = 200;
/** Bounded, printable echo of client input in a message. */
function echo(s: string): string {
  // eslint-disable-next-line no-control-regex
  const printable = s.replace(/[\u0000-\u001f\u007f]/g, '?');
  return printable.length > MAX_ECHO ? `${printable.slice(0, MAX_ECHO)}...` : printable;
}

/** 400/0: the path is not `/<service>.<action>` or `/v<major>.<minor>/<service>.<action>`. */
export function invalidPath(path?: string): ApiError {
  return new ApiError({ status: 400, subcode: 0, message: path === undefined ? 'Invalid request path' : `Invalid request path: ${echo(path)}` });
}

/** 400/11: "Missing required fields: missing=(task)"; several names comma-separated. */
export function missingFields(names: readonly string[]): ApiError {
  return new ApiError({
    status: 400,
    subcode: 11,
    message: `Missing required fields: missing=(${names.join(', ')})`,
    data: { missing: [...names] },
  });
}

/** 400/12: "Validation error: <detail>" (wrong type, bad enum, body not an object...). */
export function validation(detail?: string, cause?: unknown): ApiError {
  return new ApiError({ status: 400, subcode: 12, message: detail ? `Validation error: ${detail}` : 'Validation error', cause });
}

/** 400/17: `add_batch` with no events. */
export function noEvents(): ApiError {
  return new ApiError({ status: 400, subcode: 17, message: 'Batch contains no items: no events in batch' });
}

/** 400/101: an invalid task id (empty, too long, control characters). */
export function invalidTaskId(id: unknown): ApiError {
  return new ApiError({ status: 400, subcode: 101, message: `Invalid task id: id=${echo(String(id))}` });
}

/** 400/131: no event was accepted. "Events not added: <reason>=<count>, ..." */
export function eventsNotAdded(errorsInfo: Readonly<Record<string, number>>): ApiError {
  const parts = Object.entries(errorsInfo).map(([reason, count]) => `${reason}=${count}`);
  return new ApiError({
    status: 400,
    subcode: 131,
    message: `Events not added: ${parts.join(', ')}`,
    data: { errors_info: { ...errorsInfo } },
  });
}

/** 400/1104: an invalid, tampered or expired `scroll_id`. */
export function invalidScrollId(): ApiError {
  return new ApiError({ status: 400, subcode: 1104, message: 'Invalid scroll id' });
}

/** 401/20: auth on and no credentials sent. */
export function noCredentials(): ApiError {
  return new ApiError({ status: 401, subcode: 20, message: 'Unauthorized (missing credentials)' });
}

/** 401/21: credentials that cannot be decoded (bad base64, no ':', not a JWT, unknown scheme). */
export function badCredentials(): ApiError {
  return new ApiError({ status: 401, subcode: 21, message: 'Unauthorized (malformed credentials)' });
}

/** 401/22: unknown access key, wrong secret, bad token signature, expired token. */
export function unknownCredentials(detail?: string): ApiError {
  return new ApiError({ status: 401, subcode: 22, message: detail ? `Unauthorized (invalid credentials): ${detail}` : 'Unauthorized (invalid credentials)' });
}

/** 404/0: unknown endpoint or version. */
export function notFound(what: string): ApiError {
  return new ApiError({ status: 404, subcode: 0, message: `Not found: ${echo(what)}` });
}

/** 413/0: body over the configured limit (bytes, after decompression). */
export function payloadTooLarge(limit: number): ApiError {
  return new ApiError({ status: 413, subcode: 0, message: `Request body too large: limit is ${limit} bytes` });
}

/** 503/0: a backing system is unavailable; retriable, with `Retry-After`. */
export function unavailable(what: string, retryAfterSec = 5, cause?: unknown): ApiError {
  return new ApiError({
    status: 503,
    subcode: 0,
    message: `Service unavailable: ${what}`,
    retriable: true,
    retryAfterSec,
    cause,
  });
}

/** 500/0: a bug; never for bad input. The message does not reveal the cause (it is logged). */
export function internal(cause?: unknown): ApiError {
  return new ApiError({ status: 500, subcode: 0, message: 'Internal server error', cause });
}
