import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import { createSignedTokens, SignedTokenError, type SignedTokenFailure, type SignedTokenOptions } from './signed-token';

const SECRET = 'a-signing-secret-of-some-length';
const T0 = 1_700_000_000_000;
const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const segments = (token: string): [string, string, string] => token.split('.') as [string, string, string];
const refused = (reason: SignedTokenFailure) => (e: unknown) => e instanceof SignedTokenError && e.reason === reason;

function tokens(more: Partial<SignedTokenOptions> = {}) {
  let now = T0;
  const t = createSignedTokens({ secret: SECRET, maxLength: 64 * 1024, now: () => now, ...more });
  return { ...t, advance: (ms: number) => (now += ms) };
}

/** A token whose signature has a `-` or `_`, so that its base64 (`+`, `/`) spelling differs. */
async function tokenWithUrlOnlyChars(t: ReturnType<typeof tokens>): Promise<string> {
  for (let i = 0; ; i++) {
    const token = await t.sign({ n: i }, 60);
    if (/[-_]/.test(segments(token)[2])) return token;
  }
}

test('sign and verify: the claims, iat and exp, a standard HS256 JWT', async () => {
  const t = tokens();
  const token = await t.sign({ tenant: 't1', nested: { a: [1, 2] } }, 3600);
  const [h, p] = segments(token);
  assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url').toString()), { alg: 'HS256', typ: 'JWT' });
  // Readable without the key, as the ClearML SDK reads auth tokens.
  assert.deepEqual(JSON.parse(Buffer.from(p, 'base64url').toString()), { tenant: 't1', nested: { a: [1, 2] }, iat: T0 / 1000, exp: T0 / 1000 + 3600 });
  assert.deepEqual(await t.verify(token), { tenant: 't1', nested: { a: [1, 2] }, iat: T0 / 1000, exp: T0 / 1000 + 3600 });
  // Any holder of the same secret verifies it (another replica).
  assert.equal((await tokens().verify(token)).tenant, 't1');
});

test('alg none is refused, with or without a signature', async () => {
  const t = tokens();
  const [, p, s] = segments(await t.sign({ tenant: 't1' }, 60));
  const none = b64({ alg: 'none', typ: 'JWT' });
  await assert.rejects(t.verify(`${none}.${p}.`), refused('malformed'));
  await assert.rejects(t.verify(`${none}.${p}.${s}`), refused('invalid'));
  await assert.rejects(t.verify(`${b64({ alg: 'NONE' })}.${p}.${s}`), refused('invalid'));
});

test('every other algorithm is refused, even signed with the same secret', async () => {
  const t = tokens();
  const claims = { tenant: 't1', iat: T0 / 1000, exp: T0 / 1000 + 60 };
  const secret = Buffer.from(SECRET);
  for (const alg of ['HS384', 'HS512']) {
    const token = await new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT' }).sign(secret);
    await assert.rejects(t.verify(token), refused('invalid'), alg);
  }
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rs256 = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT' }).sign(privateKey);
  await assert.rejects(t.verify(rs256), refused('invalid'), 'RS256');
  // An HS256 token relabelled HS512 keeps a valid HS256 signature: still refused.
  const [, p, s] = segments(await t.sign({ tenant: 't1' }, 60));
  await assert.rejects(t.verify(`${b64({ alg: 'HS512', typ: 'JWT' })}.${p}.${s}`), refused('invalid'));
});

test('another key is refused', async () => {
  const token = await tokens({ secret: 'another-secret-entirely' }).sign({ tenant: 't1' }, 60);
  await assert.rejects(tokens().verify(token), refused('invalid'));
  await assert.rejects(tokens({ secret: new Uint8Array(32) }).verify(await tokens().sign({ tenant: 't1' }, 60)), refused('invalid'));
});

test('truncated tokens are refused', async () => {
  const t = tokens();
  const token = await t.sign({ tenant: 't1' }, 60);
  const [h, p, s] = segments(token);
  const cases: Array<[string, SignedTokenFailure]> = [
    [token.slice(0, -1), 'invalid'],
    [`${h}.${p}.${s.slice(0, 22)}`, 'invalid'],
    [`${h}.${p}.`, 'malformed'],
    [`${h}.${p}`, 'malformed'],
    [`${h}.${p.slice(0, -3)}.${s}`, 'malformed'],
    [h, 'malformed'],
    ['', 'malformed'],
  ];
  for (const [bad, reason] of cases) await assert.rejects(t.verify(bad), refused(reason), bad);
});

