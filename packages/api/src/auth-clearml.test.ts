/**
 * ClearML's own tokens (CLEARML_TOKEN_SECRET): made here as the ClearML server makes them
 * (PyJWT's HS256 over `{identity, iat, exp, ...}`), with node:crypto's HMAC rather than the code
 * under test, accepted with `identity.company` as the tenant, and every forgery refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign as rsaSign } from 'node:crypto';
import { authFromConfig, type AuthConfig } from './auth-config';
import { createAuth, type AuthOptions } from './auth';
import { ApiError } from './errors';
import { basic } from './test-support';

const CLEARML_SECRET = 'Rq8FW84sSqVgq7WvBB_4EzNl9y8z8IGiDXX3C345_a5AZfcwZcwCIA';
const NOW = 1_700_000_000;

const base: AuthOptions = {
  enabled: true,
  keys: [{ accessKey: 'AK1', secretKey: 'secret-one', tenant: 't1' }],
  tokenSecret: 'a-token-secret-of-some-length',
  tokenTtlSec: 3600,
  serverVersion: '1.16.0',
  apiVersion: '2.23',
  clearmlTokenSecret: CLEARML_SECRET,
};

const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const hmac = (alg: 'sha256' | 'sha384' | 'sha512', secret: string, input: string): string => createHmac(alg, secret).update(input).digest('base64url');

/** The payload ClearML's auth.login signs (AuthBLL.get_token_for_user). */
function clearmlPayload(company: string, more: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    identity: { user: `user-of-${company}`, company, role: 'user', user_name: 'Jane', company_name: 'Acme' },
    session_id: '0123456789abcdef0123456789abcdef',
    env: 'production',
    iat: NOW - 60,
    exp: NOW + 30 * 24 * 3600,
    api_version: '2.31',
    server_version: '2.0.0',
    server_build: '123',
    feature_set: 'basic',
    ...more,
  };
}

