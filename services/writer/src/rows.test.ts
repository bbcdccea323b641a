import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMessage, type Event } from '@trackstream/event-schema';
import { encodeMessageV1 } from '@trackstream/event-schema/testing';
import { decodeToRows, MessageRejected, versionOf, type RowsToInsert } from './rows';

test('versionOf: offset * 2^20 + position, exact on both sides of 2^33', () => {
  assert.equal(versionOf('0', 0), '0');
  assert.equal(versionOf('3', 5), String(3 * 2 ** 20 + 5));
  const big = 2n ** 40n + 7n;
  assert.equal(versionOf(big.toString(), 9), ((big << 20n) + 9n).toString());
  const edge = 2n ** 33n - 1n;
  assert.equal(versionOf(edge.toString(), 2 ** 20 - 1), ((edge << 20n) + 2n ** 20n - 1n).toString());
});

const T = Date.UTC(2024, 0, 1);
const logLine = (msg: string, timestamp = T, worker = 'w'): Event => ({ type: 'log', tenant: 't', task: 'x', timestamp, iter: 0, level: 'info', worker, msg });
const scalarEvent: Event = { type: 'training_stats_scalar', tenant: 't', task: 'x', timestamp: T, iter: 1, metric: 'm', variant: 'v', value: 1 };

/** (seq, version) of each log row of the message with `events`, stored at `offset`. */
function logKeys(events: Event[], offset: string, receivedAt = T + 5): Array<{ seq: bigint; version: string }> {
  const decoded = decodeToRows({ partition: 0, offset, key: null, headers: {}, value: encodeMessage({ tenant: 't', task: 'x', receivedAt, events }) });
  assert.equal(decoded.kind, 'events');
  const rows = decoded.kind === 'events' ? decoded.rows : [];
  // Columns: tenant, task, timestamp, iter, level, worker, msg, received_at, version, seq.
  return rows
    .filter((r: RowsToInsert) => r.table === 'logs')
    .flatMap((r) => r.data.toString('utf8').trimEnd().split('\n'))
    .map((line) => {
      const cols = line.split('\t');
      return { seq: BigInt(cols[9] as string), version: cols[8] as string };
    });
}

test('log seq: a resend of the same events (another offset, another receive time) gets the same seqs', () => {
  const batch = [scalarEvent, logLine('a'), logLine('b'), logLine('a')];
  const first = logKeys(batch, '10');
  const again = logKeys(batch, '9000', T + 60_000);
  assert.deepEqual(
    again.map((k) => k.seq),
    first.map((k) => k.seq),
  );
  assert.notDeepEqual(
    again.map((k) => k.version),
    first.map((k) => k.version),
    'the later copy has the higher version',
  );
});

test('log seq: lines of one message ascend in their order, identical lines included; other batches get other seqs', () => {
  const keys = logKeys([logLine('a'), scalarEvent, logLine('a'), logLine('b')], '3').map((k) => k.seq);
  assert.deepEqual(keys, [keys[0], (keys[0] as bigint) + 1n, (keys[0] as bigint) + 2n]);
  assert.ok((keys[2] as bigint) < 2n ** 64n);
  const others = [
    logKeys([logLine('a'), logLine('a'), logLine('c')], '3'),
    logKeys([logLine('a'), logLine('a')], '3'),
    logKeys([logLine('a', T + 1), logLine('a'), logLine('b')], '3'),
    logKeys([logLine('a', T, 'w2'), logLine('a'), logLine('b')], '3'),
  ];
  for (const o of others) assert.notEqual(o[0]?.seq, keys[0]);
});

test('a v2 message becomes the same rows as the same events in v1, by splicing its lines', () => {
  const events: Event[] = [
    scalarEvent,
    { ...scalarEvent, iter: 2, metric: 'tab\there', variant: 'back\\slash', value: NaN },
    { ...scalarEvent, iter: 3, value: -0 },
    { type: 'training_stats_vector', tenant: 't', task: 'x', timestamp: T, iter: 1, metric: 'h', variant: 'v', values: [1, -Infinity, 0.5] },
    { type: 'training_debug_image', tenant: 't', task: 'x', timestamp: T + 1, iter: 1, metric: 'img', variant: 'v', key: 'k', url: 'https://u/1.png' },
    { type: 'plot', tenant: 't', task: 'x', timestamp: T + 2, iter: 1, metric: 'roc', variant: 'v', plot_str: '{"data":[1,2]}\n' },
    logLine('line 1\nline 2'),
    logLine('ünïcode 😀', T + 3),
  ];
  const rows = (value: Buffer) => {
    const d = decodeToRows({ partition: 0, offset: '42', key: null, headers: {}, value });
    assert.equal(d.kind, 'events');
    if (d.kind !== 'events') return [];
    // Without the seq of log lines (the last column), which hashes each version's own bytes.
    return d.rows.flatMap((r) => r.data.toString('utf8').trimEnd().split('\n').map((l) => [r.table, r.table === 'logs' ? l.slice(0, l.lastIndexOf('\t')) : l]));
  };
  const message = { tenant: 't', task: 'x', receivedAt: T + 5, events };
  const fromV2 = rows(encodeMessage(message));
  assert.deepEqual(fromV2, rows(encodeMessageV1(message)));
  assert.equal(fromV2.length, events.length);
  assert.deepEqual(fromV2[1], ['scalars', `t\tx\ttab\\there\tback\\\\slash\t2\tnan\t2024-01-01 00:00:00.000\t2024-01-01 00:00:00.005\t${42 * 2 ** 20 + 1}`]);
});

test('v2: a message whose lines are not what its header says is refused, with the reason', () => {
  const good = encodeMessage({ tenant: 't', task: 'x', receivedAt: T, events: [scalarEvent] });
  const bad = Buffer.concat([good, Buffer.from('extra\n')]);
  assert.throws(
    () => decodeToRows({ partition: 0, offset: '1', key: null, headers: {}, value: bad }),
    (e: unknown) => e instanceof MessageRejected && e.reason === 'invalid-shape',
  );
});
