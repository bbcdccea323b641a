import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { invalidScrollId } from '@trackstream/api';

/**
 * `scroll_id`: a stateless, signed cursor. The token is `base64url(JSON payload).base64url(HMAC)`;
 * the payload names what it pages (endpoint, tenant, task(s), the parameters that shape the
 * order) and holds the endpoint's resume state (the last returned sort key, snapshot bounds).
 * Nothing is kept on the server, so any replica holding the same key can continue a scroll.
 */

/** What a cursor belongs to; a cursor presented for another scope is refused (400/1104). */
export interface CursorScope {
  readonly endpoint: string;
  readonly tenant: string;
  /** One task, or the tasks of a multi-task endpoint (order and duplicates don't matter). */
  readonly task: string | readonly string[];
  /** Request parameters that change what the pages hold or their order (order, from, iters, metric...). */
  readonly params?: Readonly<Record<string, string | number>>;
}

export interface Cursors {
  encode<S>(scope: CursorScope, state: S): string;
  /** The state of `token` (undefined when no token was sent); throws 400/1104 for a bad or foreign one. */
  decode<S>(token: string | null | undefined, scope: CursorScope): S | undefined;
}

/** Bumped when a state's shape changes, so cursors of an older release are refused, not misread. */
const FORMAT = 1;
/**
 * Bounds the work spent on garbage input. A real cursor holds the last row's names and, for
 * multi-task endpoints, up to 100 task ids of 256 characters: it can reach hundreds of KiB (more
 * with very long stored names), and refusing it would leave the rest of the scroll unreadable.
 * The request body limit (16 MiB) bounds it anyway.
 */
const MAX_TOKEN_LENGTH = 16 * 1024 * 1024;
const B64URL = /^[A-Za-z0-9_-]+$/;

/** A compact, order-independent fingerprint of the scope (task lists can be 100 ids long). */
function fingerprint(scope: CursorScope): string {
  const task = typeof scope.task === 'string' ? scope.task : [...new Set(scope.task)].sort();
  const params = Object.entries(scope.params ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const canonical = JSON.stringify([scope.endpoint, scope.tenant, task, params]);
  return createHash('sha256').update(canonical, 'utf8').digest('base64url').slice(0, 22);
}

/** `secret` empty: a random per-process key (cursors then don't survive a restart or cross replicas). */
export function createCursors(secret: string): Cursors {
  const key = secret === '' ? randomBytes(32) : Buffer.from(secret, 'utf8');
  const sign = (payload: string): Buffer => createHmac('sha256', key).update(payload, 'utf8').digest();

  return {
    encode(scope, state) {
      const payload = Buffer.from(JSON.stringify({ v: FORMAT, e: scope.endpoint, s: fingerprint(scope), k: state }), 'utf8').toString('base64url');
      return `${payload}.${sign(payload).toString('base64url')}`;
    },

    decode<S>(token: string | null | undefined, scope: CursorScope): S | undefined {
      if (token === undefined || token === null || token === '') return undefined;
      const dot = token.indexOf('.');
      if (token.length > MAX_TOKEN_LENGTH || dot < 0) throw invalidScrollId();
      const payload = token.slice(0, dot);
      const sig = token.slice(dot + 1);
      if (!B64URL.test(payload) || !B64URL.test(sig)) throw invalidScrollId();
      const given = Buffer.from(sig, 'base64url');
      const expected = sign(payload);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalidScrollId();
      let body: { v?: unknown; e?: unknown; s?: unknown; k?: unknown };
      try {
        body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof body;
      } catch {
        throw invalidScrollId();
      }
      if (body === null || typeof body !== 'object' || body.v !== FORMAT || body.e !== scope.endpoint || body.s !== fingerprint(scope)) {
        throw invalidScrollId();
      }
      return body.k as S;
    },
  };
}
