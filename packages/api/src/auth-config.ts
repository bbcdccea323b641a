import { field, type ConfigOf } from '@trackstream/config';
import { createAuth, DEFAULT_TOKEN_API_VERSION, loadKeysFile, type Auth } from './auth';

/** Auth settings shared by every API service. */
export const authConfigSpec = {
  authEnabled: field({ env: 'AUTH_ENABLED', type: 'boolean', default: false, description: 'Require credentials (access key / secret, or a token from auth.login)' }),
  authKeysFile: field({ env: 'AUTH_KEYS_FILE', type: 'string', default: '', description: 'JSON file of [{"access_key","secret_key","tenant"}] (auth on)' }),
  authTokenSecret: field({ env: 'AUTH_TOKEN_SECRET', type: 'string', default: '', description: 'HS256 key of auth.login tokens; the same on every service (required with auth on)' }),
  authTokenTtlSec: field({ env: 'AUTH_TOKEN_TTL_SEC', type: 'integer', default: 30 * 24 * 3600, minimum: 60, description: 'Lifetime of auth.login tokens' }),
  clearmlTokenSecret: field({
    env: 'CLEARML_TOKEN_SECRET',
    type: 'string',
    default: '',
    description: "The ClearML server's secure.auth.token_secret: its auth.login tokens are accepted too (tenant: the token's identity.company), and credentials are required even with AUTH_ENABLED=false",
  }),
  clearmlAuthCookie: field({
    env: 'CLEARML_AUTH_COOKIE',
    type: 'string',
    default: 'clearml_token_basic',
    description: "Cookie the ClearML web UI sends its token in (the ClearML server's auth.session_auth_cookie_name), read when a request has no Authorization header and CLEARML_TOKEN_SECRET is set; empty: never read",
  }),
} as const;

export type AuthConfig = ConfigOf<typeof authConfigSpec>;

/** The server version announced in tokens (the SDK reads it). */
export const SERVER_VERSION = '1.16.0';

export async function authFromConfig(c: AuthConfig): Promise<Auth> {
  if (c.authEnabled && c.authTokenSecret === '') throw new Error('AUTH_TOKEN_SECRET is required when AUTH_ENABLED=true');
  if (c.authEnabled && c.authKeysFile === '') throw new Error('AUTH_KEYS_FILE is required when AUTH_ENABLED=true');
  if (c.clearmlTokenSecret !== '' && c.clearmlTokenSecret === c.authTokenSecret) throw new Error('CLEARML_TOKEN_SECRET must differ from AUTH_TOKEN_SECRET');
  return createAuth({
    enabled: c.authEnabled,
    keys: c.authEnabled ? await loadKeysFile(c.authKeysFile) : [],
    tokenSecret: c.authTokenSecret,
    tokenTtlSec: c.authTokenTtlSec,
    serverVersion: SERVER_VERSION,
    apiVersion: DEFAULT_TOKEN_API_VERSION,
    clearmlTokenSecret: c.clearmlTokenSecret,
    clearmlCookie: c.clearmlAuthCookie,
  });
}
