import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { createAuth, loadKeysFile, parseKeys, type AuthOptions } from './auth';
import { ApiError } from './errors';
import { basic, decodeJwtPayload } from './test-support';
import { compareVersions } from './version';

const base: AuthOptions = {
  enabled: true,
  keys: [
    { accessKey: 'AK1', secretKey: 'secret-one', tenant: 't1' },
    { accessKey: 'AK2', secretKey: 'secret-two', tenant: 't2' },
  ],
  tokenSecret: 'a-token-secret-of-some-length',
  tokenTtlSec: 3600,
  serverVersion: '1.16.0',
  apiVersion: '2.23',
};

const code = (subcode: number) => (e: unknown) => e instanceof ApiError && e.status === 401 && e.subcode === subcode;
const headers = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization } });

test('Basic credentials: codes 20/21/22 and the tenant', async () => {
  const auth = createAuth(base);
  assert.deepEqual(await auth.authenticate(headers(basic('AK1', 'secret-one'))), { tenant: 't1', accessKey: 'AK1' });
  assert.deepEqual(await auth.authenticate(headers(basic('AK2', 'secret-two'))), { tenant: 't2', accessKey: 'AK2' });
  assert.deepEqual(await auth.authenticate(headers(`basic ${Buffer.from('AK1:secret-one').toString('base64')}`)), { tenant: 't1', accessKey: 'AK1' });
  // A secret may contain ':'.
  const colon = createAuth({ ...base, keys: [{ accessKey: 'K', secretKey: 'a:b', tenant: 't' }] });
  assert.deepEqual(await colon.authenticate(headers(basic('K', 'a:b'))), { tenant: 't', accessKey: 'K' });

  const cases: Array<[string | undefined, number]> = [
    [undefined, 20],
    ['', 20],
    ['Basic', 21],
    ['Basic !!!not-base64!!!', 21],
    [`Basic ${Buffer.from('no-colon').toString('base64')}`, 21],
    [`Basic ${Buffer.from(':secret-one').toString('base64')}`, 21],
    ['Digest abc', 21],
    [basic('AK1', 'wrong'), 22],
    [basic('AK1', 'secret-two'), 22],
    [basic('AK3', 'secret-one'), 22],
    [basic('AK1', ''), 22],
  ];
  for (const [header, subcode] of cases) await assert.rejects(auth.authenticate(headers(header)), code(subcode), String(header));
});

test('tokens: claims, signature, expiry', async () => {
  let now = 1_700_000_000_000;
  const auth = createAuth({ ...base, now: () => now });
  const token = await auth.issueToken({ tenant: 't1', accessKey: 'AK1' });
  const claims = decodeJwtPayload(token);
  assert.equal(claims.tenant, 't1');
  assert.deepEqual(claims.identity, { company: 't1', user: 'AK1' });
  assert.equal(claims.api_version, '2.23');
  assert.ok(compareVersions(String(claims.api_version), '2.9') >= 0);
  assert.equal(claims.server_version, '1.16.0');
  assert.equal(claims.feature_set, 'basic');
  assert.equal(claims.iat, 1_700_000_000);
  assert.equal(claims.exp, 1_700_000_000 + 3600);
  assert.deepEqual(JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()), { alg: 'HS256', typ: 'JWT' });

  assert.deepEqual(await auth.authenticate(headers(`Bearer ${token}`)), { tenant: 't1', accessKey: 'AK1' });
  assert.equal((await auth.verifyToken(token)).tenant, 't1');

  // A shorter life on request, never a longer one.
  assert.equal(decodeJwtPayload(await auth.issueToken({ tenant: 't1' }, 60)).exp, 1_700_000_000 + 60);
  assert.equal(decodeJwtPayload(await auth.issueToken({ tenant: 't1' }, 999_999)).exp, 1_700_000_000 + 3600);

  const [h, p, s] = token.split('.') as [string, string, string];
  const forged = Buffer.from(JSON.stringify({ ...claims, tenant: 't2' })).toString('base64url');
  const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
  const other = await createAuth({ ...base, tokenSecret: 'another-token-secret-entirely' }).issueToken({ tenant: 't1' });
  const cases: Array<[string, number]> = [
    [`Bearer ${h}.${forged}.${s}`, 22],
    [`Bearer ${h}.${p}.${s.slice(0, -2)}`, 22],
    [`Bearer ${none}.${p}.`, 21],
    [`Bearer ${none}.${p}.${s}`, 22],
    [`Bearer ${other}`, 22],
    ['Bearer abc', 21],
    ['Bearer a.b.c', 21],
    [`Bearer ${h}.${p}`, 21],
    ['Bearer', 21],
  ];
  for (const [header, subcode] of cases) await assert.rejects(auth.authenticate(headers(header)), code(subcode), header);

  now += 3600 * 1000;
  await assert.rejects(auth.authenticate(headers(`Bearer ${token}`)), code(22), 'expired');
});

