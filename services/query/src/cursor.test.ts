import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { ApiError, createSignedTokens } from '@trackstream/api';
import { createCursors, type CursorOptions, type CursorScope } from './cursor';

const isScrollError = (e: unknown): boolean => e instanceof ApiError && e.status === 400 && e.subcode === 1104;
const scope: CursorScope = { endpoint: 'events.get_task_log', tenant: 't1', task: 'task-1', params: { order: 'asc', from: 'head' } };
const state = ['1700000000123', '18446744073709551615'];
const keyed = (secret: string, more: Partial<CursorOptions> = {}): CursorOptions => ({ secret, ttlSec: 3600, ...more });

test('a cursor round-trips its state, is url-safe, and is absent when not sent', async () => {
  const c = createCursors(keyed('a-secret'));
  const token = await c.encode(scope, state);
  assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  assert.deepEqual(await c.decode(token, scope), state);
  assert.deepEqual(await c.decode(await c.encode(scope, null), scope), null);
  for (const none of [undefined, null, '']) assert.equal(await c.decode(none, scope), undefined);
  // Params are compared as a set, task lists as a set.
  assert.deepEqual(await c.decode(token, { ...scope, params: { from: 'head', order: 'asc' } }), state);
  const multi: CursorScope = { endpoint: 'events.get_multi_task_plots', tenant: 't1', task: ['b', 'a', 'b'] };
  assert.deepEqual(await c.decode(await c.encode(multi, 1), { ...multi, task: ['a', 'b'] }), 1);
});

test('another endpoint, tenant, task, order or key refuses the cursor', async () => {
  const c = createCursors(keyed('a-secret'));
  const token = await c.encode(scope, state);
  const foreign: CursorScope[] = [
    { ...scope, endpoint: 'events.get_task_events' },
    { ...scope, tenant: 't2' },
    { ...scope, task: 'task-2' },
    { ...scope, task: ['task-1'] },
    { ...scope, params: { order: 'desc', from: 'head' } },
    { ...scope, params: { order: 'asc' } },
  ];
  for (const s of foreign) await assert.rejects(c.decode(token, s), isScrollError, JSON.stringify(s));
  await assert.rejects(createCursors(keyed('another-secret')).decode(token, scope), isScrollError);
  // Without a configured secret each process has its own random key.
  await assert.rejects(createCursors(keyed('')).decode(await createCursors(keyed('')).encode(scope, state), scope), isScrollError);
});

test('tampered or undecodable cursors are 400/1104', async () => {
  const c = createCursors(keyed('a-secret'));
  const token = await c.encode(scope, state);
  const [header = '', payload = '', sig = ''] = token.split('.');
  const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), k: ['0', '0'] })).toString('base64url');
  const flipped = `${payload.slice(0, -1)}${payload.endsWith('A') ? 'B' : 'A'}`;
  const otherSig = (await c.encode(scope, 0)).split('.')[2] ?? '';
  const bad = [
    `${header}.${forged}.${sig}`,
    `${header}.${flipped}.${sig}`,
    `${header}.${payload}.${sig.slice(0, -2)}`,
    `${header}.${payload}.`,
    `${header}..${sig}`,
    payload,
    'not a cursor',
    'a.b.c',
    `${header}.${payload}.${sig}x`,
    `${header}.${payload}!.${sig}`,
    'x'.repeat(20_000) + '.y',
    // Correctly signed but not JSON / not ours.
    `${header}.${Buffer.from('garbage').toString('base64url')}.${otherSig}`,
  ];
  for (const t of bad) await assert.rejects(c.decode(t, scope), isScrollError, t.slice(0, 60));
});

