import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CODEC_VERSION,
  DEFAULT_MAX_MESSAGE_BYTES,
  DecodeError,
  decodeMessage,
  decodeTopicMessage,
  encodeDeleteTask,
  encodeMessage,
  fieldsSizeBound,
  messageKey,
  packEvents,
  type DecodeErrorReason,
  type Message,
} from './codec';
import { encodeMessageV1 } from './codec/v1-fixture';
import type { Event } from './events';

const tenant = 'acme';
const task = '0123456789abcdef0123456789abcdef';
const b = { tenant, task };

const TRICKY = [
  '',
  'plain',
  'quote " backslash \\ slash /',
  'controls \u0000\u0001\u0007\b\f\n\r\t\u001f\u007f\u0085',
  'unicode é ß 漢字 العربية',
  'emoji 😀👍🏽👨‍👩‍👧',
  'lone surrogates \ud800 \udfff',
  'line separators \u2028\u2029',
  '\ufeffBOM and \uffff',
  '{"json":"inside"}',
];

function sample(): Event[] {
  const events: Event[] = [];
  for (const s of TRICKY) {
    events.push({ ...b, type: 'training_stats_scalar', timestamp: 1_700_000_000_123, iter: 5, metric: s, variant: s, value: 0.1 + 0.2 });
    events.push({ ...b, type: 'log', timestamp: 1_700_000_000_124.5, iter: 0, level: 'warning', worker: s, msg: s });
    events.push({ ...b, type: 'training_debug_image', timestamp: 1, iter: 1, metric: 'm', variant: 'v', key: s, url: s });
    events.push({ ...b, type: 'plot', timestamp: 2, iter: 2, metric: s, variant: 'v', plot_str: s });
  }
  for (const value of [NaN, Infinity, -Infinity, -0, 0, 5e-324, Number.MAX_VALUE, -Number.MAX_VALUE, 1e21, -1e-7, 123456789.123456789]) {
    events.push({ ...b, type: 'training_stats_scalar', timestamp: 3, iter: -2147483648, metric: 'm', variant: String(value), value });
  }
  events.push({ ...b, type: 'training_stats_vector', timestamp: 4, iter: 2 ** 60, metric: 'h', variant: 'v', values: [1, NaN, Infinity, -Infinity, -0, 0, 0.5] });
  events.push({ ...b, type: 'training_stats_vector', timestamp: 4, iter: -(2 ** 63), metric: 'h', variant: 'empty', values: [] });
  return events;
}

const TABLE_ORDER: readonly Event['type'][] = ['training_stats_scalar', 'training_stats_vector', 'training_debug_image', 'plot', 'log'];
const utf8 = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');

/**
 * Events as a v2 message gives them back: grouped by table (in each, in the order sent),
 * timestamps in whole milliseconds, strings as UTF-8 holds them (a lone surrogate is U+FFFD).
 */
function asStored(events: readonly Event[]): Event[] {
  const out = events.map((e) => {
    const copy = { ...e, timestamp: Math.floor(e.timestamp) } as Record<string, unknown>;
    for (const k of ['metric', 'variant', 'key', 'url', 'plot_str', 'worker', 'msg']) if (typeof copy[k] === 'string') copy[k] = utf8(copy[k] as string);
    return copy as unknown as Event;
  });
  return out.sort((a, c) => TABLE_ORDER.indexOf(a.type) - TABLE_ORDER.indexOf(c.type));
}

/** deepEqual with Object.is on numbers: NaN equals NaN, -0 differs from 0. */
function sameEvents(actual: Event[], expected: Event[]): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as unknown as Record<string, unknown>;
    const e = expected[i] as unknown as Record<string, unknown>;
    assert.deepEqual(Object.keys(a).sort(), Object.keys(e).sort(), `event ${i}`);
    for (const k of Object.keys(e)) {
      const av = a[k];
      const ev = e[k];
      if (Array.isArray(ev)) {
        assert.ok(Array.isArray(av));
        assert.equal(av.length, ev.length);
        ev.forEach((x, j) => assert.ok(Object.is(av[j], x), `event ${i} ${k}[${j}]: ${String(av[j])} vs ${String(x)}`));
      } else {
        assert.ok(Object.is(av, ev), `event ${i} ${k}: ${JSON.stringify(av)} vs ${JSON.stringify(ev)}`);
      }
    }
  }
}

