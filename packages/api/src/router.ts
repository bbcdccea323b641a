import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { constants as zlibConstants, createGzip, gzip } from 'node:zlib';
import type { Registry } from '@trackstream/metrics';
import type { Logger } from '@trackstream/runtime';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { DEFAULT_TENANT, loginEndpoint, type Auth } from './auth';
import {
  DEFAULT_BODY_LIMIT,
  DEFAULT_DRAIN_LIMIT,
  DEFAULT_DRAIN_TIMEOUT_MS,
  RequestAbortedError,
  abandonBody,
  isBodyAbandoned,
  mergeQuery,
  parseEventsBody,
  parseObjectBody,
  queryOf,
  readBody,
} from './body';
import { isRawResponse, type Endpoint, type Identity, type RawResponse, type RequestContext } from './endpoint';
import { errorEnvelope, newRequestId, successEnvelope, type Envelope, type EnvelopeContext, type EnvelopeEndpoint } from './envelope';
import { ApiError, invalidPath, missingFields, notFound, toApiError, unavailable, validation } from './errors';
import { UNKNOWN_ENDPOINT_LABEL, httpMetrics } from './http-metrics';
import { MAX_JSON_DEPTH, stringifyJson } from './json';
import { tryParsePath } from './path';
import { formatVersion, parseVersion, selectVersion } from './version';

export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

export interface ApiRouterOptions {
  /** Metric name prefix: `gateway` gives `gateway_http_requests_total`... */
  readonly service: string;
  readonly endpoints: readonly Endpoint[];
  readonly registry: Registry;
  readonly logger: Logger;
  /** Authenticates every request and serves `auth.login`. Without it every caller is tenant `default`. */
  readonly auth?: Auth;
  /** Body limit in bytes, after decompression. Default 16 MiB. */
  readonly bodyLimit?: number;
  /** After a 413, discard up to this many more bytes (default 64 MiB) / this long (default 10 s) so the client reads the answer. */
  readonly drainLimit?: number;
  readonly drainTimeoutMs?: number;
  /** Maximum JSON nesting of a body (or of one json-lines line). Default 64. */
  readonly maxDepth?: number;
  /**
   * From the request's arrival until its handler returns; past it `ctx.signal` aborts and the
   * client gets 503/0 with Retry-After. A raw response, once streaming, is not timed out, but
   * is cut off when its client takes nothing for this long. Default 60 s.
   */
  readonly timeoutMs?: number;
  /** Retry-After of a timed-out request. Default 5. */
  readonly timeoutRetryAfterSec?: number;
  /**
   * Pass requests this router cannot serve (malformed path, endpoint not in its list, method
   * other than GET/POST) to the next middleware instead of answering 400/0 or 404/0. For a
   * process that mounts several API routers; mount a router with no endpoints last to answer them.
   */
  readonly fallthrough?: boolean;
  /** Ajv instance for request schemas (default: allErrors, useDefaults, no coercion, non-strict). */
  readonly ajv?: Ajv;
}

interface CompiledVersion {
  readonly version: string;
  readonly validate: ValidateFunction | undefined;
  readonly handle: (ctx: RequestContext, body: never) => Promise<unknown>;
}

interface CompiledEndpoint {
  readonly name: string;
  readonly body: 'object' | 'events';
  readonly versions: readonly CompiledVersion[];
}

const DEFAULT_IDENTITY: Identity = Object.freeze({ tenant: DEFAULT_TENANT });

function firstHeader(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === '' ? undefined : s;
}

function pointerToField(pointer: string, prop?: string): string {
  const parts = pointer === '' ? [] : pointer.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (prop !== undefined) parts.push(prop);
  return parts.join('.');
}

function describeSchemaError(e: ErrorObject): string {
  const field = pointerToField(e.instancePath) || 'request';
  if (e.keyword === 'enum') {
    const allowed = (e.params as { allowedValues?: unknown[] }).allowedValues ?? [];
    return `${field} must be one of: ${allowed.map((v) => String(v)).join(', ')}`;
  }
  return `${field} ${e.message ?? 'is invalid'}`;
}

/** Ajv errors as the catalogue wants them: missing required fields 400/11, anything else 400/12. */
export function schemaError(errors: readonly ErrorObject[] | null | undefined): ApiError {
  const list = errors ?? [];
  const missing = list
    .filter((e) => e.keyword === 'required')
    .map((e) => pointerToField(e.instancePath, String((e.params as { missingProperty?: unknown }).missingProperty)));
  if (missing.length > 0) return missingFields([...new Set(missing)]);
  const details = [...new Set(list.map(describeSchemaError))];
  return validation(details.join('; ') || 'request is invalid');
}

