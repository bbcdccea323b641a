import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { objectEndpoint, type Identity, type ObjectEndpoint } from './endpoint';
import { badCredentials, noCredentials, unknownCredentials } from './errors';
import { createSignedTokens, SignedTokenError, unverifiedClaims, type SignedClaims, type SignedTokens } from './signed-token';
import { compareVersions, parseVersion } from './version';

/**
 * Authentication (contract section 1, "Auth"). Access-key/secret-key pairs, each bound to one
 * tenant, sent as `Authorization: Basic base64(key:secret)`, or `Bearer <jwt>` from `auth.login`
 * (an HS256 JWT from signed-token.ts; the SDK reads its claims without verifying them).
 *
 * Codes: no Authorization header 401/20; undecodable (unknown scheme, bad base64, no ':', not a
 * three-part JWT, unreadable JSON) 401/21; unknown key, wrong secret, bad signature, wrong
 * algorithm and **expired token** 401/22 ("invalid credentials": the SDK logs in again on any 401).
 * With auth off every request is tenant `default`, whatever it sends.
 *
 * ClearML's own tokens (`clearmlTokenSecret`, the ClearML server's `secure.auth.token_secret`):
 * teams keeping their ClearML server for everything but `events.*` send the Bearer tokens its
 * `auth.login` issued. They are HS256 JWTs `{identity: {user, company, role, ...}, iat, exp, env,
 * api_version, ...}`; accepted beside ours with the same codes, the tenant being
 * `identity.company`, `exp` required (ClearML issues tokens without one only to its internal
 * `system` role). As the ClearML server does, a request without an Authorization header may
 * carry the token in the web UI's session cookie (`clearmlCookie`). With a ClearML secret set,
 * authentication is required even with `enabled` false: then only tokens are accepted (ClearML's,
 * and ours from auth.login), no access keys. Not seen from here: a token ClearML revoked at
 * `auth.logout` stays valid until its `exp`.
 */

export const DEFAULT_TENANT = 'default';
/** The SDK's oldest bundled API module; a lower `api_version` claim breaks it. */
export const MIN_TOKEN_API_VERSION = '2.9';
/** The `api_version` claim: the highest events API version served (the SDK then uses its highest bundled module at or below it, 2.23). */
export const DEFAULT_TOKEN_API_VERSION = '2.30';
/** The ClearML server's `apiserver.auth.session_auth_cookie_name` default. */
export const DEFAULT_CLEARML_COOKIE = 'clearml_token_basic';

export interface AccessKey {
  readonly accessKey: string;
  readonly secretKey: string;
  readonly tenant: string;
}

export interface AuthOptions {
  readonly enabled: boolean;
  readonly keys: readonly AccessKey[];
  /** HS256 key of issued tokens. Required with auth on; with auth off an empty one is replaced by a random key. */
  readonly tokenSecret: string;
  readonly tokenTtlSec: number;
  /** `server_version` claim, e.g. "1.16.0". */
  readonly serverVersion: string;
  /** `api_version` claim; at least "2.9". */
  readonly apiVersion: string;
  /**
   * The ClearML server's `secure.auth.token_secret`; empty or absent: ClearML tokens are not
   * accepted. Set, authentication is required whatever `enabled` says.
   */
  readonly clearmlTokenSecret?: string;
  /**
   * The cookie read for a token when a request has no Authorization header (ClearML secret set
   * only); empty: none. Default `clearml_token_basic`.
   */
  readonly clearmlCookie?: string;
  /** Clock in milliseconds, for tests. */
  readonly now?: () => number;
}

export interface TokenClaims {
  readonly tenant: string;
  readonly identity: { readonly company: string; readonly user: string };
  readonly api_version: string;
  readonly server_version: string;
  readonly feature_set: 'basic';
  readonly auth_type: 'Bearer';
  /** Seconds since the epoch. */
  readonly iat: number;
  readonly exp: number;
}

