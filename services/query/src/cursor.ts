import { createHash, randomBytes } from 'node:crypto';
import { createSignedTokens, invalidScrollId, SignedTokenError } from '@trackstream/api';

/**
 * `scroll_id`: a stateless, signed, expiring cursor. The token is a signed token of
 * @trackstream/api (an HS256 JWT) whose claims name what it pages (endpoint, and a fingerprint of
 * tenant, task(s) and the parameters that shape the order) and hold the endpoint's resume state
 * (the last returned sort key, snapshot bounds). Nothing is kept on the server, so any replica
 * holding the same key can continue a scroll; each page answers with a fresh cursor, so `ttlSec`
 * bounds the pause between two pages, not the length of a scroll.
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
  encode<S>(scope: CursorScope, state: S): Promise<string>;
  /** The state of `token` (undefined when no token was sent); rejects with 400/1104 for a bad, expired or foreign one. */
  decode<S>(token: string | null | undefined, scope: CursorScope): Promise<S | undefined>;
}

export interface CursorOptions {
  /** Signing key. Empty: a random per-process key (cursors then don't survive a restart or cross replicas). */
  readonly secret: string;
  /** Lifetime of a cursor, in seconds. */
  readonly ttlSec: number;
  /** Clock in milliseconds, for tests. */
  readonly now?: () => number;
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

/** A compact, order-independent fingerprint of the scope (task lists can be 100 ids long). */
function fingerprint(scope: CursorScope): string {
  const task = typeof scope.task === 'string' ? scope.task : [...new Set(scope.task)].sort();
  const params = Object.entries(scope.params ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const canonical = JSON.stringify([scope.endpoint, scope.tenant, task, params]);
  return createHash('sha256').update(canonical, 'utf8').digest('base64url').slice(0, 22);
}

export function createCursors(opts: CursorOptions): Cursors {
  const tokens = createSignedTokens({
    secret: opts.secret === '' ? randomBytes(32) : opts.secret,
    maxLength: MAX_TOKEN_LENGTH,
    now: opts.now,
  });

  return {
    encode(scope, state) {
      return tokens.sign({ v: FORMAT, e: scope.endpoint, s: fingerprint(scope), k: state }, opts.ttlSec);
    },

    async decode<S>(token: string | null | undefined, scope: CursorScope): Promise<S | undefined> {
      if (token === undefined || token === null || token === '') return undefined;
      let body: Readonly<Record<string, unknown>>;
      try {
        body = await tokens.verify(token);
      } catch (e) {
        if (e instanceof SignedTokenError) throw invalidScrollId();
        throw e;
      }
      if (body.v !== FORMAT || body.e !== scope.endpoint || body.s !== fingerprint(scope)) throw invalidScrollId();
      return body.k as S;
    },
  };
}
