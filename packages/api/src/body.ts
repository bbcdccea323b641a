import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { ApiError, payloadTooLarge, validation } from './errors';
import { JsonParseError, MAX_JSON_DEPTH, parseJson } from './json';

/** Default request body limit: 16 MiB after decompression (the SDK splits batches at 15 MiB). */
export const DEFAULT_BODY_LIMIT = 16 * 1024 * 1024;
/** After a 413, how much more of the body is read and discarded so the client gets the answer. */
export const DEFAULT_DRAIN_LIMIT = 64 * 1024 * 1024;
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

/** The request was closed by the client before its body arrived. Never answered. */
export class RequestAbortedError extends Error {
  override readonly name = 'RequestAbortedError';
  constructor(message = 'client closed the request') {
    super(message);
  }
}

const BODY_ABANDONED = Symbol('bodyAbandoned');
type AbandonableRequest = IncomingMessage & { [BODY_ABANDONED]?: true };

/**
 * Marks a request whose body is left unread (refused and no longer drained, or timed out): the
 * connection can't serve another request, so its answer must close it.
 */
export function abandonBody(req: IncomingMessage): void {
  (req as AbandonableRequest)[BODY_ABANDONED] = true;
}

export function isBodyAbandoned(req: IncomingMessage): boolean {
  return (req as AbandonableRequest)[BODY_ABANDONED] === true;
}

export interface ReadBodyOptions {
  /** Maximum body size in bytes, after decompression (and of the compressed bytes). Default 16 MiB. */
  limit?: number;
  /**
   * Over the limit, the rest of the body is read and discarded (never buffered) so that the
   * client, which usually sends everything before reading, receives the 413. Past `drainLimit`
   * more bytes or `drainTimeoutMs`, reading stops and the request is marked `abandonBody`.
   */
  drainLimit?: number;
  drainTimeoutMs?: number;
  /** Aborting rejects with the signal's reason. */
  signal?: AbortSignal;
}

function decoderFor(encoding: string): Transform | null {
  switch (encoding) {
    case '':
    case 'identity':
      return null;
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      throw validation(`unsupported Content-Encoding "${encoding.slice(0, 40)}"`);
  }
}

/**
 * Reads a request body (any method: the SDK sends GET with a body), decompressing
 * `Content-Encoding: gzip | deflate | br`. The limit applies to the decompressed size and
 * decompression stops as soon as it is passed, so a zip bomb costs at most `limit` bytes.
 * Rejects with 413/0 (limit), 400/12 (corrupt compressed data, unknown encoding),
 * RequestAbortedError (client gone) or the signal's reason.
 */