export interface Auth {
  /** Whether requests must authenticate: `enabled`, or a ClearML token secret set. */
  readonly enabled: boolean;
  /** The caller's identity; rejects with 401/20, 401/21 or 401/22 (authentication required only). */
  authenticate(req: { readonly headers: IncomingHttpHeaders }): Promise<Identity>;
  /** A signed token for `identity`, valid `ttlSec` (default and maximum: `tokenTtlSec`). */
  issueToken(identity: Identity, ttlSec?: number): Promise<string>;
  /** Checks one of our tokens' signature and expiry; rejects with 401/21 or 401/22. Works with auth off too. */
  verifyToken(token: string): Promise<TokenClaims>;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** Issued tokens are about 400 characters; node's header limit (16 KiB) bounds them anyway. */
const MAX_TOKEN_LENGTH = 8 * 1024;
/**
 * Every SDK request (each add_batch) carries the same token for hours: verified ones are
 * remembered, a few thousand clients' worth (a check by jose costs about 25 µs, a remembered
 * token about 1 µs).
 */
const VERIFIED_TOKEN_CACHE = 4096;

export function createAuth(opts: AuthOptions): Auth {
  const now = opts.now ?? Date.now;
  if (!parseVersion(opts.apiVersion) || compareVersions(opts.apiVersion, MIN_TOKEN_API_VERSION) < 0) {
    throw new Error(`auth: apiVersion must be a version >= ${MIN_TOKEN_API_VERSION}, got "${opts.apiVersion}"`);
  }
  if (!(opts.tokenTtlSec >= 1)) throw new Error('auth: tokenTtlSec must be at least 1 second');
  if (opts.enabled && opts.tokenSecret.length < 16) throw new Error('auth: tokenSecret of at least 16 characters required when auth is enabled');
  if (opts.enabled && opts.keys.length === 0) throw new Error('auth: enabled without any access keys');
  const clearmlSecret = opts.clearmlTokenSecret ?? '';
  // Equal keys would make either side's tokens valid as the other's.
  if (clearmlSecret !== '' && clearmlSecret === opts.tokenSecret) throw new Error('auth: the ClearML token secret must differ from tokenSecret');

  const signedTokens = (secret: string | Uint8Array): SignedTokens =>
    createSignedTokens({ secret, maxLength: MAX_TOKEN_LENGTH, cacheSize: VERIFIED_TOKEN_CACHE, now });
  const tokens = signedTokens(opts.tokenSecret.length > 0 ? opts.tokenSecret : randomBytes(32));
  const clearmlTokens = clearmlSecret !== '' ? signedTokens(clearmlSecret) : undefined;
  const cookieName = clearmlTokens ? (opts.clearmlCookie ?? DEFAULT_CLEARML_COOKIE) : '';
  const required = opts.enabled || clearmlTokens !== undefined;
  // Secrets are compared as HMACs under a per-process key: equal lengths for timingSafeEqual,
  // and the plain secrets are not kept beyond this point.
  const compareKey = randomBytes(32);
  const digest = (s: string): Buffer => createHmac('sha256', compareKey).update(s, 'utf8').digest();
  const keys = new Map<string, { secretDigest: Buffer; tenant: string }>();
  for (const k of opts.keys) {
    if (!k.accessKey || !k.secretKey || !k.tenant) throw new Error('auth: every key needs accessKey, secretKey and tenant');
    if (keys.has(k.accessKey)) throw new Error(`auth: duplicate access key ${k.accessKey}`);
    keys.set(k.accessKey, { secretDigest: digest(k.secretKey), tenant: k.tenant });
  }
  const dummyDigest = digest(randomBytes(16).toString('hex'));

  function checkBasic(encoded: string): Identity {
    if (!BASE64.test(encoded)) throw badCredentials();
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw badCredentials();
    const accessKey = decoded.slice(0, colon);
    const given = digest(decoded.slice(colon + 1));
    const known = keys.get(accessKey);
    // Same work whether or not the key exists.
    const match = timingSafeEqual(given, known ? known.secretDigest : dummyDigest);
    if (!known || !match) throw unknownCredentials();
    return { tenant: known.tenant, accessKey };
  }

  const refusal = (e: SignedTokenError) => (e.reason === 'malformed' ? badCredentials() : unknownCredentials(e.message));

  function ourClaims(claims: SignedClaims): TokenClaims {
    if (typeof claims.tenant !== 'string' || claims.tenant === '') throw unknownCredentials('token without tenant');
    return claims as unknown as TokenClaims;
  }

  function ourIdentity(claims: TokenClaims): Identity {
    const user = claims.identity?.user;
    return typeof user === 'string' && user !== '' ? { tenant: claims.tenant, accessKey: user } : { tenant: claims.tenant };
  }

  /** A ClearML token's caller: tenant `identity.company`, access key `identity.user`. */
  function clearmlIdentity(claims: SignedClaims): Identity {
    const identity = claims.identity;
    if (typeof identity !== 'object' || identity === null || Array.isArray(identity)) throw unknownCredentials('token without identity');
    const { company, user } = identity as Record<string, unknown>;
    if (typeof company !== 'string' || company === '') throw unknownCredentials('token without company');
    return typeof user === 'string' && user !== '' ? { tenant: company, accessKey: user } : { tenant: company };
  }

  async function verifyToken(token: string): Promise<TokenClaims> {
    try {
      return ourClaims(await tokens.verify(token));
    } catch (e) {
      throw e instanceof SignedTokenError ? refusal(e) : e;
    }
  }

  type Reader = (token: string) => Promise<Identity>;
  const readOurs: Reader = async (token) => ourIdentity(ourClaims(await tokens.verify(token)));

  /**
   * A Bearer token's caller: ours or (with a ClearML secret) ClearML's. Each is fully verified
   * with its own key; the unverified claims only choose which key is tried first (ours carry
   * `tenant`), so that a remembered token costs one lookup. A token malformed, or expired under
   * the key that signed it, is decided at once; a signature that neither key made is 401/22.
   */
  async function bearer(token: string): Promise<Identity> {
    if (!clearmlTokens) return verifyToken(token).then(ourIdentity);
    const readClearml: Reader = async (t) => clearmlIdentity(await clearmlTokens.verify(t));
    const peek = token.length <= MAX_TOKEN_LENGTH ? unverifiedClaims(token) : undefined;
    const order = peek !== undefined && 'tenant' in peek ? [readOurs, readClearml] : [readClearml, readOurs];
    let first: SignedTokenError | undefined;
    for (const read of order) {
      try {
        return await read(token);
      } catch (e) {
        if (!(e instanceof SignedTokenError)) throw e;
        if (e.reason !== 'invalid') throw refusal(e);
        first ??= e;
      }
    }
    throw refusal(first as SignedTokenError);
  }

  /** The token in the ClearML session cookie, if `cookie` (a Cookie header) has one. */
  function cookieToken(cookie: string | undefined): string | undefined {
    if (cookieName === '' || cookie === undefined) return undefined;
    for (const part of cookie.split(';')) {
      const eq = part.indexOf('=');
      if (eq < 0 || part.slice(0, eq).trim() !== cookieName) continue;
      let value = part.slice(eq + 1).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      return value === '' ? undefined : value;
    }
    return undefined;
  }

  async function authenticate(req: { readonly headers: IncomingHttpHeaders }): Promise<Identity> {
    if (!required) return { tenant: DEFAULT_TENANT };
    const value = req.headers.authorization;
    if (value === undefined || value.trim() === '') {
      // As the ClearML server: the header, if any, wins over the cookie.
      const fromCookie = cookieToken(req.headers.cookie);
      if (fromCookie !== undefined) return bearer(fromCookie);
      throw noCredentials();
    }
    const trimmed = value.trim();
    const space = trimmed.indexOf(' ');
    if (space < 0) throw badCredentials();
    const scheme = trimmed.slice(0, space).toLowerCase();
    const rest = trimmed.slice(space + 1).trim();
    if (scheme === 'basic') return checkBasic(rest);
    if (scheme === 'bearer') return bearer(rest);
    throw badCredentials();
  }

  function issueToken(identity: Identity, ttlSec?: number): Promise<string> {
    const ttl = ttlSec !== undefined && ttlSec > 0 ? Math.min(ttlSec, opts.tokenTtlSec) : opts.tokenTtlSec;
    const claims: Omit<TokenClaims, 'iat' | 'exp'> = {
      tenant: identity.tenant,
      identity: { company: identity.tenant, user: identity.accessKey ?? identity.tenant },
      api_version: opts.apiVersion,
      server_version: opts.serverVersion,
      feature_set: 'basic',
      auth_type: 'Bearer',
    };
    return tokens.sign(claims, ttl);
  }

  return { enabled: required, authenticate, issueToken, verifyToken };
}

/**
 * `auth.login` (version 1.0, so any requested version runs it): a token for the authenticated
 * caller. With auth off (and no ClearML secret), a token for `default` whatever credentials were sent. An optional
 * `expiration_sec` shortens the token's life (never lengthens it past `tokenTtlSec`).
 */
export function loginEndpoint(auth: Auth): ObjectEndpoint<{ expiration_sec?: number }> {
  return objectEndpoint<{ expiration_sec?: number }>({
    name: 'auth.login',
    versions: [
      {
        version: '1.0',
        schema: { type: 'object', properties: { expiration_sec: { type: 'integer', minimum: 1 } } },
        handle: async (ctx, body) => ({ token: await auth.issueToken(ctx.identity, body.expiration_sec) }),
      },
    ],
  });
}

/**
 * Access keys from parsed JSON: `[{"access_key", "secret_key", "tenant"}]`. Throws naming the
 * bad entry's index (never its secret).
 */
export function parseKeys(json: unknown): AccessKey[] {
  if (!Array.isArray(json)) throw new Error('access keys: expected a JSON array of {access_key, secret_key, tenant}');
  return json.map((entry: unknown, i) => {
    const e = (entry ?? {}) as Record<string, unknown>;
    const { access_key: accessKey, secret_key: secretKey, tenant } = e;
    if (typeof accessKey !== 'string' || accessKey === '' || typeof secretKey !== 'string' || secretKey === '' || typeof tenant !== 'string' || tenant === '') {
      throw new Error(`access keys: entry ${i} needs non-empty string access_key, secret_key and tenant`);
    }
    return { accessKey, secretKey, tenant };
  });
}

/** Reads a keys file: a JSON array of `{"access_key", "secret_key", "tenant"}`. */
export async function loadKeysFile(path: string): Promise<AccessKey[]> {
  const text = await readFile(path, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`access keys: ${path} is not valid JSON`);
  }
  return parseKeys(json);
}