test('round-trip: every kind, NaN/Infinity/-Infinity/-0, unicode, emoji, control characters', () => {
  const msg: Message = { tenant, task, receivedAt: 1_700_000_000_999, events: sample() };
  const buf = encodeMessage(msg);
  const out = decodeMessage(buf);
  assert.equal(out.tenant, tenant);
  assert.equal(out.task, task);
  assert.equal(out.receivedAt, msg.receivedAt);
  sameEvents(out.events, asStored(msg.events));
  // the wire form starts with a versioned JSON header line
  const raw = JSON.parse(buf.toString('utf8').split('\n')[0] as string) as Record<string, unknown>;
  assert.equal(raw['v'], CODEC_VERSION);
  // v1 carried every string exactly, lone surrogates included
  sameEvents(decodeMessage(encodeMessageV1(msg)).events, msg.events);
});

test('round-trip: unusual tenant and task strings', () => {
  for (const t of TRICKY.filter((s) => s !== '')) {
    const ev: Event = { tenant: t, task: t, type: 'log', timestamp: 1, iter: 0, level: 'info', worker: '', msg: t };
    const out = decodeMessage(encodeMessage({ tenant: t, task: t, receivedAt: 0, events: [ev] }));
    assert.equal(out.tenant, t);
    assert.equal(out.task, t);
    sameEvents(out.events, asStored([ev]));
  }
});

test('round-trip: a big batch, and an empty one', () => {
  const events: Event[] = [];
  for (let i = 0; i < 50_000; i++) {
    events.push({ ...b, type: 'training_stats_scalar', timestamp: 1_700_000_000_000 + i, iter: i, metric: `m${i % 10}`, variant: 'v', value: i % 97 === 0 ? NaN : Math.sin(i) });
  }
  const out = decodeMessage(encodeMessage({ tenant, task, receivedAt: 1, events }));
  sameEvents(out.events, events);
  assert.deepEqual(decodeMessage(encodeMessage({ tenant, task, receivedAt: 1, events: [] })), { tenant, task, receivedAt: 1, events: [] });
});

test('decodeMessage accepts a Uint8Array view into a larger buffer', () => {
  const buf = encodeMessage({ tenant, task, receivedAt: 1, events: sample().slice(0, 3) });
  const big = Buffer.concat([Buffer.from('xx'), buf, Buffer.from('yy')]);
  const view = new Uint8Array(big.buffer, big.byteOffset + 2, buf.length);
  assert.equal(decodeMessage(view).events.length, 3);
});

test('encodeMessage refuses malformed input (a bug, not data)', () => {
  const ok: Event = { ...b, type: 'training_stats_scalar', timestamp: 1, iter: 0, metric: '', variant: '', value: 1 };
  const cases: Array<[string, Message]> = [
    ['other task', { tenant, task, receivedAt: 0, events: [{ ...ok, task: 'other' }] }],
    ['other tenant', { tenant, task, receivedAt: 0, events: [{ ...ok, tenant: 'other' }] }],
    ['NaN timestamp', { tenant, task, receivedAt: 0, events: [{ ...ok, timestamp: NaN }] }],
    ['Infinity iter', { tenant, task, receivedAt: 0, events: [{ ...ok, iter: Infinity }] }],
    ['missing metric', { tenant, task, receivedAt: 0, events: [{ ...ok, metric: undefined as unknown as string }] }],
    ['string value', { tenant, task, receivedAt: 0, events: [{ ...ok, value: '1' as unknown as number }] }],
    ['unknown type', { tenant, task, receivedAt: 0, events: [{ ...ok, type: 'nope' as 'plot', plot_str: '' } as unknown as Event] }],
    ['NaN receivedAt', { tenant, task, receivedAt: NaN, events: [ok] }],
  ];
  for (const [name, msg] of cases) assert.throws(() => encodeMessage(msg), TypeError, name);
});

