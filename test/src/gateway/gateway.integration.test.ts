/** The gateway on the real local Kafka: what it accepts is in Kafka, decodable by the writer's codec. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeTopicMessage, type TopicMessage } from '@trackstream/event-schema';
import { Kafka, logLevel } from 'kafkajs';
import { waitFor } from '@trackstream/local-stack';
import { startPipeline, uniqueName, type Pipeline } from '../helpers/pipeline';

/**
 * Reads the pipeline's events topic from the beginning until `atLeast` messages arrived, or
 * until `done` says the messages it waits for are there.
 */
async function readTopic(p: Pipeline, atLeast: number, done: (m: TopicMessage[]) => boolean = () => true): Promise<TopicMessage[]> {
  const kafka = new Kafka({ clientId: 'gateway-test', brokers: [p.stack.kafkaBrokers], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: uniqueName('reader') });
  const out: TopicMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: `${p.config.kafkaTopicPrefix}.events`, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void out.push(decodeTopicMessage(message.value)) });
    await waitFor(() => out.length >= atLeast && done(out), { timeoutMs: 30_000, what: `${atLeast} messages` });
  } finally {
    await consumer.disconnect();
  }
  return out;
}

const scalar = (task: string, iter: number, value: number, extra: Record<string, unknown> = {}) => ({
  type: 'training_stats_scalar',
  task,
  iter,
  metric: 'loss',
  variant: 'train',
  value,
  timestamp: 1_700_000_000_000 + iter,
  allow_locked: true,
  model_event: false,
  ...extra,
});

let p: Pipeline;
before(async () => {
  p = await startPipeline({ writer: false, env: { GATEWAY_PRODUCE_TIMEOUT_MS: '3000' } });
});
after(async () => {
  await p.stop();
});

test('accepted events are in Kafka, grouped by task, and decode with the shared codec', async () => {
  const events = [scalar('task-a', 1, 0.5), scalar('task-b', 1, 1.5), scalar('task-a', 2, Number.NaN), { type: 'log', task: 'task-a', msg: 'hi' }];
  const body = events.map((e) => JSON.stringify(e).replace('null', 'NaN')).join('\n');
  const r = await p.call('events.add_batch', body, { headers: { 'content-type': 'application/json-lines', 'x-clearml-worker': 'gpu-7' }, version: '2.23' });
  assert.equal(r.status, 200);
  assert.deepEqual(r.data, { added: 4, errors: 0, errors_info: {} });
  assert.equal(r.meta.endpoint['requested_version'], '2.23');
  assert.equal(r.meta.endpoint['actual_version'], '2.22', 'the highest version at or below the requested one');
  const messages = await readTopic(p, 2);
  assert.equal(messages.length, 2, 'one message per task');
  const a = messages.find((m) => m.task === 'task-a');
  assert.ok(a && a.kind === 'events');
  assert.equal(a.tenant, 'default');
  assert.deepEqual(
    a.events.map((e) => e.type),
    ['training_stats_scalar', 'training_stats_scalar', 'log'],
  );
  const nan = a.events[1];
  assert.ok(nan?.type === 'training_stats_scalar' && Number.isNaN(nan.value), 'NaN survives the trip');
  const log = a.events[2];
  assert.ok(log?.type === 'log' && log.worker === 'gpu-7' && log.level === 'info');
});

test('a mixed batch stores the good events and counts the bad under their reasons', async () => {
  const lines = [
    JSON.stringify(scalar('mixed', 1, 1)),
    '{not json',
    JSON.stringify({ type: 'nope', task: 'mixed' }),
    JSON.stringify({ task: 'mixed' }),
    JSON.stringify({ type: 'log' }),
    JSON.stringify({ type: 'log', task: '' }),
    JSON.stringify(scalar('mixed', 2, 2, { iter: 1e20 })),
    JSON.stringify(scalar('mixed', 3, 2, { value: 'high' })),
    JSON.stringify(scalar('mixed', 4, 4)),
  ].join('\n');
  const r = await p.call('events.add_batch', lines, { headers: { 'content-type': 'application/json-lines' } });
  assert.equal(r.status, 200);
  assert.equal(r.data.added, 2);
  assert.equal(r.data.errors, 7);
  assert.deepEqual(r.data.errors_info, {
    'Validation error: invalid JSON': 1,
    'Invalid event type nope': 1,
    "Event must have a 'type' field": 1,
    "Event must have a 'task' field": 1,
    'Invalid task id ': 1,
    'Iteration number should not exceed 9223372036854775807': 1,
    'Validation error: value must be number': 1,
  });
  const all = await readTopic(p, 3);
  const mixed = all.filter((m) => m.task === 'mixed');
  assert.deepEqual(
    mixed.flatMap((m) => (m.kind === 'events' ? m.events.map((e) => e.iter) : [])),
    [1, 4],
  );
});