test('forged cursors are 400/1104: alg none, another algorithm, truncated, re-encoded', async () => {
  const c = createCursors(keyed('a-secret'));
  const token = await c.encode(scope, state);
  const [h, p, s] = token.split('.') as [string, string, string];
  const header = (alg: string): string => Buffer.from(JSON.stringify({ alg, typ: 'JWT' })).toString('base64url');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  const forged = Buffer.from(JSON.stringify({ ...claims, k: ['0', '0'] })).toString('base64url');
  // Signed the way a library that trusted the header would check them.
  const hs512 = `${header('HS512')}.${forged}`;
  const rs256 = `${header('RS256')}.${forged}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const bad: Array<[string, string]> = [
    ['alg none, unsigned', `${header('none')}.${forged}.`],
    ['alg none, old signature', `${header('none')}.${p}.${s}`],
    ['HS512 with the same secret', `${hs512}.${createHmac('sha512', 'a-secret').update(hs512).digest('base64url')}`],
    ['RS256', `${rs256}.${sign('sha256', Buffer.from(rs256), privateKey).toString('base64url')}`],
    ['relabelled HS512', `${header('HS512')}.${p}.${s}`],
    ['signature truncated', `${h}.${p}.${s.slice(0, -1)}`],
    ['payload truncated', `${h}.${p.slice(0, -4)}.${s}`],
    ['payload re-serialised', `${h}.${Buffer.from(JSON.stringify(claims, null, 1)).toString('base64url')}.${s}`],
    ['signature padded', `${token}=`],
    ['signature in base64', `${h}.${p}.${Buffer.from(s, 'base64url').toString('base64')}`],
    ['signature with spare bits set', `${h}.${p}.${s.slice(0, -1)}${String.fromCharCode(s.charCodeAt(42) + 1)}`],
  ];
  for (const [what, t] of bad) await assert.rejects(c.decode(t, scope), isScrollError, what);
  assert.deepEqual(await c.decode(token, scope), state, 'the original still decodes');
});

test('a cursor expires ttlSec after its page, and is then 400/1104', async () => {
  let now = 1_700_000_000_000;
  const c = createCursors(keyed('a-secret', { ttlSec: 600, now: () => now }));
  const token = await c.encode(scope, state);
  now += 599_999;
  assert.deepEqual(await c.decode(token, scope), state);
  // Each page answers with a fresh cursor, so a scroll lasts as long as its pages keep coming.
  const next = await c.encode(scope, state);
  now += 1;
  await assert.rejects(c.decode(token, scope), isScrollError);
  assert.deepEqual(await c.decode(next, scope), state);
  now += 600_000;
  await assert.rejects(c.decode(next, scope), isScrollError);
});

test('cursors of 100-task scopes (hundreds of KiB) work; past 16 MiB even a well-signed one is refused', async () => {
  const c = createCursors(keyed('a-secret'));
  const tasks = Array.from({ length: 100 }, (_, i) => `${'t'.repeat(250)}-${i}`);
  const multi: CursorScope = { endpoint: 'events.get_multi_task_plots', tenant: 't1', task: tasks };
  const big = { bounds: Object.fromEntries(tasks.map((t) => [t, ['1700000000123', 'm'.repeat(2000)]])) };
  const token = await c.encode(multi, big);
  assert.ok(token.length > 256 * 1024, `${token.length} characters`);
  assert.deepEqual(await c.decode(token, { ...multi, task: [...tasks].reverse() }), big);
  const huge = await c.encode(scope, 'x'.repeat(12 * 1024 * 1024 + 1024));
  assert.ok(huge.length > 16 * 1024 * 1024);
  await assert.rejects(c.decode(huge, scope), isScrollError);
});

test('a well-signed cursor of another format version is refused, not misread', async () => {
  const c = createCursors(keyed('a-secret'));
  const token = await c.encode(scope, state);
  const { iat: _iat, exp: _exp, ...claims } = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
  const resign = (v: unknown) => createSignedTokens({ secret: 'a-secret', maxLength: 1 << 20 }).sign({ ...claims, v }, 60);
  assert.deepEqual(await c.decode(await resign(claims.v), scope), state, 'the same format, re-signed, is read');
  for (const v of [0, Number(claims.v) + 1, String(claims.v), undefined]) await assert.rejects(c.decode(await resign(v), scope), isScrollError, String(v));
});