/** A JWT as PyJWT encodes it: header and payload in compact JSON, base64url without padding. */
function jwt(payload: unknown, opts: { secret?: string; alg?: 'HS256' | 'HS384' | 'HS512' } = {}): string {
  const alg = opts.alg ?? 'HS256';
  const input = `${b64({ alg, typ: 'JWT' })}.${b64(payload)}`;
  const digest = ({ HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' } as const)[alg];
  return `${input}.${hmac(digest, opts.secret ?? CLEARML_SECRET, input)}`;
}

const code = (subcode: number) => (e: unknown) => e instanceof ApiError && e.status === 401 && e.subcode === subcode;
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

function clock(): { now: () => number; set(sec: number): void } {
  let ms = NOW * 1000;
  return { now: () => ms, set: (sec) => (ms = sec * 1000) };
}

test('a ClearML token is accepted: the tenant is identity.company, the access key identity.user', async () => {
  const auth = createAuth({ ...base, now: clock().now });
  assert.equal(auth.enabled, true);
  assert.deepEqual(await auth.authenticate(bearer(jwt(clearmlPayload('company-a')))), { tenant: 'company-a', accessKey: 'user-of-company-a' });
  assert.deepEqual(await auth.authenticate(bearer(jwt(clearmlPayload('company-b')))), { tenant: 'company-b', accessKey: 'user-of-company-b' });
  // Twice (the second from the cache of verified tokens).
  const token = jwt(clearmlPayload('company-a'));
  for (let i = 0; i < 2; i++) assert.equal((await auth.authenticate(bearer(token))).tenant, 'company-a');
  // A `tenant` claim in a ClearML token is not ours: the company decides.
  assert.equal((await auth.authenticate(bearer(jwt(clearmlPayload('company-a', { tenant: 'company-b' }))))).tenant, 'company-a');
  // No user: the tenant alone.
  const noUser = clearmlPayload('company-c', { identity: { company: 'company-c', role: 'user' } });
  assert.deepEqual(await auth.authenticate(bearer(jwt(noUser))), { tenant: 'company-c' });
  // The header as the SDK writes it, and in other cases of the scheme.
  assert.equal((await auth.authenticate({ headers: { authorization: `bearer   ${token}  ` } })).tenant, 'company-a');
});

test('beside ClearML tokens, our keys and auth.login tokens keep working', async () => {
  const auth = createAuth({ ...base, now: clock().now });
  assert.deepEqual(await auth.authenticate({ headers: { authorization: basic('AK1', 'secret-one') } }), { tenant: 't1', accessKey: 'AK1' });
  const ours = await auth.issueToken({ tenant: 't1', accessKey: 'AK1' });
  for (let i = 0; i < 2; i++) assert.deepEqual(await auth.authenticate(bearer(ours)), { tenant: 't1', accessKey: 'AK1' });
  // A ClearML-shaped token signed with our key is not a ClearML token, nor one of ours (no tenant).
  await assert.rejects(auth.authenticate(bearer(jwt(clearmlPayload('company-a'), { secret: base.tokenSecret }))), code(22));
  // One of ours signed with ClearML's key is a ClearML token without a company.
  await assert.rejects(auth.authenticate(bearer(jwt({ tenant: 't1', iat: NOW, exp: NOW + 60 }))), code(22));
});

test('every forged or broken ClearML token is refused: 401/21 undecodable, 401/22 invalid', async () => {
  const auth = createAuth({ ...base, now: clock().now });
  const good = jwt(clearmlPayload('company-a'));
  const [h, p, s] = good.split('.') as [string, string, string];
  const forgedPayload = b64(clearmlPayload('company-b'));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsInput = `${b64({ alg: 'RS256', typ: 'JWT' })}.${p}`;
  const rs256 = `${rsInput}.${rsaSign('sha256', Buffer.from(rsInput), privateKey).toString('base64url')}`;
  const noneHeader = b64({ alg: 'none', typ: 'JWT' });
  const reserialised = b64(JSON.stringify(clearmlPayload('company-a'), null, 2));
  const inBase64 = Buffer.from(JSON.stringify(clearmlPayload('company-a'))).toString('base64');
  assert.ok(/[+/=]/.test(inBase64), 'base64 and base64url spell this payload differently');
  const cases: Array<[string, string, number]> = [
    ['another company, signature kept', `${h}.${forgedPayload}.${s}`, 22],
    ['wrong secret', jwt(clearmlPayload('company-a'), { secret: 'not-the-clearml-secret' }), 22],
    ['expired', jwt(clearmlPayload('company-a', { iat: NOW - 3600, exp: NOW - 1 })), 22],
    ['expiring now', jwt(clearmlPayload('company-a', { exp: NOW })), 22],
    ['no exp (ClearML system-role style)', jwt(clearmlPayload('company-a', { exp: undefined })), 22],
    ['exp not a number', jwt(clearmlPayload('company-a', { exp: String(NOW + 60) })), 22],
    ['no iat', jwt(clearmlPayload('company-a', { iat: undefined })), 22],
    ['not yet valid (nbf)', jwt(clearmlPayload('company-a', { nbf: NOW + 60 })), 22],
    ['alg none, unsigned', `${noneHeader}.${p}.`, 21],
    ['alg none, old signature', `${noneHeader}.${p}.${s}`, 22],
    ['HS384 with the secret', jwt(clearmlPayload('company-a'), { alg: 'HS384' }), 22],
    ['HS512 with the secret', jwt(clearmlPayload('company-a'), { alg: 'HS512' }), 22],
    ['HS256 signature under an HS512 header', `${b64({ alg: 'HS512', typ: 'JWT' })}.${p}.${s}`, 22],
    ['RS256', rs256, 22],
    ['signature truncated', `${h}.${p}.${s.slice(0, -1)}`, 22],
    ['signature dropped', `${h}.${p}`, 21],
    ['signature empty', `${h}.${p}.`, 21],
    ['cut in the payload', good.slice(0, h.length + 1 + 10), 21],
    ['payload truncated, signature kept', `${h}.${p.slice(0, -4)}.${s}`, 21],
    ['payload re-serialised', `${h}.${reserialised}.${s}`, 22],
    ['header re-serialised', `${b64('{"alg": "HS256", "typ": "JWT"}')}.${p}.${s}`, 22],
    ['header in padded base64', `${Buffer.from('{"alg":"HS256","typ":"JWT" }').toString('base64')}.${p}.${s}`, 21],
    ['payload in base64', `${h}.${inBase64}.${s}`, 21],
    ['signature padded', `${h}.${p}.${s}=`, 21],
    ['signature in base64', `${h}.${p}.${Buffer.from(s, 'base64url').toString('base64')}`, 21],
    ['signature with spare bits set', `${h}.${p}.${s.slice(0, -1)}${String.fromCharCode(s.charCodeAt(42) + 1)}`, 22],
    ['no identity', jwt(clearmlPayload('company-a', { identity: undefined })), 22],
    ['identity not an object', jwt(clearmlPayload('company-a', { identity: 'company-a' })), 22],
    ['empty company', jwt(clearmlPayload('')), 22],
    ['company not a string', jwt(clearmlPayload('company-a', { identity: { user: 'u', company: 7, role: 'user' } })), 22],
    ['payload not JSON', `${h}.${b64('not json')}.${hmac('sha256', CLEARML_SECRET, `${h}.${b64('not json')}`)}`, 21],
    ['over the length limit', jwt(clearmlPayload('company-a', { pad: 'x'.repeat(9000) })), 21],
  ];
  assert.equal(s.length, 43);
  for (const [what, token, subcode] of cases) await assert.rejects(auth.authenticate(bearer(token)), code(subcode), what);
  // The good one is still good: the refusals were for the forgeries.
  assert.equal((await auth.authenticate(bearer(good))).tenant, 'company-a');
});

test('a remembered ClearML token is refused from its exp on', async () => {
  const c = clock();
  const auth = createAuth({ ...base, now: c.now });
  const token = jwt(clearmlPayload('company-a', { exp: NOW + 100 }));
  assert.equal((await auth.authenticate(bearer(token))).tenant, 'company-a');
  c.set(NOW + 99);
  assert.equal((await auth.authenticate(bearer(token))).tenant, 'company-a');
  c.set(NOW + 100);
  await assert.rejects(auth.authenticate(bearer(token)), code(22));
});

test('the web UI session cookie carries a token when there is no Authorization header', async () => {
  const auth = createAuth({ ...base, now: clock().now });
  const token = jwt(clearmlPayload('company-a'));
  const cookie = (value: string, authorization?: string) => ({ headers: { cookie: value, ...(authorization === undefined ? {} : { authorization }) } });
  assert.deepEqual(await auth.authenticate(cookie(`clearml_token_basic=${token}`)), { tenant: 'company-a', accessKey: 'user-of-company-a' });
  assert.equal((await auth.authenticate(cookie(`_ga=GA1.1; clearml_token_basic="${token}"; other=1`))).tenant, 'company-a');
  // Blank header: the cookie.
  assert.equal((await auth.authenticate(cookie(`clearml_token_basic=${token}`, '  '))).tenant, 'company-a');
  // Our tokens too, as ClearML takes any token from it.
  assert.equal((await auth.authenticate(cookie(`clearml_token_basic=${await auth.issueToken({ tenant: 't1' })}`))).tenant, 't1');
  // The header wins, good or bad.
  assert.equal((await auth.authenticate(cookie('clearml_token_basic=garbage', basic('AK1', 'secret-one')))).tenant, 't1');
  await assert.rejects(auth.authenticate(cookie(`clearml_token_basic=${token}`, basic('AK1', 'wrong'))), code(22));
  // Refused in the cookie as in the header.
  const [h, , s] = token.split('.') as [string, string, string];
  await assert.rejects(auth.authenticate(cookie(`clearml_token_basic=${h}.${b64(clearmlPayload('company-b'))}.${s}`)), code(22));
  await assert.rejects(auth.authenticate(cookie('clearml_token_basic=garbage')), code(21));
  // No such cookie, or an empty one: no credentials.
  for (const c of ['other=1', 'clearml_token_basic=', 'xclearml_token_basic=abc', '']) await assert.rejects(auth.authenticate(cookie(c)), code(20), c);

  // Another name, or none at all.
  const renamed = createAuth({ ...base, now: clock().now, clearmlCookie: 'my_cookie' });
  assert.equal((await renamed.authenticate(cookie(`my_cookie=${token}`))).tenant, 'company-a');
  await assert.rejects(renamed.authenticate(cookie(`clearml_token_basic=${token}`)), code(20));
  const none = createAuth({ ...base, now: clock().now, clearmlCookie: '' });
  await assert.rejects(none.authenticate(cookie(`clearml_token_basic=${token}`)), code(20));
  // Without a ClearML secret the cookie is not read, and ClearML tokens are not ours.
  const plain = createAuth({ ...base, now: clock().now, clearmlTokenSecret: '' });
  await assert.rejects(plain.authenticate(cookie(`clearml_token_basic=${await plain.issueToken({ tenant: 't1' })}`)), code(20));
  await assert.rejects(plain.authenticate(bearer(token)), code(22));
});

test('with auth off, a ClearML secret still requires credentials: tokens only', async () => {
  const auth = createAuth({ ...base, enabled: false, keys: [], tokenSecret: '', now: clock().now });
  assert.equal(auth.enabled, true);
  assert.equal((await auth.authenticate(bearer(jwt(clearmlPayload('company-a'))))).tenant, 'company-a');
  const cases: Array<[Record<string, string>, number]> = [
    [{}, 20],
    [{ authorization: basic('placeholder', 'keys') }, 22],
    [{ authorization: 'Bearer garbage' }, 21],
    [{ authorization: `Bearer ${jwt(clearmlPayload('company-a'), { secret: 'wrong-secret' })}` }, 22],
    [{ authorization: 'Weird thing' }, 21],
  ];
  for (const [headers, subcode] of cases) await assert.rejects(auth.authenticate({ headers }), code(subcode), JSON.stringify(headers));
  // auth.login's tokens (for the caller's tenant) work on this process.
  const ours = await auth.issueToken({ tenant: 'company-a', accessKey: 'user-of-company-a' });
  assert.deepEqual(await auth.authenticate(bearer(ours)), { tenant: 'company-a', accessKey: 'user-of-company-a' });
  // Without the ClearML secret, auth off is still tenant default whatever is sent.
  const off = createAuth({ ...base, enabled: false, keys: [], tokenSecret: '', clearmlTokenSecret: '' });
  assert.equal(off.enabled, false);
  assert.deepEqual(await off.authenticate(bearer(jwt(clearmlPayload('company-a')))), { tenant: 'default' });
});

test('configuration: CLEARML_TOKEN_SECRET reaches every service through authFromConfig; equal secrets refused', async () => {
  const config: AuthConfig = {
    authEnabled: false,
    authKeysFile: '',
    authTokenSecret: '',
    authTokenTtlSec: 3600,
    clearmlTokenSecret: CLEARML_SECRET,
    clearmlAuthCookie: 'clearml_token_basic',
  };
  const auth = await authFromConfig(config);
  assert.equal(auth.enabled, true);
  const live = jwt(clearmlPayload('company-a', { iat: Math.floor(Date.now() / 1000) - 5, exp: Math.floor(Date.now() / 1000) + 3600 }));
  assert.equal((await auth.authenticate(bearer(live))).tenant, 'company-a');
  assert.equal((await auth.authenticate({ headers: { cookie: `clearml_token_basic=${live}` } })).tenant, 'company-a');
  await assert.rejects(auth.authenticate({ headers: {} }), code(20));
  assert.equal((await authFromConfig({ ...config, clearmlTokenSecret: '' })).enabled, false);

  await assert.rejects(authFromConfig({ ...config, authTokenSecret: CLEARML_SECRET }), /must differ/);
  assert.throws(() => createAuth({ ...base, tokenSecret: CLEARML_SECRET }), /must differ/);
});