function sendEnvelope(res: Response, status: number, envelope: Envelope): void {
  sendJson(res, status, stringifyJson(envelope));
}

function sendJson(res: Response, status: number, body: string | Buffer, encoding?: 'gzip'): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  if (encoding) {
    res.setHeader('Content-Encoding', encoding);
    res.setHeader('Vary', 'Accept-Encoding');
  }
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/** Answers smaller than this go as they are: compressing them saves less than it costs. */
const GZIP_MIN_BYTES = 8 * 1024;
/** zlib's fastest level: a chart of 20 MB shrinks about 4x for a fraction of the time level 6 takes. */
const GZIP_OPTIONS = { level: zlibConstants.Z_BEST_SPEED };
const GZIP_NUMERIC_OPTIONS = { level: zlibConstants.Z_BEST_SPEED, strategy: zlibConstants.Z_HUFFMAN_ONLY };
const gzipAsync = promisify(gzip);
/** A gzipped stream is written to zlib in pieces of at least this many bytes (characters). */
const GZIP_WRITE_BYTES = 256 * 1024;

/** Whether the request's Accept-Encoding takes gzip (`gzip` or `*`, with a q above 0). */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  return value.split(',').some((part) => {
    const [coding = '', ...params] = part.split(';').map((x) => x.trim().toLowerCase());
    if (coding !== 'gzip' && coding !== 'x-gzip' && coding !== '*') return false;
    const q = params.find((x) => x.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/** A success envelope, gzipped (off the event loop) when the client takes it and it is large. */
async function sendSuccess(res: Response, envelope: Envelope): Promise<void> {
  const body = stringifyJson(envelope);
  if (body.length < GZIP_MIN_BYTES || !acceptsGzip(res.req.headers['accept-encoding'])) sendJson(res, 200, body);
  else sendJson(res, 200, await gzipAsync(body, GZIP_OPTIONS), 'gzip');
}

/**
 * The one place an error becomes a response: the envelope with HTTP status == result_code,
 * Retry-After on retriable errors, 5xx logged at error with the cause, 4xx at info.
 */
export function sendError(res: Response, envelope: EnvelopeContext, error: unknown, log: Logger): void {
  const err = toApiError(error);
  if (err.status >= 500) log.error({ err: err.cause ?? err, code: err.status, subcode: err.subcode }, err.message);
  else log.info({ code: err.status, subcode: err.subcode, msg: err.message }, 'request rejected');
  if (res.headersSent) {
    // Mid-stream: the client must see a truncated response, not a clean end.
    res.destroy();
    return;
  }
  if (err.retryAfterSec !== undefined) res.setHeader('Retry-After', String(Math.max(0, Math.ceil(err.retryAfterSec))));
  // Answered before the body's end (401, 404, a bad encoding...): the connection can't serve another
  // request until the rest arrives, which a hostile client never sends; close it rather than wait.
  if (isBodyAbandoned(res.req) || !res.req.complete) res.setHeader('Connection', 'close');
  sendEnvelope(res, err.status, errorEnvelope(envelope, err));
}

/** Resolves false when the client took nothing for `stallMs` (it stopped reading); `out` writes to `res` (itself, or a gzip stream piped to it). */
function waitForDrain(out: NodeJS.WritableStream, res: Response, signal: AbortSignal, stallMs: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const done = (drained: boolean): void => {
      clearTimeout(timer);
      out.off('drain', onDrain);
      res.off('close', onDrain);
      signal.removeEventListener('abort', onDrain);
      resolve(drained);
    };
    const onDrain = (): void => done(true);
    const timer = setTimeout(() => done(false), stallMs);
    out.on('drain', onDrain);
    res.on('close', onDrain);
    signal.addEventListener('abort', onDrain);
  });
}

/** Ends a raw response's stream that will not be written (its source may hold a connection). */
async function discardRaw(raw: RawResponse): Promise<void> {
  const s = raw.stream as Partial<AsyncIterable<unknown>> & Partial<Iterable<unknown>>;
  try {
    const it = s[Symbol.asyncIterator]?.() ?? s[Symbol.iterator]?.();
    await it?.return?.();
  } catch {
    // nothing to do
  }
}

/**
 * Streams a raw response with backpressure. A response is not timed out as a whole (a download
 * may be long), but a client that takes nothing for `stallMs` is cut off: its stream holds a
 * ClickHouse connection, and such clients would otherwise hold them all, for ever.
 */
async function writeRaw(res: Response, raw: RawResponse, signal: AbortSignal, envelope: EnvelopeContext, log: Logger, stallMs: number): Promise<void> {
  res.statusCode = raw.status ?? 200;
  res.setHeader('Content-Type', raw.contentType);
  const headerNames = Object.keys(raw.headers ?? {});
  for (const name of headerNames) res.setHeader(name, (raw.headers as Record<string, string>)[name] as string);
  // Gzipped as it is written, when the client takes it: the stream never exists whole.
  const zip = acceptsGzip(res.req.headers['accept-encoding']) ? createGzip(raw.numeric ? GZIP_NUMERIC_OPTIONS : GZIP_OPTIONS) : undefined;
  if (zip) {
    res.setHeader('Content-Encoding', 'gzip');
    res.setHeader('Vary', 'Accept-Encoding');
    zip.pipe(res);
  }
  const out = zip ?? res;
  const gone = () => signal.aborted || res.destroyed;
  // Into gzip in pieces of 256 KiB or more: each write is a round trip to zlib's thread.
  let pending: Array<string | Uint8Array> = [];
  let pendingBytes = 0;
  const write = async (force: boolean): Promise<boolean> => {
    if (pending.length === 0 || (!force && pendingBytes < GZIP_WRITE_BYTES)) return true;
    const chunk = pending.length === 1 ? (pending[0] as string | Uint8Array) : Buffer.concat(pending.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
    pending = [];
    pendingBytes = 0;
    if (out.write(chunk) || (await waitForDrain(out, res, signal, stallMs))) return true;
    log.info({ stallMs }, 'client stopped reading the response; cut off');
    res.destroy();
    return false;
  };
  try {
    // `break` (client gone) runs the iterator's return(), closing its source.
    for await (const chunk of raw.stream) {
      if (gone()) break;
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (!(await write(!zip))) break;
      if (gone()) break;
    }
    if (!gone()) await write(true);
  } catch (e) {
    if (!res.headersSent) {
      zip?.unpipe(res);
      for (const name of [...headerNames, 'Content-Encoding', 'Vary']) res.removeHeader(name);
    }
    zip?.destroy();
    sendError(res, envelope, e, log);
    return;
  }
  if (gone()) {
    zip?.destroy();
    return;
  }
  if (!out.writableEnded) out.end();
}

function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function compile(endpoints: readonly Endpoint[], ajv: Ajv): Map<string, CompiledEndpoint> {
  const table = new Map<string, CompiledEndpoint>();
  for (const e of endpoints) {
    if (!tryParsePath(`/${e.name}`)) throw new Error(`api: endpoint name "${e.name}" is not <service>.<action>`);
    if (table.has(e.name)) throw new Error(`api: endpoint ${e.name} declared twice`);
    if (e.versions.length === 0) throw new Error(`api: endpoint ${e.name} has no versions`);
    const seen = new Set<string>();
    const versions = e.versions.map((v): CompiledVersion => {
      const parsed = parseVersion(v.version);
      if (!parsed) throw new Error(`api: endpoint ${e.name} has invalid version "${v.version}"`);
      const version = formatVersion(parsed);
      if (seen.has(version)) throw new Error(`api: endpoint ${e.name} declares version ${version} twice`);
      seen.add(version);
      const schema = 'schema' in v ? v.schema : undefined;
      return { version, validate: schema ? ajv.compile(schema) : undefined, handle: (ctx, body) => v.handle(ctx, body) };
    });
    table.set(e.name, { name: e.name, body: e.body, versions });
  }
  return table;
}

/** What a router made with these options serves: `endpoints`, and `auth.login` when it authenticates. */
export function servedEndpoints(opts: Pick<ApiRouterOptions, 'endpoints' | 'auth'>): Endpoint[] {
  const endpoints = [...opts.endpoints];
  if (opts.auth && !endpoints.some((e) => e.name === 'auth.login')) endpoints.push(loginEndpoint(opts.auth));
  return endpoints;
}

/**
 * An express Router serving `endpoints` over ClearML's transport: path and version dispatch,
 * GET or POST with a body, auth, body parsing and validation, the envelope, one error handler,
 * request timeout and disconnect signal, and `<service>_http_*` metrics. Mount it after `/health`
 * and `/metrics`: every other request reaching it is answered (unless `fallthrough`).
 */
export function createApiRouter(opts: ApiRouterOptions): Router {
  const ajv = opts.ajv ?? new Ajv({ allErrors: true, useDefaults: true, coerceTypes: false, strict: false });
  const table = compile(servedEndpoints(opts), ajv);
  const metrics = httpMetrics(opts.registry, opts.service);
  const bodyOptions = {
    limit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    drainLimit: opts.drainLimit ?? DEFAULT_DRAIN_LIMIT,
    drainTimeoutMs: opts.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS,
  };
  const maxDepth = opts.maxDepth ?? MAX_JSON_DEPTH;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const timeoutRetryAfterSec = opts.timeoutRetryAfterSec ?? 5;
  const auth = opts.auth;

  async function serve(req: Request, res: Response, next: NextFunction): Promise<void> {
    const path = tryParsePath(req.path);
    const entry = path ? table.get(path.name) : undefined;
    const methodOk = req.method === 'GET' || req.method === 'POST';
    if (opts.fallthrough && (!entry || !methodOk)) return next();

    const started = performance.now();
    const id = newRequestId();
    const trx = firstHeader(req.headers['x-clearml-trx']) ?? firstHeader(req.headers['x-trains-trx']) ?? id;
    const endpointInfo: EnvelopeEndpoint = { name: path?.name ?? null, requested_version: path?.version ?? null, actual_version: null };
    const envelope: EnvelopeContext = { id, trx, endpoint: endpointInfo };
    const label = entry ? entry.name : UNKNOWN_ENDPOINT_LABEL;
    const log = opts.logger.child({ reqId: id, ...(path ? { endpoint: path.name } : {}) });

    metrics.inFlight.inc();
    const controller = new AbortController();
    const signal = controller.signal;
    const timer = setTimeout(() => {
      if (!req.readableEnded) abandonBody(req);
      controller.abort(unavailable(`request timed out after ${timeoutMs} ms`, timeoutRetryAfterSec));
    }, timeoutMs);
    res.once('close', () => {
      clearTimeout(timer);
      if (!res.writableFinished && !signal.aborted) controller.abort(new RequestAbortedError());
      metrics.inFlight.dec();
      // 499: the client went away before any answer (nginx's convention); bounded like the rest.
      const code = res.headersSent ? String(res.statusCode) : '499';
      const seconds = (performance.now() - started) / 1000;
      metrics.requests.inc({ endpoint: label, code });
      metrics.duration.observe({ endpoint: label }, seconds);
      log.debug({ code, ms: Math.round(seconds * 1000) }, 'request done');
    });

    let result: unknown;
    let work: Promise<unknown> | undefined;
    try {
      if (!path) throw invalidPath(req.path);
      if (!entry) throw notFound(`endpoint ${path.name}`);
      if (!methodOk) throw notFound(`method ${req.method}`);
      const version = selectVersion(entry.versions, path.version);
      if (!version) throw notFound(`endpoint ${path.name} version ${path.version ?? ''}`);
      endpointInfo.actual_version = version.version;

      work = (async () => {
        const identity = auth ? await auth.authenticate(req) : DEFAULT_IDENTITY;
        const query = queryOf(req.url);
        const buf = await readBody(req, { ...bodyOptions, signal });
        let input: unknown;
        if (entry.body === 'events') {
          input = parseEventsBody(buf, req.headers['content-type'], maxDepth);
        } else {
          const body = mergeQuery(parseObjectBody(buf, maxDepth), query);
          if (version.validate && !version.validate(body)) throw schemaError(version.validate.errors);
          input = body;
        }
        const ctx: RequestContext = {
          identity,
          tenant: identity.tenant,
          worker: firstHeader(req.headers['x-clearml-worker']) ?? firstHeader(req.headers['x-trains-worker']),
          trx,
          requestId: id,
          endpoint: entry.name,
          requestedVersion: path.version,
          actualVersion: version.version,
          query,
          signal,
          log,
          req,
          res,
        };
        return version.handle(ctx, input as never);
      })();
      result = await raceAbort(work, signal);
      clearTimeout(timer);
    } catch (e) {
      clearTimeout(timer);
      // A handler still running after a timeout or disconnect: its outcome is dropped.
      work?.then(
        (late) => (isRawResponse(late) ? discardRaw(late) : undefined),
        () => undefined,
      );
      if (e instanceof RequestAbortedError || res.destroyed) {
        log.debug({ reason: e instanceof Error ? e.message : String(e) }, 'client went away');
        if (!res.destroyed) res.destroy();
        return;
      }
      sendError(res, envelope, e, log);
      return;
    }

    if (res.destroyed || signal.aborted) {
      if (isRawResponse(result)) await discardRaw(result);
      return;
    }
    try {
      if (isRawResponse(result)) await writeRaw(res, result, signal, envelope, log, timeoutMs);
      else await sendSuccess(res, successEnvelope(envelope, result === undefined ? {} : result));
    } catch (e) {
      sendError(res, envelope, e, log);
    }
  }

  const router = Router();
  router.use((req: Request, res: Response, next: NextFunction) => {
    serve(req, res, next).catch((e: unknown) => next(e));
  });
  // Anything that still escapes (a bug in this file) gets the same envelope.
  router.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const id = newRequestId();
    sendError(res, { id, trx: firstHeader(req.headers['x-clearml-trx']) ?? id, endpoint: { name: null, requested_version: null, actual_version: null } }, err, opts.logger);
  });
  return router;
}