export function readBody(req: IncomingMessage, opts: ReadBodyOptions = {}): Promise<Buffer> {
  const limit = opts.limit ?? DEFAULT_BODY_LIMIT;
  const drainLimit = opts.drainLimit ?? DEFAULT_DRAIN_LIMIT;
  const drainTimeoutMs = opts.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
  const signal = opts.signal;
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));

  let decoder: Transform | null;
  try {
    decoder = decoderFor(String(req.headers['content-encoding'] ?? '').trim().toLowerCase());
  } catch (e) {
    return Promise.reject(e);
  }

  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let rawSize = 0;
    let settled = false;
    /** Set once the body is refused: the rest is drained, then this is the answer. */
    let refusal: ApiError | undefined;
    let drained = 0;
    let drainTimer: NodeJS.Timeout | undefined;

    const settle = (err: unknown, body?: Buffer): void => {
      if (settled) return;
      settled = true;
      req.off('data', onRawData);
      req.off('end', onRawEnd);
      req.off('error', onReqError);
      req.off('close', onReqClose);
      signal?.removeEventListener('abort', onAbort);
      if (drainTimer) clearTimeout(drainTimer);
      if (decoder) stopDecoder();
      if (err === undefined) resolve(body as Buffer);
      else reject(err);
    };

    const stopDecoder = (): void => {
      if (!decoder) return;
      const d = decoder;
      decoder = null;
      d.off('data', onDecoded);
      d.off('end', onDecodedEnd);
      d.off('error', onDecoderError);
      d.on('error', () => undefined);
      d.destroy();
    };

    /** Refuse the body: stop buffering, discard the rest (bounded), then answer `err`. */
    const refuse = (err: ApiError): void => {
      if (refusal || settled) return;
      refusal = err;
      chunks.length = 0;
      stopDecoder();
      if (req.readableEnded) return settle(err);
      drainTimer = setTimeout(giveUp, drainTimeoutMs);
      drainTimer.unref();
      req.resume();
    };

    const giveUp = (): void => {
      if (!refusal) return;
      abandonBody(req);
      req.pause();
      settle(refusal);
    };

    const onDecoded = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) return refuse(payloadTooLarge(limit));
      chunks.push(chunk);
    };

    const onRawData = (chunk: Buffer): void => {
      if (refusal) {
        drained += chunk.length;
        if (drained > drainLimit) giveUp();
        return;
      }
      rawSize += chunk.length;
      if (rawSize > limit) return refuse(payloadTooLarge(limit));
      if (!decoder) return onDecoded(chunk);
      if (!decoder.write(chunk)) {
        req.pause();
        decoder.once('drain', () => {
          if (!refusal && !settled) req.resume();
        });
      }
    };

    const onRawEnd = (): void => {
      if (refusal) return settle(refusal);
      if (decoder) decoder.end();
      else settle(undefined, Buffer.concat(chunks, size));
    };

    const onDecodedEnd = (): void => {
      if (!refusal) settle(undefined, Buffer.concat(chunks, size));
    };

    const onDecoderError = (e: Error): void => {
      refuse(validation('request body could not be decompressed', e));
    };

    const onReqError = (e: Error): void => settle(new RequestAbortedError(`request stream failed: ${e.message}`));
    const onReqClose = (): void => {
      if (!req.complete) settle(new RequestAbortedError());
    };
    const onAbort = (): void => {
      if (!req.readableEnded && refusal === undefined) req.pause();
      settle(signal?.reason);
    };

    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('data', onRawData);
    req.on('end', onRawEnd);
    req.on('error', onReqError);
    req.on('close', onReqClose);
    if (decoder) {
      decoder.on('data', onDecoded);
      decoder.on('end', onDecodedEnd);
      decoder.on('error', onDecoderError);
    }
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) refuse(payloadTooLarge(limit));
    req.resume();
  });
}

const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

function hasBom(buf: Buffer): boolean {
  return buf.length >= 3 && buf[0] === UTF8_BOM[0] && buf[1] === UTF8_BOM[1] && buf[2] === UTF8_BOM[2];
}

/** UTF-8 text of a body (a leading BOM dropped); invalid UTF-8 is 400/12. */
export function decodeUtf8(buf: Buffer): string {
  if (!isUtf8(buf)) throw validation('request body is not valid UTF-8');
  return buf.toString('utf8', hasBom(buf) ? 3 : 0);
}