function reasonOf(buf: Buffer | null | undefined): DecodeErrorReason | 'ok' {
  try {
    decodeMessage(buf);
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof DecodeError, String(e));
    return e.reason;
  }
}

const j = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));
const env = (events: unknown): Buffer => j({ v: 1, tenant, task, receivedAt: 1, events });

const v2 = (rows: Record<string, unknown>, body: string): Buffer => Buffer.from(`${JSON.stringify({ v: 2, tenant, task, receivedAt: 1, rows })}\n${body}`);
const LINE = 'm\tv\t1\t0.5\t2024-01-01 00:00:00.000\n';

const garbage: Array<[string, Buffer | null | undefined, DecodeErrorReason]> = [
  ['v2: fewer lines than counted', v2({ scalars: 2 }, LINE), 'invalid-shape'],
  ['v2: more lines than counted', v2({ scalars: 1 }, LINE + LINE), 'invalid-shape'],
  ['v2: no final newline', v2({ scalars: 1 }, LINE.trimEnd()), 'invalid-shape'],
  ['v2: unknown table', v2({ metrics: 1 }, LINE), 'invalid-shape'],
  ['v2: negative count', v2({ scalars: -1 }, ''), 'invalid-shape'],
  ['v2: rows not an object', v2([1] as unknown as Record<string, unknown>, LINE), 'invalid-shape'],
  ['v2: a field missing', v2({ scalars: 1 }, 'm\tv\t1\t0.5\n'), 'invalid-shape'],
  ['v2: a field too many', v2({ scalars: 1 }, `x\t${LINE}`), 'invalid-shape'],
  ['v2: iter not an integer', v2({ scalars: 1 }, 'm\tv\tone\t0.5\t2024-01-01 00:00:00.000\n'), 'invalid-shape'],
  ['v2: value not a number', v2({ scalars: 1 }, 'm\tv\t1\tzero\t2024-01-01 00:00:00.000\n'), 'invalid-shape'],
  ['v2: bad timestamp', v2({ scalars: 1 }, 'm\tv\t1\t0.5\t2024-01-01\n'), 'invalid-shape'],
  ['v2: unknown log level', v2({ logs: 1 }, '2024-01-01 00:00:00.000\t0\tloud\tw\tmsg\n'), 'invalid-shape'],
  ['v2: no tenant', Buffer.from(`${JSON.stringify({ v: 2, task, receivedAt: 1, rows: {} })}\n`), 'invalid-shape'],
  ['null (tombstone)', null, 'empty'],
  ['undefined', undefined, 'empty'],
  ['zero bytes', Buffer.alloc(0), 'empty'],
  ['not JSON', Buffer.from('hello'), 'invalid-json'],
  ['truncated JSON', encodeMessage({ tenant, task, receivedAt: 1, events: sample() }).subarray(0, 100), 'invalid-json'],
  ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'invalid-json'],
  ['binary noise', Buffer.from([0, 1, 2, 3, 250, 251]), 'invalid-json'],
  ['JSON array', j([1, 2]), 'invalid-shape'],
  ['JSON string', j('x'), 'invalid-shape'],
  ['JSON null', j(null), 'invalid-shape'],
  ['no version', j({ tenant, task, receivedAt: 1, events: [] }), 'invalid-shape'],
  ['string version', j({ v: '1', tenant, task, receivedAt: 1, events: [] }), 'invalid-shape'],
  ['version 2', j({ v: 2, tenant, task, receivedAt: 1, events: [] }), 'unknown-version'],
  ['version 0', j({ v: 0 }), 'unknown-version'],
  ['version 1.5', j({ v: 1.5 }), 'unknown-version'],
  ['version Infinity', Buffer.from('{"v":1e400}'), 'unknown-version'],
  ['version "constructor"', Buffer.from('{"v":"constructor"}'), 'invalid-shape'],
  ['missing tenant', j({ v: 1, task, receivedAt: 1, events: [] }), 'invalid-shape'],
  ['numeric task', j({ v: 1, tenant, task: 5, receivedAt: 1, events: [] }), 'invalid-shape'],
  ['missing receivedAt', j({ v: 1, tenant, task, events: [] }), 'invalid-shape'],
  ['events not an array', j({ v: 1, tenant, task, receivedAt: 1, events: {} }), 'invalid-shape'],
  ['event not a tuple', env([{ type: 'log' }]), 'invalid-shape'],
  ['unknown kind', env([['x', 1, 0, 'a', 'b', 1]]), 'invalid-shape'],
  ['scalar too short', env([['s', 1, 0, 'm', 'v']]), 'invalid-shape'],
  ['scalar too long', env([['s', 1, 0, 'm', 'v', 1, 2]]), 'invalid-shape'],
  ['scalar string value', env([['s', 1, 0, 'm', 'v', 'nan']]), 'invalid-shape'],
  ['scalar null value', env([['s', 1, 0, 'm', 'v', null]]), 'invalid-shape'],
  ['scalar string timestamp', env([['s', '1', 0, 'm', 'v', 1]]), 'invalid-shape'],
  ['scalar string iter', env([['s', 1, '0', 'm', 'v', 1]]), 'invalid-shape'],
  ['scalar numeric metric', env([['s', 1, 0, 5, 'v', 1]]), 'invalid-shape'],
  ['vector values not array', env([['v', 1, 0, 'm', 'v', 1]]), 'invalid-shape'],
  ['vector bad element', env([['v', 1, 0, 'm', 'v', [1, 'x']]]), 'invalid-shape'],
  ['image missing url', env([['i', 1, 0, 'm', 'v', 'k']]), 'invalid-shape'],
  ['plot numeric plot_str', env([['p', 1, 0, 'm', 'v', 1]]), 'invalid-shape'],
  ['log unknown level', env([['l', 1, 0, 'loud', 'w', 'msg']]), 'invalid-shape'],
  ['log upper-case level', env([['l', 1, 0, 'INFO', 'w', 'msg']]), 'invalid-shape'],
  ['one bad event among good ones', env([['s', 1, 0, 'm', 'v', 1], ['s', 1, 0, 'm', 'v']]), 'invalid-shape'],
];