test('Bearer tokens: what the SDK reads unverified, and every forgery refused with its code', async () => {
  let now = 1_700_000_000_000;
  const auth = createAuth({ ...base, now: () => now });
  const token = await auth.issueToken({ tenant: 't1', accessKey: 'AK1' });
  // The SDK splits the token and base64-decodes the payload (padding it) to read api_version.
  const payload = token.split('.')[1] ?? '';
  const padded = payload.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (payload.length % 4)) % 4);
  const read = JSON.parse(Buffer.from(padded, 'base64').toString('utf8')) as Record<string, unknown>;
  assert.deepEqual(Object.keys(read), ['tenant', 'identity', 'api_version', 'server_version', 'feature_set', 'auth_type', 'iat', 'exp']);
  assert.equal(read.api_version, '2.23');
  assert.equal(read.auth_type, 'Bearer');
  assert.deepEqual(await auth.authenticate(headers(`Bearer ${token}`)), { tenant: 't1', accessKey: 'AK1' });

  const [h, p, s] = token.split('.') as [string, string, string];
  const claims = { ...read, tenant: 't2' };
  const secret = Buffer.from(base.tokenSecret);
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const header = (alg: string): string => Buffer.from(JSON.stringify({ alg, typ: 'JWT' })).toString('base64url');
  const reserialised = Buffer.from(JSON.stringify(read, null, 2)).toString('base64url');
  const cases: Array<[string, string, number]> = [
    ['alg none, unsigned', `${header('none')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`, 21],
    ['alg none, old signature', `${header('none')}.${p}.${s}`, 22],
    ['HS512 with the same secret', await new SignJWT(claims).setProtectedHeader({ alg: 'HS512', typ: 'JWT' }).sign(secret), 22],
    ['RS256', await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT' }).sign(privateKey), 22],
    ['wrong key', await createAuth({ ...base, tokenSecret: 'yet-another-token-secret' }).issueToken({ tenant: 't2' }), 22],
    ['signature truncated', `${h}.${p}.${s.slice(0, -1)}`, 22],
    ['signature dropped', `${h}.${p}`, 21],
    ['payload re-serialised', `${h}.${reserialised}.${s}`, 22],
    ['signature padded', `${h}.${p}.${s}=`, 21],
    ['signature in base64', `${h}.${p}.${Buffer.from(s, 'base64url').toString('base64')}`, 21],
    // The same 32 bytes: the last of 43 characters has 2 spare bits.
    ['signature with spare bits set', `${h}.${p}.${s.slice(0, -1)}${String.fromCharCode(s.charCodeAt(42) + 1)}`, 22],
  ];
  for (const [what, bad, subcode] of cases) await assert.rejects(auth.authenticate(headers(`Bearer ${bad}`)), code(subcode), what);

  // Expired: refused from exp on, though it was verified (and remembered) before.
  now += 3600 * 1000 - 1000;
  assert.equal((await auth.verifyToken(token)).tenant, 't1');
  now += 1000;
  await assert.rejects(auth.verifyToken(token), code(22), 'expired');
  await assert.rejects(auth.authenticate(headers(`Bearer ${token}`)), code(22), 'expired');
});

test('auth off: every request is tenant default', async () => {
  const auth = createAuth({ ...base, enabled: false, keys: [], tokenSecret: '' });
  for (const header of [undefined, basic('x', 'y'), 'Bearer garbage', 'Weird thing']) {
    assert.deepEqual(await auth.authenticate(headers(header)), { tenant: 'default' });
  }
  const token = await auth.issueToken({ tenant: 'default' });
  assert.equal((await auth.verifyToken(token)).tenant, 'default');
  assert.equal(decodeJwtPayload(token).feature_set, 'basic');
});

test('createAuth refuses unsafe configuration', () => {
  const cases: Array<Partial<AuthOptions>> = [
    { apiVersion: '2.8' },
    { apiVersion: '2.1' },
    { apiVersion: 'latest' },
    { tokenSecret: 'short' },
    { keys: [] },
    { tokenTtlSec: 0 },
    { keys: [base.keys[0]!, base.keys[0]!] },
    { keys: [{ accessKey: 'a', secretKey: '', tenant: 't' }] },
  ];
  for (const c of cases) assert.throws(() => createAuth({ ...base, ...c }), Error, JSON.stringify(c));
  assert.doesNotThrow(() => createAuth({ ...base, apiVersion: '2.9' }));
  assert.doesNotThrow(() => createAuth({ ...base, apiVersion: '2.10' }));
});

test('keys file: parse and load, errors never show secrets', async () => {
  assert.deepEqual(parseKeys([{ access_key: 'a', secret_key: 's', tenant: 't' }]), [{ accessKey: 'a', secretKey: 's', tenant: 't' }]);
  for (const bad of [{}, [{ access_key: 'a', secret_key: 'TOPSECRET' }], [null], [{ access_key: 1, secret_key: 's', tenant: 't' }]]) {
    assert.throws(
      () => parseKeys(bad),
      (e: unknown) => e instanceof Error && !e.message.includes('TOPSECRET'),
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'api-keys-'));
  try {
    const file = join(dir, 'keys.json');
    await writeFile(file, JSON.stringify([{ access_key: 'AK', secret_key: 'SK', tenant: 'acme' }]));
    assert.deepEqual(await loadKeysFile(file), [{ accessKey: 'AK', secretKey: 'SK', tenant: 'acme' }]);
    await writeFile(file, 'not json');
    await assert.rejects(loadKeysFile(file), /not valid JSON/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
