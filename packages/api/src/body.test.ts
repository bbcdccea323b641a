import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LINE_ERRORS, coerceQueryValue, queryOf, isBodyAbandoned, isJsonLines, parseEventsBody, parseJsonLines, parseObjectBody, parseQuery, readBody } from './body';
import { ApiError } from './errors';

const isValidation = (e: unknown): boolean => e instanceof ApiError && e.status === 400 && e.subcode === 12;

test('isJsonLines table', () => {
  const cases: Array<[string | undefined, boolean]> = [
    ['application/json-lines', true],
    ['application/json-lines; charset=utf-8', true],
    ['Application/JSON-Lines;charset=UTF-8', true],
    [' application/json-lines ', true],
    ['application/json', false],
    ['application/jsonlines', false],
    ['text/plain', false],
    ['', false],
    [undefined, false],
  ];
  for (const [ct, expected] of cases) assert.equal(isJsonLines(ct), expected, String(ct));
});

test('coerceQueryValue table', () => {
  const cases: Array<[string, unknown]> = [
    ['5', 5],
    ['-3', -3],
    ['0', 0],
    ['007', 7],
    ['1.5', 1.5],
    ['-0.25', -0.25],
    ['true', true],
    ['false', false],
    ['True', 'True'],
    ['abc', 'abc'],
    ['', ''],
    ['1e3', '1e3'],
    ['1.', '1.'],
    ['.5', '.5'],
    ['12345678901234567890123456789012', '12345678901234567890123456789012'],
    ['9007199254740991', 9007199254740991],
    ['9007199254740993', '9007199254740993'],
  ];
  for (const [raw, expected] of cases) assert.deepEqual(coerceQueryValue(raw), expected, raw);
});

test('parseQuery merges lists and coerces', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['', {}],
    ['?task=abc&iters=5', { task: 'abc', iters: 5 }],
    ['flag=true&off=false', { flag: true, off: false }],
    ['k[]=a&k[]=b', { k: ['a', 'b'] }],
    ['k%5B%5D=a', { k: ['a'] }],
    ['k[]=1', { k: [1] }],
    ['k=a&k=b&k=3', { k: ['a', 'b', 3] }],
    ['k=a&k[]=b', { k: ['a', 'b'] }],
    ['metric=a+b&variant=%2Fx', { metric: 'a b', variant: '/x' }],
    ['__proto__=1&x=2', { x: 2 }],
    ['empty=', { empty: '' }],
  ];
  for (const [qs, expected] of cases) assert.deepEqual(parseQuery(qs), expected, qs);
  assert.equal(Object.getPrototypeOf(parseQuery('__proto__[]=1')), Object.prototype);
  assert.deepEqual(queryOf('/events.x'), {});
  assert.deepEqual(queryOf('/events.x?'), {});
  assert.deepEqual(queryOf('/v2.1/events.x/?a=1&b=x'), { a: 1, b: 'x' });
});

test('parseObjectBody: objects only, empty is {}', () => {
  assert.deepEqual(parseObjectBody(Buffer.alloc(0)), {});
  assert.deepEqual(parseObjectBody(Buffer.from('  \n')), {});
  assert.deepEqual(parseObjectBody(Buffer.from('\ufeff{"a":1}')), { a: 1 });
  assert.deepEqual(parseObjectBody(Buffer.from('{"v": NaN}')), { v: NaN });
  for (const text of ['[1]', '"s"', '1', 'null', 'true', '{', 'NaN']) assert.throws(() => parseObjectBody(Buffer.from(text)), isValidation, text);
  assert.throws(() => parseObjectBody(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])), isValidation);
  assert.throws(() => parseObjectBody(Buffer.from('['.repeat(100_000) + ']'.repeat(100_000))), isValidation);
});

