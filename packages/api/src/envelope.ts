import { randomBytes } from 'node:crypto';
import type { ApiError } from './errors';

/** `meta.endpoint`: versions are strings like "2.23"; null when unknown. */
export interface EnvelopeEndpoint {
  name: string | null;
  requested_version: string | null;
  actual_version: string | null;
}

export interface EnvelopeMeta {
  /** 32 hex characters, one per request. */
  id: string;
  /** The `X-ClearML-Trx` header, or `id`. */
  trx: string;
  endpoint: EnvelopeEndpoint;
  /** Equal to the HTTP status. */
  result_code: number;
  result_subcode: number;
  result_msg: string;
  error_stack: null;
  error_data: Record<string, unknown>;
}

export interface Envelope<T = unknown> {
  meta: EnvelopeMeta;
  data: T;
}

/** What every envelope of one request shares. */
export interface EnvelopeContext {
  id: string;
  trx: string;
  endpoint: EnvelopeEndpoint;
}

// Request ids come from a pooled random buffer: one syscall per 1024 ids, not one per request.
const POOL_IDS = 1024;
let pool = Buffer.alloc(0);
let poolOffset = 0;

/** A new request id: 32 lowercase hex characters (128 random bits). */
export function newRequestId(): string {
  if (poolOffset >= pool.length) {
    pool = randomBytes(16 * POOL_IDS);
    poolOffset = 0;
  }
  const id = pool.toString('hex', poolOffset, poolOffset + 16);
  poolOffset += 16;
  return id;
}

export function successEnvelope<T>(ctx: EnvelopeContext, data: T, status = 200): Envelope<T> {
  return {
    meta: {
      id: ctx.id,
      trx: ctx.trx,
      endpoint: { ...ctx.endpoint },
      result_code: status,
      result_subcode: 0,
      result_msg: 'OK',
      error_stack: null,
      error_data: {},
    },
    data,
  };
}

export function errorEnvelope(ctx: EnvelopeContext, err: ApiError): Envelope<Record<string, never>> {
  return {
    meta: {
      id: ctx.id,
      trx: ctx.trx,
      endpoint: { ...ctx.endpoint },
      result_code: err.status,
      result_subcode: err.subcode,
      result_msg: err.message,
      error_stack: null,
      error_data: err.data ? { ...err.data } : {},
    },
    data: {},
  };
}