/** `Content-Type: application/json-lines`, with or without parameters such as `; charset=utf-8`. */
export function isJsonLines(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const semi = contentType.indexOf(';');
  const type = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  return type === 'application/json-lines';
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function jsonFailure(e: unknown): ApiError {
  if (e instanceof JsonParseError) return validation(e.kind === 'depth' ? e.message : 'request body is not valid JSON');
  if (e instanceof RangeError) return validation('request body nested too deeply');
  throw e;
}

function parseObjectText(text: string, maxDepth: number): Record<string, unknown> {
  let value: unknown;
  try {
    value = parseJson(text, maxDepth);
  } catch (e) {
    throw jsonFailure(e);
  }
  if (!isPlainObject(value)) throw validation('request body must be a JSON object');
  return value;
}

/** One JSON object (empty body = `{}`); not JSON, not an object or too deep: 400/12. */
export function parseObjectBody(buf: Buffer, maxDepth = MAX_JSON_DEPTH): Record<string, unknown> {
  if (buf.length === 0) return {};
  const text = decodeUtf8(buf);
  if (text.trim() === '') return {};
  return parseObjectText(text, maxDepth);
}

/** One event of an events body: parsed, or why not (a bounded reason, never the input). */
export type EventLine = { readonly ok: true; readonly value: Record<string, unknown> } | { readonly ok: false; readonly error: string };

export const LINE_ERRORS = {
  json: 'Validation error: invalid JSON',
  utf8: 'Validation error: invalid UTF-8',
  notObject: 'Validation error: event must be a JSON object',
  depth: 'Validation error: JSON nested too deeply',
} as const;

function parseLine(text: string, maxDepth: number): EventLine | null {
  const t = text.trim();
  if (t === '') return null;
  let value: unknown;
  try {
    value = parseJson(t, maxDepth);
  } catch (e) {
    const depth = (e instanceof JsonParseError && e.kind === 'depth') || e instanceof RangeError;
    return { ok: false, error: depth ? LINE_ERRORS.depth : LINE_ERRORS.json };
  }
  return isPlainObject(value) ? { ok: true, value } : { ok: false, error: LINE_ERRORS.notObject };
}

/**
 * A json-lines body: one JSON object per non-empty line, each parsed on its own so one bad line
 * (bad JSON, bad UTF-8, not an object, too deep) spoils only itself.
 */
export function parseJsonLines(buf: Buffer, maxDepth = MAX_JSON_DEPTH): EventLine[] {
  const out: EventLine[] = [];
  if (buf.length === 0) return out;
  if (isUtf8(buf)) {
    const text = buf.toString('utf8', hasBom(buf) ? 3 : 0);
    for (const line of text.split('\n')) {
      const parsed = parseLine(line, maxDepth);
      if (parsed) out.push(parsed);
    }
    return out;
  }
  // Some line is not UTF-8. A newline byte never occurs inside a multi-byte UTF-8 sequence, so the
  // bytes split into lines safely and each is checked alone.
  let start = hasBom(buf) ? 3 : 0;
  while (start <= buf.length) {
    let end = buf.indexOf(0x0a, start);
    if (end < 0) end = buf.length;
    const line = buf.subarray(start, end);
    if (line.length > 0) {
      if (!isUtf8(line)) {
        out.push({ ok: false, error: LINE_ERRORS.utf8 });
      } else {
        const parsed = parseLine(line.toString('utf8'), maxDepth);
        if (parsed) out.push(parsed);
      }
    }
    start = end + 1;
  }
  return out;
}

/**
 * An events body: json-lines, or (any other content type) one JSON object = one event. An empty
 * body is no events. A non-json-lines body that is not an object is 400/12 as a whole.
 */
export function parseEventsBody(buf: Buffer, contentType: string | undefined, maxDepth = MAX_JSON_DEPTH): EventLine[] {
  if (isJsonLines(contentType)) return parseJsonLines(buf, maxDepth);
  if (buf.length === 0) return [];
  const text = decodeUtf8(buf);
  if (text.trim() === '') return [];
  return [{ ok: true, value: parseObjectText(text, maxDepth) }];
}

const INTEGER = /^-?\d+$/;
const DECIMAL = /^-?\d+\.\d+$/;

/**
 * A query-string value as the contract types it: `true`/`false` booleans, digit strings numbers
 * (integers beyond 2^53 stay strings: they are ids, not counts), anything else the string.
 */
export function coerceQueryValue(s: string): string | number | boolean {
  if (s === 'true') return true;
  if (s === 'false') return false;
  if (INTEGER.test(s)) {
    const n = Number(s);
    return Number.isSafeInteger(n) ? n : s;
  }
  if (DECIMAL.test(s)) {
    const n = Number(s);
    return Number.isFinite(n) ? n : s;
  }
  return s;
}

/**
 * Query-string parameters, coerced: `k=1` -> 1, `k=true` -> true, `k[]=a&k[]=b` and `k=a&k=b`
 * -> lists (`k[]` is a list even alone). Takes the query string, with or without its leading `?`.
 */
export function parseQuery(search: string): Record<string, unknown> {
  const params = new URLSearchParams(search);
  const out: Record<string, unknown> = {};
  const lists = new Set<string>();
  for (const [rawKey, rawValue] of params) {
    const isList = rawKey.endsWith('[]');
    const key = isList ? rawKey.slice(0, -2) : rawKey;
    if (key === '' || key === '__proto__') continue;
    const value = coerceQueryValue(rawValue);
    if (!Object.prototype.hasOwnProperty.call(out, key)) {
      out[key] = isList ? [value] : value;
      if (isList) lists.add(key);
    } else if (lists.has(key)) {
      (out[key] as unknown[]).push(value);
    } else {
      out[key] = [out[key], value];
      lists.add(key);
    }
  }
  return out;
}

/** The coerced query parameters of a request URL (`/path?a=1`); `{}` without a query string. */
export function queryOf(url: string): Record<string, unknown> {
  const q = url.indexOf('?');
  return q < 0 ? {} : parseQuery(url.slice(q + 1));
}

/** Query parameters over body fields (top level; a query value replaces the body's). */
export function mergeQuery(body: Record<string, unknown>, query: Record<string, unknown>): Record<string, unknown> {
  for (const key of Object.keys(query)) body[key] = query[key];
  return body;
}
