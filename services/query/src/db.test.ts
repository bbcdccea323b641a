import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, RequestAbortedError } from '@trackstream/api';
import { ClickHouseError } from '@trackstream/clickhouse';
import { classify } from './db';

const live = new AbortController().signal;
const chError = (code: string) => new ClickHouseError({ message: `code ${code}`, code });
const is503 = (e: unknown): boolean => e instanceof ApiError && e.status === 503 && e.retryAfterSec !== undefined;

test('store failures: busy, unreachable or not yet migrated is 503; a bad statement stays a bug', () => {
  for (const code of ['60', '81', '159', '202', '209', '210', '241']) assert.ok(is503(classify(chError(code), live)), code);
  for (const code of ['62', '47', '130']) assert.ok(classify(chError(code), live) instanceof ClickHouseError, code);
  assert.ok(is503(classify(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), live)));
});

test('a request that went away keeps its own reason', () => {
  const c = new AbortController();
  const reason = new RequestAbortedError();
  c.abort(reason);
  assert.equal(classify(chError('394'), c.signal), reason);
  assert.equal(classify(new Error('aborted'), c.signal), reason);
});