for (const [name, buf, reason] of garbage) {
  test(`decodeMessage: ${name} -> ${reason}`, () => {
    assert.equal(reasonOf(buf), reason);
  });
}

test('DecodeError carries the reason in its message', () => {
  const e = new DecodeError('unknown-version', 'v=2');
  assert.equal(e.reason, 'unknown-version');
  assert.equal(e.message, 'unknown-version: v=2');
  assert.equal(e.name, 'DecodeError');
  assert.ok(e instanceof Error);
});

test('v1 wire form is stable (decodes a literal v1 message)', () => {
  const wire =
    '{"v":1,"tenant":"t","task":"x","receivedAt":5,"events":[' +
    '["s",1,2,"loss","train","NaN"],["s",1,3,"loss","train",0.5],["v",1,2,"h","v",[1,"-Infinity"]],' +
    '["i",1,2,"img","v","k","u"],["p",1,2,"roc","v","{}"],["l",7,0,"error","w","boom"]]}';
  const m = decodeMessage(Buffer.from(wire));
  const base = { tenant: 't', task: 'x' };
  sameEvents(m.events, [
    { ...base, type: 'training_stats_scalar', timestamp: 1, iter: 2, metric: 'loss', variant: 'train', value: NaN },
    { ...base, type: 'training_stats_scalar', timestamp: 1, iter: 3, metric: 'loss', variant: 'train', value: 0.5 },
    { ...base, type: 'training_stats_vector', timestamp: 1, iter: 2, metric: 'h', variant: 'v', values: [1, -Infinity] },
    { ...base, type: 'training_debug_image', timestamp: 1, iter: 2, metric: 'img', variant: 'v', key: 'k', url: 'u' },
    { ...base, type: 'plot', timestamp: 1, iter: 2, metric: 'roc', variant: 'v', plot_str: '{}' },
    { ...base, type: 'log', timestamp: 7, iter: 0, level: 'error', worker: 'w', msg: 'boom' },
  ]);
  // and the v1 encoder writes exactly that form
  assert.equal(encodeMessageV1(m).toString('utf8'), wire);
});

