import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tryParsePath } from './path';
import { compareVersions, parseVersion, selectVersion } from './version';

test('tryParsePath table', () => {
  const cases: Array<[string, { name: string; version: string | null } | null]> = [
    ['/events.add_batch', { name: 'events.add_batch', version: null }],
    ['/events.add_batch/', { name: 'events.add_batch', version: null }],
    ['/v2.23/events.add_batch', { name: 'events.add_batch', version: '2.23' }],
    ['/v2.23/events.add_batch/', { name: 'events.add_batch', version: '2.23' }],
    ['/v1.5/events.get_task_log', { name: 'events.get_task_log', version: '1.5' }],
    ['/v02.010/events.get_task_log', { name: 'events.get_task_log', version: '2.10' }],
    ['/auth.login', { name: 'auth.login', version: null }],
    ['/', null],
    ['', null],
    ['/foo', null],
    ['/events.', null],
    ['/.add', null],
    ['/events.add.batch', null],
    ['/v2/events.add', null],
    ['/2.1/events.add', null],
    ['/v2.1', null],
    ['/v2.1/', null],
    ['/v2.1/events.add/x', null],
    ['/events.add//', null],
    ['//events.add', null],
    ['/api/v2.1/events.add', null],
    ['/events%2Eadd', null],
    ['/events.add?x=1', null],
  ];
  for (const [path, expected] of cases) {
    const got = tryParsePath(path);
    assert.deepEqual(got === null ? null : { name: got.name, version: got.version }, expected, path);
  }
});

test('tryParsePath: a malformed path is null', () => {
  for (const p of ['/foo', '/v2.1/events', '/v2.1/.add', '/vx.1/events.add']) assert.equal(tryParsePath(p), null, p);
  assert.deepEqual(tryParsePath('/v2.1/events.add'), { service: 'events', action: 'add', name: 'events.add', version: '2.1' });
});

test('compareVersions is numeric', () => {
  const cases: Array<[string, string, number]> = [
    ['2.10', '2.9', 1],
    ['2.9', '2.10', -1],
    ['2.1', '2.1', 0],
    ['2.01', '2.1', 0],
    ['1.7', '2.1', -1],
    ['10.0', '9.99', 1],
  ];
  for (const [a, b, sign] of cases) assert.equal(Math.sign(compareVersions(a, b)), sign, `${a} vs ${b}`);
  assert.equal(parseVersion('2'), null);
  assert.equal(parseVersion('v2.1'), null);
  assert.throws(() => compareVersions('x', '2.1'), TypeError);
});

test('selectVersion table', () => {
  const handlers = [{ version: '1.5' }, { version: '1.7' }];
  const cases: Array<[string | null, string | undefined]> = [
    [null, '1.7'],
    ['1.5', '1.5'],
    ['1.6', '1.5'],
    ['1.7', '1.7'],
    ['1.10', '1.7'],
    ['2.23', '1.7'],
    ['9.9', '1.7'],
    ['1.4', undefined],
    ['1.0', undefined],
  ];
  for (const [requested, expected] of cases) assert.equal(selectVersion(handlers, requested)?.version, expected, String(requested));
  // Order of declaration does not matter; 2.10 is above 2.9.
  const unordered = [{ version: '2.10' }, { version: '2.1' }, { version: '2.9' }];
  assert.equal(selectVersion(unordered, null)?.version, '2.10');
  assert.equal(selectVersion(unordered, '2.9')?.version, '2.9');
  assert.equal(selectVersion(unordered, '2.11')?.version, '2.10');
  assert.equal(selectVersion(unordered, '2.5')?.version, '2.1');
});
