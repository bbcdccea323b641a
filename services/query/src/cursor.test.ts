import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '@trackstream/api';
import { createCursors, type CursorScope } from './cursor';

const isScrollError = (e: unknown): boolean => e instanceof ApiError && e.status === 400 && e.subcode === 1104;
const scope: CursorScope = { endpoint: 'events.get_task_log', tenant: 't1', task: 'task-1', params: { order: 'asc', from: 'head' } };
const state = ['1700000000123', '18446744073709551615'];

test('a cursor round-trips its state, is url-safe, and is absent when not sent', () => {
  const c = createCursors('a-secret');
  const token = c.encode(scope, state);
  assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  assert.deepEqual(c.decode(token, scope), state);
  assert.deepEqual(c.decode(c.encode(scope, null), scope), null);
  for (const none of [undefined, null, '']) assert.equal(c.decode(none, scope), undefined);
  // Params are compared as a set, task lists as a set.
  assert.deepEqual(c.decode(token, { ...scope, params: { from: 'head', order: 'asc' } }), state);
  const multi: CursorScope = { endpoint: 'events.get_multi_task_plots', tenant: 't1', task: ['b', 'a', 'b'] };
  assert.deepEqual(c.decode(c.encode(multi, 1), { ...multi, task: ['a', 'b'] }), 1);
});

test('another endpoint, tenant, task, order or key refuses the cursor', () => {
  const c = createCursors('a-secret');
  const token = c.encode(scope, state);
  const foreign: CursorScope[] = [
    { ...scope, endpoint: 'events.get_task_events' },
    { ...scope, tenant: 't2' },
    { ...scope, task: 'task-2' },
    { ...scope, task: ['task-1'] },
    { ...scope, params: { order: 'desc', from: 'head' } },
    { ...scope, params: { order: 'asc' } },
  ];
  for (const s of foreign) assert.throws(() => c.decode(token, s), isScrollError, JSON.stringify(s));
  assert.throws(() => createCursors('another-secret').decode(token, scope), isScrollError);
  // Without a configured secret each process has its own random key.
  assert.throws(() => createCursors('').decode(createCursors('').encode(scope, state), scope), isScrollError);
});

test('tampered or undecodable cursors are 400/1104', () => {
  const c = createCursors('a-secret');
  const token = c.encode(scope, state);
  const [payload = '', sig = ''] = token.split('.');
  const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), k: ['0', '0'] })).toString('base64url');
  const flipped = `${payload.slice(0, -1)}${payload.endsWith('A') ? 'B' : 'A'}`;
  const bad = [
    `${forged}.${sig}`,
    `${flipped}.${sig}`,
    `${payload}.${sig.slice(0, -2)}`,
    `${payload}.`,
    `.${sig}`,
    payload,
    'not a cursor',
    'a.b.c',
    `${payload}.${sig}x`,
    `${payload}!.${sig}`,
    'x'.repeat(20_000) + '.y',
    // Correctly signed but not JSON / not ours.
    (() => {
      const p = Buffer.from('garbage').toString('base64url');
      const t = c.encode(scope, 0).split('.')[1];
      return `${p}.${t}`;
    })(),
  ];
  for (const t of bad) assert.throws(() => c.decode(t, scope), isScrollError, t.slice(0, 60));
});
