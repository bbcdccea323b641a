import { createSecretKey, type KeyObject } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, SignJWT } from 'jose';

/**
 * Signed, expiring tokens: compact HS256 JWTs made and checked by `jose`, for every token this
 * project issues (auth.login's Bearer tokens, the query service's scroll_id cursors).
 *
 * Only HS256 is accepted (`alg: none` and every other algorithm are refused), `exp` is required
 * and checked with no clock tolerance (we issue and check on the same clocks). jose decodes
 * base64url leniently (padding, `+` and `/`, stray trailing bits), so the form is checked here
 * first: another encoding of a valid token is refused, never accepted as the same token.
 */

/** Why a token was refused: callers map each to their own error. */
export type SignedTokenFailure =
  /** Not a JWT: not three base64url parts, or a header or payload that is not a JSON object. */
  | 'malformed'
  /** A JWT, but not one of ours: another algorithm, another key, tampered, re-encoded, bad claims. */
  | 'invalid'
  /** Ours, past its `exp`. */
  | 'expired';

export class SignedTokenError extends Error {
  override readonly name = 'SignedTokenError';
  constructor(
    readonly reason: SignedTokenFailure,
    message: string,
  ) {
    super(message);
  }
}

/** A verified token's claims: the ones signed, plus `iat` and `exp` (seconds since the epoch). */
export interface SignedClaims {
  readonly iat: number;
  readonly exp: number;
  readonly [claim: string]: unknown;
}

export interface SignedTokenOptions {
  /** The HMAC key, the same wherever tokens are checked. Not empty. */
  readonly secret: string | Uint8Array;
  /** Longest token accepted, in characters; bounds the work spent on garbage. */
  readonly maxLength: number;
  /**
   * How many verified tokens to remember (0, the default: none), for tokens presented again and
   * again. A remembered token's `exp` is still checked on every use.
   */
  readonly cacheSize?: number;
  /** Clock in milliseconds, for tests. */
  readonly now?: () => number;
}

export interface SignedTokens {
  /** A token carrying `claims`, with `iat` now and `exp` `ttlSec` (whole seconds) later. */
  sign(claims: Readonly<Record<string, unknown>>, ttlSec: number): Promise<string>;
  /** The claims of a token this key signed, unexpired; throws SignedTokenError otherwise. */
  verify(token: string): Promise<SignedClaims>;
}

const ALGORITHM = 'HS256';
const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Both the header and the payload are JSON objects: decides malformed vs invalid on refusal. */
function readable(token: string): boolean {
  try {
    decodeProtectedHeader(token);
    decodeJwt(token);
    return true;
  } catch {
    return false;
  }
}

/**
 * A compact JWT's payload, read without checking anything (undefined if unreadable): only to
 * choose which key to verify a token with first, never to trust a claim.
 */
export function unverifiedClaims(token: string): Readonly<Record<string, unknown>> | undefined {
  if (!COMPACT.test(token)) return undefined;
  try {
    return decodeJwt(token);
  } catch {
    return undefined;
  }
}

function refusal(token: string, message: string): SignedTokenError {
  // As before jose: an unreadable token is malformed whatever else is wrong with it.
  return readable(token) ? new SignedTokenError('invalid', message) : new SignedTokenError('malformed', 'malformed token');
}

function messageOf(e: errors.JOSEError): string {
  switch (e.code) {
    case errors.JOSEAlgNotAllowed.code:
      return 'token algorithm not accepted';
    case errors.JWSSignatureVerificationFailed.code:
      return 'bad token signature';
    default:
      return `token not accepted (${e.code})`;
  }
}

export function createSignedTokens(opts: SignedTokenOptions): SignedTokens {
  if (opts.secret.length === 0) throw new Error('signed tokens: empty secret');
  const now = opts.now ?? Date.now;
  const cacheSize = opts.cacheSize ?? 0;
  // Made once: jose then signs and checks with node:crypto's HMAC directly.
  const key: KeyObject = createSecretKey(typeof opts.secret === 'string' ? Buffer.from(opts.secret, 'utf8') : opts.secret);
  // Insertion order is recency order: a hit moves its entry to the end, the first one goes first.
  const cache = new Map<string, SignedClaims>();

  function unexpired(claims: SignedClaims): SignedClaims {
    if (claims.exp <= Math.floor(now() / 1000)) throw new SignedTokenError('expired', 'token expired');
    return claims;
  }

  async function sign(claims: Readonly<Record<string, unknown>>, ttlSec: number): Promise<string> {
    if (!(ttlSec >= 1)) throw new Error('signed tokens: ttlSec must be at least 1');
    const iat = Math.floor(now() / 1000);
    return new SignJWT({ ...claims })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setIssuedAt(iat)
      .setExpirationTime(iat + Math.floor(ttlSec))
      .sign(key);
  }

  async function verify(token: string): Promise<SignedClaims> {
    if (token.length > opts.maxLength || !COMPACT.test(token)) throw new SignedTokenError('malformed', 'malformed token');
    const known = cache.get(token);
    if (known) {
      cache.delete(token);
      unexpired(known);
      cache.set(token, known);
      return known;
    }
    const signature = token.slice(token.lastIndexOf('.') + 1);
    if (Buffer.from(signature, 'base64url').toString('base64url') !== signature) throw refusal(token, 'bad token signature');
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: [ALGORITHM],
        requiredClaims: ['exp', 'iat'],
        clockTolerance: 0,
        currentDate: new Date(now()),
      }));
    } catch (e) {
      if (e instanceof errors.JWTExpired) throw new SignedTokenError('expired', 'token expired');
      if (e instanceof errors.JOSEError) throw refusal(token, messageOf(e));
      throw e;
    }
    // jose checked both are numbers (required, and validated when present).
    const claims = Object.freeze(payload) as SignedClaims;
    if (cacheSize > 0) {
      if (cache.size >= cacheSize) cache.delete(cache.keys().next().value as string);
      cache.set(token, claims);
    }
    return claims;
  }

  return { sign, verify };
}