test('v2 wire form is stable (decodes a literal v2 message; encodeMessage writes it)', () => {
  const wire =
    '{"v":2,"tenant":"t","task":"x","receivedAt":5,"rows":{"scalars":2,"vectors":1,"images":1,"plots":1,"logs":1}}\n' +
    'loss\ttrain\t2\tnan\t1970-01-01 00:00:00.001\n' +
    'loss\ttrain\t3\t-0\t1970-01-01 00:00:00.001\n' +
    'h\tv\t2\t[1,-inf]\t1970-01-01 00:00:00.001\n' +
    'img\tv\t2\tk\\tab\tu\t1970-01-01 00:00:00.001\n' +
    'roc\tv\t2\t{}\t1970-01-01 00:00:00.001\n' +
    '1970-01-01 00:00:00.007\t0\terror\tw\tline 1\\nline 2 \\\\ done\n';
  const m = decodeMessage(Buffer.from(wire));
  const base = { tenant: 't', task: 'x' };
  sameEvents(m.events, [
    { ...base, type: 'training_stats_scalar', timestamp: 1, iter: 2, metric: 'loss', variant: 'train', value: NaN },
    { ...base, type: 'training_stats_scalar', timestamp: 1, iter: 3, metric: 'loss', variant: 'train', value: -0 },
    { ...base, type: 'training_stats_vector', timestamp: 1, iter: 2, metric: 'h', variant: 'v', values: [1, -Infinity] },
    { ...base, type: 'training_debug_image', timestamp: 1, iter: 2, metric: 'img', variant: 'v', key: 'k\tab', url: 'u' },
    { ...base, type: 'plot', timestamp: 1, iter: 2, metric: 'roc', variant: 'v', plot_str: '{}' },
    { ...base, type: 'log', timestamp: 7, iter: 0, level: 'error', worker: 'w', msg: 'line 1\nline 2 \\ done' },
  ]);
  assert.equal(encodeMessage(m).toString('utf8'), wire);
});

test('messageKey: tenant and task joined by NUL, unambiguous', () => {
  assert.equal(messageKey('acme', 'abc'), 'acme\u0000abc');
  assert.notEqual(messageKey('ab', 'c'), messageKey('a', 'bc'));
  const key = messageKey('weird\u0000tenant', 'task-1');
  assert.equal(key.slice(key.lastIndexOf('\u0000') + 1), 'task-1');
});

function plotEvent(size: number, i: number): Event {
  return { ...b, type: 'plot', timestamp: i, iter: i, metric: 'm', variant: 'v', plot_str: 'x'.repeat(size) };
}

test('packEvents: small group is one message equal to encodeMessage', () => {
  const events = sample();
  const bufs = packEvents(tenant, task, events, DEFAULT_MAX_MESSAGE_BYTES, 42);
  assert.equal(bufs.length, 1);
  assert.deepEqual(bufs[0], encodeMessage({ tenant, task, receivedAt: 42, events }));
  assert.deepEqual(packEvents(tenant, task, []), []);
});

test('packEvents: every message within maxBytes, order kept, nothing lost or split', () => {
  for (const maxBytes of [300, 1000, 4096, 65536]) {
    const events: Event[] = [];
    for (let i = 0; i < 500; i++) events.push(i % 3 ? plotEvent((i * 37) % 200, i) : { ...b, type: 'log', timestamp: i, iter: 0, level: 'info', worker: 'w', msg: 'é😀'.repeat(i % 50) });
    const bufs = packEvents(tenant, task, events, maxBytes, 7);
    assert.ok(bufs.length > 1, `maxBytes ${maxBytes}`);
    const back: Event[] = [];
    for (const buf of bufs) {
      const m = decodeMessage(buf);
      assert.ok(buf.length <= maxBytes || m.events.length === 1, `${buf.length} > ${maxBytes}`);
      assert.equal(m.receivedAt, 7);
      assert.ok(m.events.length >= 1);
      back.push(...m.events);
    }
    sameEvents(asStored(back), asStored(events));
    // greedy: no two neighbours could have been merged (but for the room kept for the header's counts)
    for (let i = 1; i < bufs.length; i++) {
      const merged = decodeMessage(bufs[i - 1] as Buffer).events.concat(decodeMessage(bufs[i] as Buffer).events);
      assert.ok(encodeMessage({ tenant, task, receivedAt: 7, events: merged }).length > maxBytes - 80);
    }
  }
});