test('nothing accepted: 400/131 with the reasons; no events: 400/17', async () => {
  const r = await p.call('events.add_batch', '{"type":"bogus","task":"x"}\n', { headers: { 'content-type': 'application/json-lines' } });
  assert.equal(r.status, 400);
  assert.equal(r.meta.result_subcode, 131);
  assert.match(r.meta.result_msg, /Invalid event type bogus=1/);
  const empty = await p.call('events.add_batch', '\n\n', { headers: { 'content-type': 'application/json-lines' } });
  assert.equal(empty.status, 400);
  assert.equal(empty.meta.result_subcode, 17);
});

test('events.add takes one event; gzip bodies are accepted', async () => {
  const r = await p.call('events.add', scalar('single', 7, 0.25), { gzip: true });
  assert.equal(r.status, 200);
  assert.equal(r.data['added'], 1);
});

test('the SDK way: GET with a json-lines body', async () => {
  const body = `${JSON.stringify(scalar('sdk-get', 1, 3))}\n`;
  const { status, json } = await new Promise<{ status: number; json: { data: { added: number } } }>((resolve, reject) => {
    const req = request(`${p.url}/v2.23/events.add_batch`, { method: 'GET', headers: { 'content-type': 'application/json-lines', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as { data: { added: number } } }));
    });
    req.on('error', reject);
    req.end(body);
  });
  assert.equal(status, 200);
  assert.equal(json.data.added, 1);
});

test('Kafka stopped: 503 with Retry-After and nothing counted; after its restart, 200', async () => {
  await p.stack.stop('kafka');
  try {
    const t0 = Date.now();
    const r = await p.addBatch([scalar('outage', 1, 1)]);
    assert.equal(r.status, 503);
    assert.equal(r.meta.result_code, 503);
    assert.ok(Number(r.headers.get('retry-after')) > 0, 'Retry-After header');
    assert.ok(Date.now() - t0 < 15_000, 'answered within a bounded time');
  } finally {
    await p.stack.start('kafka');
  }
  const ok = await waitFor(
    async () => {
      const r = await p.addBatch([scalar('outage', 2, 2)]);
      return r.status === 200 ? r : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 500, what: 'the gateway to accept again' },
  );
  assert.equal(ok.data.added, 1);
  const isOutage2 = (m: TopicMessage): boolean => m.task === 'outage' && m.kind === 'events' && m.events.some((e) => e.iter === 2);
  const after = (await readTopic(p, 1, (all) => all.some(isOutage2))).filter((m) => m.task === 'outage');
  assert.deepEqual(
    after.flatMap((m) => (m.kind === 'events' ? m.events.map((e) => e.iter) : [])),
    [2],
    'the refused event never reached Kafka',
  );
});

test('auth on: the 401 codes, Basic and Bearer, and each event carries its tenant', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keys-'));
  const keys = join(dir, 'keys.json');
  writeFileSync(keys, JSON.stringify([{ access_key: 'AK1', secret_key: 'S1', tenant: 'acme' }, { access_key: 'AK2', secret_key: 'S2', tenant: 'globex' }]));
  const q = await startPipeline({ writer: false, env: { AUTH_ENABLED: 'true', AUTH_KEYS_FILE: keys, AUTH_TOKEN_SECRET: 'test-secret-0123456789' } });
  try {
    const basic = (k: string, s: string) => `Basic ${Buffer.from(`${k}:${s}`).toString('base64')}`;
    const none = await q.addBatch([scalar('t', 1, 1)]);
    assert.deepEqual([none.status, none.meta.result_subcode], [401, 20]);
    const garbled = await q.addBatch([scalar('t', 1, 1)], { headers: { authorization: 'Basic !!!' } });
    assert.deepEqual([garbled.status, garbled.meta.result_subcode], [401, 21]);
    const wrong = await q.addBatch([scalar('t', 1, 1)], { headers: { authorization: basic('AK1', 'nope') } });
    assert.deepEqual([wrong.status, wrong.meta.result_subcode], [401, 22]);
    const ok = await q.addBatch([scalar('shared-task', 1, 1)], { headers: { authorization: basic('AK1', 'S1') } });
    assert.equal(ok.status, 200);
    const login = await q.call<{ token: string }>('auth.login', {}, { headers: { authorization: basic('AK2', 'S2') } });
    assert.equal(login.status, 200);
    const claims = JSON.parse(Buffer.from(login.data.token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
    assert.equal(claims['tenant'], 'globex');
    // The highest events version served: the SDK then picks its highest bundled module below it.
    assert.equal(claims['api_version'], '2.30');
    const bearer = await q.addBatch([scalar('shared-task', 1, 2)], { headers: { authorization: `Bearer ${login.data.token}` } });
    assert.equal(bearer.status, 200);
    const messages = await readTopic(q, 2);
    assert.deepEqual(messages.map((m) => m.tenant).sort(), ['acme', 'globex']);
  } finally {
    await q.stop();
  }
});

test('auth off: any credentials work, auth.login answers for the default tenant', async () => {
  const login = await p.call<{ token: string }>('auth.login', {}, { headers: { authorization: `Basic ${Buffer.from('x:y').toString('base64')}` } });
  assert.equal(login.status, 200);
  const r = await p.addBatch([scalar('any', 1, 1)], { headers: { authorization: `Bearer ${login.data.token}` } });
  assert.equal(r.status, 200);
});
