/** retry with tiny real delays: every assertion holds however slow the machine is. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Logger } from './logger';
import { logRetries, retry, type RetryAttempt } from './retry';

class FakeFailure extends Error {
  constructor(readonly attempt: number) {
    super(`attempt ${attempt} failed`);
  }
}

/** A task that fails its first `failures` attempts, then returns 'done'; `calls` counts attempts. */
function flakyTask(failures: number): { run: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    run: async () => {
      calls++;
      if (calls <= failures) throw new FakeFailure(calls);
      return 'done';
    },
    calls: () => calls,
  };
}

test('retries until it succeeds, the wait doubling from the initial delay up to the maximum', async () => {
  const task = flakyTask(5);
  const seen: RetryAttempt[] = [];
  const result = await retry(task.run, { initialDelayMs: 1, maxDelayMs: 4, onRetry: (a) => void seen.push(a) });
  assert.equal(result, 'done');
  assert.equal(task.calls(), 6);
  assert.deepEqual(
    seen.map((a) => [a.attempt, a.delayMs, (a.error as FakeFailure).attempt]),
    [
      [1, 1, 1],
      [2, 2, 2],
      [3, 4, 3],
      [4, 4, 4],
      [5, 4, 5],
    ],
  );
});

test('a first success runs once and never calls onRetry', async () => {
  const task = flakyTask(0);
  let retries = 0;
  assert.equal(await retry(task.run, { onRetry: () => void retries++ }), 'done');
  assert.equal(task.calls(), 1);
  assert.equal(retries, 0);
});

test('an error that is not retriable is thrown at once', async () => {
  const task = flakyTask(3);
  let retries = 0;
  await assert.rejects(
    retry(task.run, { initialDelayMs: 1, retriable: (e) => !(e instanceof FakeFailure), onRetry: () => void retries++ }),
    (e: unknown) => e instanceof FakeFailure && e.attempt === 1,
  );
  assert.equal(task.calls(), 1);
  assert.equal(retries, 0);
});

test('an error thrown by onRetry ends the retrying with that error', async () => {
  const task = flakyTask(10);
  const stop = new Error('stopping');
  await assert.rejects(
    retry(task.run, {
      initialDelayMs: 1,
      onRetry: ({ attempt }) => {
        if (attempt === 3) throw stop;
      },
    }),
    stop,
  );
  assert.equal(task.calls(), 3);
});

test('onRetry is awaited before the wait and the next attempt (a heartbeat between attempts)', async () => {
  const task = flakyTask(2);
  const events: string[] = [];
  const run = async (): Promise<string> => {
    events.push('attempt');
    return task.run();
  };
  await retry(run, {
    initialDelayMs: 1,
    onRetry: async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      events.push('heartbeat');
    },
  });
  assert.deepEqual(events, ['attempt', 'heartbeat', 'attempt', 'heartbeat', 'attempt']);
});

test('with a timeout, gives up with the last error rather than wait past it', async () => {
  const task = flakyTask(Number.POSITIVE_INFINITY);
  const started = Date.now();
  await assert.rejects(retry(task.run, { initialDelayMs: 60_000, timeoutMs: 100 }), (e: unknown) => e instanceof FakeFailure && e.attempt === 1);
  assert.ok(Date.now() - started < 5000, 'no 60 s wait was started');
  assert.equal(task.calls(), 1);
});

test('with a timeout, retries within it and then throws the last attempt’s error', async () => {
  const task = flakyTask(Number.POSITIVE_INFINITY);
  await assert.rejects(retry(task.run, { initialDelayMs: 5, maxDelayMs: 5, timeoutMs: 40 }), (e: unknown) => e instanceof FakeFailure && e.attempt === task.calls());
  assert.ok(task.calls() >= 2, `${task.calls()} attempts`);
});

test('aborting cuts the wait short and throws the last error', async () => {
  const task = flakyTask(Number.POSITIVE_INFINITY);
  const controller = new AbortController();
  const started = Date.now();
  const running = retry(task.run, { initialDelayMs: 60_000, signal: controller.signal });
  setTimeout(() => controller.abort(), 20);
  await assert.rejects(running, (e: unknown) => e instanceof FakeFailure && e.attempt === 1);
  assert.ok(Date.now() - started < 5000, 'the 60 s wait was cut short');
  assert.equal(task.calls(), 1);
});

test('an aborted signal allows the one attempt, and no retry', async () => {
  const controller = new AbortController();
  controller.abort();
  const failing = flakyTask(1);
  await assert.rejects(retry(failing.run, { initialDelayMs: 1, signal: controller.signal }), FakeFailure);
  assert.equal(failing.calls(), 1);
  assert.equal(await retry(flakyTask(0).run, { signal: controller.signal }), 'done');
});

test('logRetries logs each failure at warn, with the attempt and the wait', () => {
  const lines: Array<{ fields: Record<string, unknown>; msg: string }> = [];
  const fakeLogger = { warn: (fields: Record<string, unknown>, msg: string) => lines.push({ fields, msg }) } as unknown as Logger;
  const error = new FakeFailure(2);
  logRetries(fakeLogger, 'Kafka topics')({ attempt: 2, error, delayMs: 500 });
  assert.deepEqual(lines, [{ fields: { err: error, attempt: 2, retryInMs: 500 }, msg: 'Kafka topics failed; retrying' }]);
});
