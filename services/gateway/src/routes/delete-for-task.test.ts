/** events.delete_for_task's wait for the writer, with a fake publisher and a fake ClickHouse client. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, type RequestContext } from '@trackstream/api';
import type { ClickHouseClient } from '@trackstream/clickhouse';
import { ProduceUnavailableError } from '@trackstream/kafka';
import type { Publisher } from '../publisher';
import { deleteForTaskEndpoint } from './delete-for-task';

const TASK = '0123456789abcdef0123456789abcdef';

/** A client whose n-th poll (1-based) of task_deletions answers `poll(n)`: rows, or an error to throw. */
function fakeClickHouse(poll: (n: number) => Array<{ deleted: string }> | Error): { client: ClickHouseClient; polls: () => number } {
  let n = 0;
  const client = {
    async query() {
      const answer = poll(++n);
      if (answer instanceof Error) throw answer;
      return { json: async () => answer };
    },
  } as unknown as ClickHouseClient;
  return { client, polls: () => n };
}

const fakePublisher = (fail = false) => ({ send: async () => (fail ? Promise.reject(new ProduceUnavailableError('down')) : []) }) as unknown as Publisher;

function deleteTask(client: ClickHouseClient, opts: { timeoutMs?: number; signal?: AbortSignal; publisher?: Publisher } = {}): Promise<unknown> {
  const endpoint = deleteForTaskEndpoint({ publisher: opts.publisher ?? fakePublisher(), clickhouse: client, database: 'db', timeoutMs: opts.timeoutMs ?? 5000, retryAfterSec: 2 });
  const ctx = { tenant: 'default', signal: opts.signal ?? new AbortController().signal } as RequestContext;
  return (endpoint.versions[0] as (typeof endpoint.versions)[number]).handle(ctx, { task: TASK });
}

const is503 = (e: unknown): boolean => e instanceof ApiError && e.status === 503 && e.retryAfterSec === 2;

test('fake ClickHouse: polls until the writer recorded the count, an unreachable ClickHouse waited out', async () => {
  const ch = fakeClickHouse((n) => (n === 1 ? new Error('ECONNREFUSED') : n < 4 ? [] : [{ deleted: '7' }]));
  assert.deepEqual(await deleteTask(ch.client), { deleted: 7 });
  assert.equal(ch.polls(), 4);
});

test('fake ClickHouse: no count by the timeout is 503 with Retry-After, answered in time', async () => {
  const ch = fakeClickHouse(() => []);
  const started = Date.now();
  await assert.rejects(deleteTask(ch.client, { timeoutMs: 300 }), (e: unknown) => is503(e) && /not carried it out yet/.test((e as Error).message));
  assert.ok(Date.now() - started < 3000, `answered after ${Date.now() - started} ms`);
  assert.ok(ch.polls() >= 2, `${ch.polls()} polls`);
});

test('fake ClickHouse: a request that ends stops the polling', async () => {
  const ch = fakeClickHouse(() => []);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);
  const started = Date.now();
  await assert.rejects(deleteTask(ch.client, { timeoutMs: 60_000, signal: controller.signal }), is503);
  assert.ok(Date.now() - started < 3000, `stopped after ${Date.now() - started} ms`);
});

test('Kafka unavailable: 503 and nothing polled', async () => {
  const ch = fakeClickHouse(() => []);
  await assert.rejects(deleteTask(ch.client, { publisher: fakePublisher(true) }), (e: unknown) => is503(e) && /nothing was deleted/.test((e as Error).message));
  assert.equal(ch.polls(), 0);
});
