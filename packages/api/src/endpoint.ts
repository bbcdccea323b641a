import type { Logger } from '@trackstream/runtime';
import type { Request, Response } from 'express';
import type { EventLine } from './body';

/** Who is calling: every stored row and every read is scoped to `tenant`. */
export interface Identity {
  readonly tenant: string;
  /** The access key that authenticated the call (absent with auth off). */
  readonly accessKey?: string;
}

/** What a handler knows about its request. */
export interface RequestContext {
  readonly identity: Identity;
  /** `identity.tenant`. */
  readonly tenant: string;
  /** `X-ClearML-Worker` (or `X-Trains-Worker`) header: the default `worker` of log events. */
  readonly worker: string | undefined;
  /** `X-ClearML-Trx` header, or the request id. */
  readonly trx: string;
  /** 32 hex characters; `meta.id`. */
  readonly requestId: string;
  /** "events.add_batch" */
  readonly endpoint: string;
  /** From the path ("2.23"), null when the path has none. */
  readonly requestedVersion: string | null;
  /** The version of the handler that runs ("2.1"). */
  readonly actualVersion: string;
  /** Coerced query-string parameters (already merged into an object body; not into events). */
  readonly query: Readonly<Record<string, unknown>>;
  /**
   * Fires when the client goes away or the request timeout passes; its `reason` says which
   * (RequestAbortedError or a 503 ApiError). Pass it to Kafka/ClickHouse calls.
   */
  readonly signal: AbortSignal;
  /** Child logger with the request id and endpoint on every line. */
  readonly log: Logger;
  /** Raw express objects, for what the context does not carry. Do not write to `res` yourself. */
  readonly req: Request;
  readonly res: Response;
}

/**
 * A response written as is, without the envelope (download_task_log): `stream` chunks are written
 * with backpressure and the iteration stops (its `return()` runs) when the client goes away.
 */
export interface RawResponse {
  readonly raw: true;
  /** HTTP status, default 200. */
  readonly status?: number;
  /** e.g. "text/plain; charset=utf-8" */
  readonly contentType: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly stream: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>;
  /**
   * Mostly digits (chart data): gzipped with Huffman coding only, which on such text takes about
   * half the CPU of zlib's fastest level for nearly the same size. Other text keeps level 1.
   */
  readonly numeric?: boolean;
}

export function rawResponse(r: Omit<RawResponse, 'raw'>): RawResponse {
  return { raw: true, ...r };
}

export function isRawResponse(v: unknown): v is RawResponse {
  return typeof v === 'object' && v !== null && (v as { raw?: unknown }).raw === true && 'stream' in v;
}

/** `Content-Disposition` value for a download named `filename` (quotes and controls removed). */
export function attachment(filename: string): string {
  // eslint-disable-next-line no-control-regex
  const safe = filename
    .replace(/["\\\u0000-\u001f\u007f]/g, '_')
    // A lone surrogate (a task id may hold one) has no UTF-8 form: encodeURIComponent would throw.
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
  const ascii = safe.replace(/[^\u0020-\u007e]/g, '_');
  return ascii === safe ? `attachment; filename="${safe}"` : `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(safe)}`;
}

/** A JSON schema object (ajv draft-07 by default). */
export type JsonSchema = Readonly<Record<string, unknown>>;

/**
 * One version of an endpoint whose request is one JSON object. The body the handler receives is
 * the JSON body with the query parameters merged over it, validated against `schema` (ajv, no type
 * coercion, defaults filled in): a missing required field is 400/11, any other failure 400/12.
 * The handler returns the envelope's `data` (undefined = `{}`), or a RawResponse.
 */
export interface ObjectEndpointVersion<B = Record<string, unknown>> {
  readonly version: string;
  readonly schema?: JsonSchema;
  handle(ctx: RequestContext, body: B): Promise<unknown>;
}

/**
 * One version of an endpoint taking events: a json-lines body (one entry per non-empty line), or
 * any other content type as one JSON object = one event. Query parameters are not merged into
 * events (they are in `ctx.query`). An empty body is an empty list.
 */
export interface EventsEndpointVersion {
  readonly version: string;
  handle(ctx: RequestContext, events: EventLine[]): Promise<unknown>;
}

export interface ObjectEndpoint<B = Record<string, unknown>> {
  /** "events.get_task_log" */
  readonly name: string;
  readonly body: 'object';
  readonly versions: readonly ObjectEndpointVersion<B>[];
}

export interface EventsEndpoint {
  readonly name: string;
  readonly body: 'events';
  readonly versions: readonly EventsEndpointVersion[];
}

/**
 * Any endpoint a router serves. (`never` accepts object endpoints of any body type: handlers are
 * methods, checked bivariantly.)
 */
export type Endpoint = ObjectEndpoint<never> | EventsEndpoint;

/** Declares an object endpoint, typing each handler's body as `B`. */
export function objectEndpoint<B = Record<string, unknown>>(e: Omit<ObjectEndpoint<B>, 'body'>): ObjectEndpoint<B> {
  return { ...e, body: 'object' };
}

/** Declares an events endpoint. */
export function eventsEndpoint(e: Omit<EventsEndpoint, 'body'>): EventsEndpoint {
  return { ...e, body: 'events' };
}