test('parseJsonLines: each line on its own', () => {
  const text = [
    '{"type": "log", "msg": "a"}',
    '',
    '   ',
    '{"type": "training_stats_scalar", "value": NaN}\r',
    '{"broken": ',
    '[1, 2]',
    '{"s": "Infinity"}',
    '',
  ].join('\n');
  const lines = parseJsonLines(Buffer.from(text));
  assert.deepEqual(lines, [
    { ok: true, value: { type: 'log', msg: 'a' } },
    { ok: true, value: { type: 'training_stats_scalar', value: NaN } },
    { ok: false, error: LINE_ERRORS.json },
    { ok: false, error: LINE_ERRORS.notObject },
    { ok: true, value: { s: 'Infinity' } },
  ]);
  // A line of invalid UTF-8 spoils only itself.
  const mixed = Buffer.concat([Buffer.from('{"a":1}\n'), Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]), Buffer.from('\n\n{"b":"é"}')]);
  assert.deepEqual(parseJsonLines(mixed), [
    { ok: true, value: { a: 1 } },
    { ok: false, error: LINE_ERRORS.utf8 },
    { ok: true, value: { b: 'é' } },
  ]);
  assert.deepEqual(parseJsonLines(Buffer.from('{"a":' + '['.repeat(100) + ']'.repeat(100) + '}\n{"b":2}')), [
    { ok: false, error: LINE_ERRORS.depth },
    { ok: true, value: { b: 2 } },
  ]);
  assert.deepEqual(parseJsonLines(Buffer.alloc(0)), []);
});

test('parseEventsBody: json-lines, or one object = one event', () => {
  assert.deepEqual(parseEventsBody(Buffer.from('{"a":1}\n{"b":2}'), 'application/json-lines'), [
    { ok: true, value: { a: 1 } },
    { ok: true, value: { b: 2 } },
  ]);
  assert.deepEqual(parseEventsBody(Buffer.from('{"a":1}'), 'application/json'), [{ ok: true, value: { a: 1 } }]);
  assert.deepEqual(parseEventsBody(Buffer.from(''), 'application/json'), []);
  assert.deepEqual(parseEventsBody(Buffer.from(''), undefined), []);
  assert.throws(() => parseEventsBody(Buffer.from('[{"a":1}]'), 'application/json'), isValidation);
  assert.throws(() => parseEventsBody(Buffer.from('{"a":1}\n{"b":2}'), 'application/json'), isValidation);
});

test('parseJsonLines is fast on a large batch', () => {
  const line = JSON.stringify({ type: 'training_stats_scalar', task: 'a'.repeat(32), iter: 100, metric: 'loss', variant: 'train', value: 0.123456, timestamp: 1700000000000 });
  const n = 100_000;
  const buf = Buffer.from(Array.from({ length: n }, () => line).join('\n'));
  parseJsonLines(buf); // warm up
  const t0 = performance.now();
  const lines = parseJsonLines(buf);
  const ms = performance.now() - t0;
  assert.equal(lines.length, n);
  // Generous bound so a slow CI machine passes; typical is well under 200 ms.
  assert.ok(ms < 2000, `100k lines took ${ms.toFixed(0)} ms`);
});

/** A request on a socket that never connects: the test pushes its body. */
function unconnectedRequest(): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  req.headers = {};
  return req;
}

const isTooLarge = (e: unknown): boolean => e instanceof ApiError && e.status === 413;

test('readBody: a refused body drained to its end is answered on a connection that stays usable', async () => {
  const req = unconnectedRequest();
  const reading = readBody(req, { limit: 10, drainLimit: 100 });
  req.push(Buffer.alloc(15));
  req.push(null);
  await assert.rejects(reading, isTooLarge);
  assert.equal(isBodyAbandoned(req), false);
});

test('readBody: a refused body past the drain limit is left unread, the request marked abandoned', async () => {
  const req = unconnectedRequest();
  const reading = readBody(req, { limit: 10, drainLimit: 20 });
  req.push(Buffer.alloc(15));
  req.push(Buffer.alloc(30));
  await assert.rejects(reading, isTooLarge);
  assert.equal(isBodyAbandoned(req), true);
});

test('readBody: a refused body still arriving at the drain timeout is left unread, the request marked abandoned', async () => {
  const req = unconnectedRequest();
  const reading = readBody(req, { limit: 10, drainTimeoutMs: 20 });
  req.push(Buffer.alloc(15));
  // The drain timer does not hold the process open (it is unref'd): this does, meanwhile.
  const keepAlive = setTimeout(() => undefined, 10_000);
  try {
    await assert.rejects(reading, isTooLarge);
  } finally {
    clearTimeout(keepAlive);
  }
  assert.equal(isBodyAbandoned(req), true);
});