test('packEvents: an event larger than maxBytes goes alone in its message', () => {
  const events = [plotEvent(10, 0), plotEvent(5000, 1), plotEvent(10, 2), plotEvent(10, 3)];
  const bufs = packEvents(tenant, task, events, 1000, 1);
  assert.deepEqual(bufs.map((x) => decodeMessage(x).events.length), [1, 1, 2]);
  assert.ok((bufs[1] as Buffer).length > 1000);
  assert.ok((bufs[0] as Buffer).length <= 1000 && (bufs[2] as Buffer).length <= 1000);
  // a single oversize event
  assert.equal(packEvents(tenant, task, [plotEvent(5000, 0)], 1000).length, 1);
});

test('packEvents: the default bound is 1 MiB', () => {
  const events = Array.from({ length: 40 }, (_, i) => plotEvent(100_000, i));
  const bufs = packEvents(tenant, task, events);
  assert.equal(DEFAULT_MAX_MESSAGE_BYTES, 1024 * 1024);
  assert.ok(bufs.length >= 4);
  for (const x of bufs) assert.ok(x.length <= DEFAULT_MAX_MESSAGE_BYTES);
  assert.equal(bufs.reduce((n, x) => n + decodeMessage(x).events.length, 0), 40);
});

test('packEvents refuses events of another task', () => {
  assert.throws(() => packEvents(tenant, task, [{ ...plotEvent(1, 0), task: 'other' }]), TypeError);
});

test('delete-task markers round-trip and are told apart from events', () => {
  const marker = { tenant: 'acme', task: 't\u00e9', receivedAt: 1700000000000, requestId: 'r-1' };
  const decoded = decodeTopicMessage(encodeDeleteTask(marker));
  assert.deepEqual(decoded, { kind: 'delete-task', ...marker });
  assert.throws(() => decodeMessage(encodeDeleteTask(marker)), DecodeError);
  const scalar: Event = { tenant: 'acme', task: 'x', type: 'training_stats_scalar', timestamp: 1, iter: 0, metric: 'm', variant: 'v', value: 1 };
  const [events] = packEvents('acme', 'x', [scalar], 1024, 5);
  assert.equal(decodeTopicMessage(events!).kind, 'events');
  assert.throws(() => decodeTopicMessage(Buffer.from('{"v":1,"op":"drop-all","tenant":"a","task":"b","receivedAt":1}')), DecodeError);
});

test('clear-log markers carry their cutoff, round-trip, and are refused without one', () => {
  const marker = { tenant: 'acme', task: 't', receivedAt: 1700000000000, requestId: 'r-2', logsBefore: 1699999000000 };
  const wire = encodeDeleteTask(marker);
  assert.equal(JSON.parse(wire.toString('utf8')).op, 'clear-log');
  assert.deepEqual(decodeTopicMessage(wire), { kind: 'delete-task', ...marker });
  assert.throws(
    () => decodeTopicMessage(Buffer.from('{"v":1,"op":"clear-log","tenant":"a","task":"b","receivedAt":1,"requestId":"r"}')),
    (e: unknown) => e instanceof DecodeError && e.reason === 'invalid-shape',
  );
});

test('fieldsSizeBound bounds every event\'s encoded message, whatever its strings and numbers', () => {
  for (const e of sample()) {
    const [m] = packEvents(tenant, task, [e], Number.MAX_SAFE_INTEGER, 1_700_000_000_000);
    const bound = 256 + 6 * (tenant.length + task.length) + fieldsSizeBound(e);
    assert.ok(m !== undefined && m.length <= bound, `${e.type}: ${m?.length} bytes, bound ${bound}`);
  }
});
