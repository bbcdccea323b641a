/** The producer's coalescing of concurrent sends (lingerMs), over a fake kafkajs client that records each produce request. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kafka } from 'kafkajs';
import { createLogger } from '@trackstream/runtime';
import { MAX_PRODUCE_BYTES, createProducer, recordBytes, type OutgoingMessage } from './producer';

interface Request {
  topic: string;
  values: string[];
}

/** A kafkajs stand-in: `send` records the request and answers after `ackMs`, or fails when `fail` says so. */
function fakeKafka(opts: { ackMs?: number; fail?: (r: Request) => boolean } = {}): { kafka: Kafka; requests: Request[] } {
  const requests: Request[] = [];
  const producer = {
    events: { CONNECT: 'connect', DISCONNECT: 'disconnect' },
    on: () => undefined,
    connect: async () => undefined,
    disconnect: async () => undefined,
    async send(record: { topic: string; messages: Array<{ value: Buffer }> }) {
      const r = { topic: record.topic, values: record.messages.map((m) => m.value.toString()) };
      requests.push(r);
      await new Promise((resolve) => setTimeout(resolve, opts.ackMs ?? 1));
      if (opts.fail?.(r)) throw new Error('fake broker refuses');
      return [{ topicName: record.topic, partition: 0, errorCode: 0, baseOffset: '0' }];
    },
  };
  return { kafka: { producer: () => producer } as unknown as Kafka, requests };
}

const logger = createLogger({ service: 'test', level: 'silent' });
const msg = (v: string): OutgoingMessage => ({ key: 'k', value: Buffer.from(v) });

test('fake kafkajs: sends within the linger go as one produce request, each caller its messages in order', async () => {
  const { kafka, requests } = fakeKafka();
  const p = createProducer(kafka, { logger, sendTimeoutMs: 1000, compression: 'none', lingerMs: 20 });
  await Promise.all([p.send('t', [msg('a1'), msg('a2')]), p.send('t', [msg('b1')]), p.send('t', [msg('c1'), msg('c2')])]);
  assert.deepEqual(requests, [{ topic: 't', values: ['a1', 'a2', 'b1', 'c1', 'c2'] }]);
  // After the request went out, the next send starts the next one.
  await p.send('t', [msg('d1')]);
  assert.equal(requests.length, 2);
  await p.stop();
});

test('fake kafkajs: linger 0 coalesces the sends of one turn of the event loop', async () => {
  const { kafka, requests } = fakeKafka();
  const p = createProducer(kafka, { logger, sendTimeoutMs: 1000, compression: 'none', lingerMs: 0 });
  await Promise.all([p.send('t', [msg('a')]), p.send('t', [msg('b')])]);
  await p.send('t', [msg('c')]);
  assert.deepEqual(requests.map((r) => r.values), [['a', 'b'], ['c']]);
  await p.stop();
});

test('fake kafkajs: without lingerMs every send is its own request', async () => {
  const { kafka, requests } = fakeKafka();
  const p = createProducer(kafka, { logger, sendTimeoutMs: 1000, compression: 'none' });
  await Promise.all([p.send('t', [msg('a')]), p.send('t', [msg('b')])]);
  assert.equal(requests.length, 2);
  await p.stop();
});

test('fake kafkajs: a failed request fails every send it carried, and no other', async () => {
  const { kafka, requests } = fakeKafka({ fail: (r) => r.values.includes('bad') });
  const p = createProducer(kafka, { logger, sendTimeoutMs: 1000, compression: 'none', lingerMs: 10 });
  const first = [p.send('t', [msg('ok1')]), p.send('t', [msg('bad')])];
  const outcomes = await Promise.allSettled(first);
  assert.deepEqual(outcomes.map((o) => o.status), ['rejected', 'rejected']);
  assert.ok(outcomes.every((o) => o.status === 'rejected' && (o.reason as Error).name === 'ProduceUnavailableError'));
  await p.send('t', [msg('ok2')]);
  assert.deepEqual(requests.map((r) => r.values), [['ok1', 'bad'], ['ok2']]);
  await p.stop();
});

test('fake kafkajs: a request never exceeds MAX_PRODUCE_BYTES, and other topics go in requests of their own', async () => {
  const { kafka, requests } = fakeKafka();
  const p = createProducer(kafka, { logger, sendTimeoutMs: 1000, compression: 'none', lingerMs: 20 });
  const big = (c: string): OutgoingMessage => ({ key: 'k', value: Buffer.alloc(Math.floor(MAX_PRODUCE_BYTES / 2) - 100, c) });
  assert.ok(recordBytes(big('x')) * 2 <= MAX_PRODUCE_BYTES);
  await Promise.all([p.send('t', [big('a')]), p.send('t', [big('b')]), p.send('t', [big('c')]), p.send('u', [msg('other')])]);
  assert.deepEqual(
    requests.map((r) => [r.topic, r.values.map((v) => v[0])]),
    [
      ['t', ['a', 'b']],
      ['t', ['c']],
      ['u', ['o']],
    ],
  );
  await p.stop();
});