test('re-encoded tokens are refused: the same claims or signature spelt differently', async () => {
  const t = tokens();
  const token = await tokenWithUrlOnlyChars(t);
  const [h, p, s] = segments(token);
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  const sigBytes = Buffer.from(s, 'base64url');
  // 32 bytes in 43 characters leave 2 spare bits in the last one: set one.
  const spare = s.slice(0, -1) + String.fromCharCode(s.charCodeAt(42) + 1);
  assert.deepEqual(Buffer.from(spare, 'base64url'), sigBytes, 'the spare-bit spelling decodes to the same bytes');
  const cases: Array<[string, string, SignedTokenFailure]> = [
    ['payload re-serialised', `${h}.${b64(JSON.stringify(claims, null, 1))}.${s}`, 'invalid'],
    ['payload keys reordered', `${h}.${b64(Object.fromEntries(Object.entries(claims).reverse()))}.${s}`, 'invalid'],
    ['header re-serialised', `${b64({ typ: 'JWT', alg: 'HS256' })}.${p}.${s}`, 'invalid'],
    ['signature in base64', `${h}.${p}.${sigBytes.toString('base64').replace(/=+$/, '')}`, 'malformed'],
    ['signature padded', `${h}.${p}.${s}=`, 'malformed'],
    ['payload padded', `${h}.${p}=.${s}`, 'malformed'],
    ['signature with spare bits set', `${h}.${p}.${spare}`, 'invalid'],
    ['signature as hex', `${h}.${p}.${sigBytes.toString('hex')}`, 'invalid'],
  ];
  for (const [what, bad, reason] of cases) await assert.rejects(t.verify(bad), refused(reason), what);
  assert.equal(typeof (await t.verify(token)).n, 'number', 'the original still verifies');
});

test('expiry: refused from exp on, with no tolerance, also once remembered', async () => {
  for (const cacheSize of [0, 8]) {
    const t = tokens({ cacheSize });
    const token = await t.sign({ tenant: 't1' }, 60);
    t.advance(59_999);
    assert.equal((await t.verify(token)).tenant, 't1', `cacheSize ${cacheSize}: valid until exp`);
    t.advance(1);
    await assert.rejects(t.verify(token), refused('expired'), `cacheSize ${cacheSize}: expired at exp`);
    await assert.rejects(t.verify(token), refused('expired'), `cacheSize ${cacheSize}: and after`);
  }
  // A token without exp, or with a bad one, signed with the right key: not ours.
  const t = tokens();
  const unusual: Array<Record<string, unknown>> = [{ iat: T0 / 1000 }, { iat: T0 / 1000, exp: 'never' }, { exp: T0 / 1000 + 60 }];
  for (const claims of unusual) {
    const token = await new SignJWT(claims as JWTPayload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(Buffer.from(SECRET));
    await assert.rejects(t.verify(token), refused('invalid'), JSON.stringify(claims));
  }
});

test('not a JWT: malformed; over maxLength: malformed; big payloads work', async () => {
  const t = tokens();
  const [h, , s] = segments(await t.sign({}, 60));
  for (const bad of ['abc', 'a.b.c', '...', '!.!.!', `${h}.${b64('[1,2]')}.${s}`, `${b64('[]')}.${b64({})}.${s}`, `${h}.${b64('not json')}.${s}`]) {
    await assert.rejects(t.verify(bad), refused('malformed'), bad);
  }
  const big = { names: Array.from({ length: 100 }, (_, i) => `${'n'.repeat(256)}-${i}`), rows: 'x'.repeat(200_000) };
  const roomy = tokens({ maxLength: 1024 * 1024 });
  const token = await roomy.sign(big, 60);
  assert.ok(token.length > 256 * 1024, `a ${token.length}-character token`);
  assert.deepEqual((await roomy.verify(token)).names, big.names);
  await assert.rejects(tokens({ maxLength: token.length - 1 }).verify(token), refused('malformed'));
});

test('remembered tokens are still only the exact strings verified', async () => {
  const t = tokens({ cacheSize: 2 });
  const a = await t.sign({ n: 1 }, 60);
  const b = await t.sign({ n: 2 }, 60);
  const c = await t.sign({ n: 3 }, 60);
  for (const token of [a, b, c, a, b, c]) assert.ok((await t.verify(token)).n, 'verified while the cache turns over');
  const [h, p, s] = segments(a);
  await assert.rejects(t.verify(`${h}.${p}.${s.slice(0, -1)}`), refused('invalid'));
  // Remembered claims are handed to every caller: nobody may change them.
  const claims = (await t.verify(a)) as Record<string, unknown>;
  assert.throws(() => {
    claims.n = 9;
  }, TypeError);
});

test('refuses an empty secret and a lifetime under a second', async () => {
  assert.throws(() => createSignedTokens({ secret: '', maxLength: 100 }), /empty secret/);
  assert.throws(() => createSignedTokens({ secret: new Uint8Array(0), maxLength: 100 }), /empty secret/);
  await assert.rejects(tokens().sign({}, 0.5), /ttlSec/);
});
