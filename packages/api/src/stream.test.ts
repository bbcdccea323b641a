import { test } from 'node:test';
import assert from 'node:assert/strict';
import { objectEndpoint } from './endpoint';
import { chainChunks, streamedEnvelope } from './stream';
import { startApp } from './test-support';

/** An async source of chunks that records whether it was closed. */
function source(chunks: string[], failAt = -1) {
  const state = { closed: false, pulled: 0 };
  const it: AsyncIterableIterator<string> = {
    [Symbol.asyncIterator]: () => it,
    async next() {
      if (state.pulled === failAt) throw new Error('source failed');
      const value = chunks[state.pulled++];
      return value === undefined ? { done: true, value: undefined } : { done: false, value };
    },
    async return() {
      state.closed = true;
      return { done: true, value: undefined };
    },
  };
  return { it, state };
}

async function collect(it: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const c of it) out += c;
  return out;
}

test('chainChunks: head, every body chunk, then the tail computed after the body', async () => {
  const { it } = source(['a', 'b', 'c']);
  let seenBeforeTail = '';
  let text = '';
  for await (const c of chainChunks('[', it, () => `]${seenBeforeTail.length}`)) {
    text += c;
    seenBeforeTail = text;
  }
  assert.equal(text, '[abc]4');
  assert.equal(await collect(chainChunks('{', source([]).it, async () => '}')), '{}');
});

test('chainChunks: ending it early closes the body, even before the first chunk', async () => {
  const unstarted = source(['a']);
  await chainChunks('h', unstarted.it, () => 't').return?.();
  assert.equal(unstarted.state.closed, true);
  assert.equal(unstarted.state.pulled, 0);

  const midway = source(['a', 'b', 'c']);
  for await (const c of chainChunks('h', midway.it, () => 't')) if (c === 'a') break;
  assert.equal(midway.state.closed, true);
  assert.equal(midway.state.pulled, 1);
});

test('chainChunks: a failing body fails the stream and ends it', async () => {
  const failing = source(['a', 'b'], 1);
  const chain = chainChunks('h', failing.it, () => 't');
  await assert.rejects(collect(chain), /source failed/);
  assert.deepEqual(await chain.next(), { done: true, value: undefined });
});

test('streamedEnvelope: the same envelope as a built answer, data streamed in', async () => {
  const data = { x: [1, NaN, -Infinity], name: 'a"b' };
  const app = await startApp({
    endpoints: [
      objectEndpoint({ name: 'events.built', versions: [{ version: '2.16', handle: async () => data }] }),
      objectEndpoint({
        name: 'events.streamed',
        versions: [{ version: '2.16', handle: async (ctx) => streamedEnvelope(ctx, source(['{"x":[1,', 'NaN,-Infinity],', '"name":"a\\"b"}']).it) }],
      }),
    ],
  });
  try {
    const built = await app.send({ path: '/v2.20/events.built', headers: { 'x-clearml-trx': 'trx-1' } });
    const streamed = await app.send({ path: '/v2.20/events.streamed', headers: { 'x-clearml-trx': 'trx-1' } });
    assert.equal(streamed.status, 200);
    assert.equal(streamed.headers['content-type'], 'application/json; charset=utf-8');
    const a = built.json<{ meta: Record<string, unknown>; data: unknown }>();
    const b = streamed.json<{ meta: Record<string, unknown>; data: unknown }>();
    assert.deepEqual(b.data, data);
    // Everything but the request id and the endpoint's name is the same.
    assert.deepEqual({ ...b.meta, id: 0, endpoint: { ...(b.meta['endpoint'] as object), name: 0 } }, { ...a.meta, id: 0, endpoint: { ...(a.meta['endpoint'] as object), name: 0 } });
    assert.deepEqual(b.meta['endpoint'], { name: 'events.streamed', requested_version: '2.20', actual_version: '2.16' });
    assert.match(String(b.meta['id']), /^[0-9a-f]{32}$/);
  } finally {
    await app.close();
  }
});
