import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorEnvelope, newRequestId, successEnvelope } from './envelope';
import * as E from './errors';

test('error catalogue: status, subcode, message', () => {
  const cases: Array<[E.ApiError, number, number, string | RegExp, boolean?]> = [
    [E.invalidPath(), 400, 0, 'Invalid request path'],
    [E.invalidPath('/foo'), 400, 0, 'Invalid request path: /foo'],
    [E.missingFields(['task']), 400, 11, 'Missing required fields: missing=(task)'],
    [E.missingFields(['task', 'iters']), 400, 11, 'Missing required fields: missing=(task, iters)'],
    [E.validation('iters must be integer'), 400, 12, 'Validation error: iters must be integer'],
    [E.validation(), 400, 12, 'Validation error'],
    [E.noEvents(), 400, 17, /^Batch contains no items/],
    [E.invalidTaskId('bad\u0000id'), 400, 101, 'Invalid task id: id=bad?id'],
    [E.eventsNotAdded({ "Event must have a 'type' field": 2, 'Invalid task id ': 1 }), 400, 131, "Events not added: Event must have a 'type' field=2, Invalid task id =1"],
    [E.invalidScrollId(), 400, 1104, /^Invalid scroll id/],
    [E.noCredentials(), 401, 20, /missing credentials/],
    [E.badCredentials(), 401, 21, /malformed credentials/],
    [E.unknownCredentials(), 401, 22, /invalid credentials/],
    [E.notFound('endpoint events.nope'), 404, 0, 'Not found: endpoint events.nope'],
    [E.payloadTooLarge(1024), 413, 0, /1024 bytes/],
    [E.unavailable('kafka', 3), 503, 0, 'Service unavailable: kafka', true],
    [E.internal(new Error('x')), 500, 0, 'Internal server error'],
  ];
  for (const [err, status, subcode, msg, retriable] of cases) {
    assert.ok(err instanceof E.ApiError && err instanceof Error);
    assert.equal(err.status, status, err.message);
    assert.equal(err.code, status, err.message);
    assert.equal(err.subcode, subcode, err.message);
    if (typeof msg === 'string') assert.equal(err.message, msg);
    else assert.match(err.message, msg);
    assert.equal(err.retriable, retriable ?? false, err.message);
  }
  assert.equal(E.unavailable('kafka', 3).retryAfterSec, 3);
  assert.equal(E.unavailable('clickhouse').retryAfterSec, 5);
  assert.deepEqual(E.eventsNotAdded({ a: 1 }).data, { errors_info: { a: 1 } });
  const cause = new Error('root');
  assert.equal(E.internal(cause).cause, cause);
  assert.equal(E.toApiError(cause).status, 500);
  const known = E.noEvents();
  assert.equal(E.toApiError(known), known);
  assert.ok(E.invalidTaskId('x'.repeat(10_000)).message.length < 300);
});

test('envelopes: success and error', () => {
  const ctx = { id: newRequestId(), trx: 't', endpoint: { name: 'events.add', requested_version: '2.23', actual_version: '2.1' } };
  assert.deepEqual(successEnvelope(ctx, { added: 1 }), {
    meta: { id: ctx.id, trx: 't', endpoint: ctx.endpoint, result_code: 200, result_subcode: 0, result_msg: 'OK', error_stack: null, error_data: {} },
    data: { added: 1 },
  });
  const err = errorEnvelope(ctx, E.eventsNotAdded({ r: 2 }));
  assert.deepEqual(err.data, {});
  assert.equal(err.meta.result_code, 400);
  assert.equal(err.meta.result_subcode, 131);
  assert.deepEqual(err.meta.error_data, { errors_info: { r: 2 } });
});

test('request ids: 32 hex, unique across the random pool refills', () => {
  const ids = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const id = newRequestId();
    assert.match(id, /^[0-9a-f]{32}$/);
    ids.add(id);
  }
  assert.equal(ids.size, 5000);
});
