import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClickHouseError } from '@clickhouse/client';
import { classifyClickHouseError, isDiskFull, type ClickHouseFailure } from './errors';

const chError = (code: string, message = `code ${code}`) => new ClickHouseError({ message, code });

test('ClickHouse failures are classified by error code', () => {
  const cases: Array<[string, ClickHouseFailure]> = [
    ...['6', '25', '26', '27', '38', '41', '72', '117', '130', '321'].map((code): [string, ClickHouseFailure] => [code, 'bad-rows']),
    ...['60', '81', '159', '202', '209', '210', '236', '241', '243', '279', '394'].map((code): [string, ClickHouseFailure] => [code, 'retriable']),
    // SYNTAX_ERROR, UNKNOWN_IDENTIFIER, TABLE_ALREADY_EXISTS, an unknown code
    ...['62', '47', '57', '99999'].map((code): [string, ClickHouseFailure] => [code, 'statement']),
  ];
  for (const [code, want] of cases) assert.equal(classifyClickHouseError(chError(code)), want, code);
});

test('never by message text', () => {
  assert.equal(classifyClickHouseError(chError('62', 'Cannot parse input: expected tab before: timeout exceeded')), 'statement');
  assert.equal(classifyClickHouseError(chError('27', 'Syntax error')), 'bad-rows');
});

test('no answer from ClickHouse at all is unreachable', () => {
  assert.equal(classifyClickHouseError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' })), 'unreachable');
  assert.equal(classifyClickHouseError(new Error('socket hang up')), 'unreachable');
  assert.equal(classifyClickHouseError('not even an error'), 'unreachable');
});

test('a full disk (NOT_ENOUGH_SPACE) is told apart, by code only', () => {
  assert.equal(isDiskFull(chError('243', 'Cannot reserve 1.00 MiB, not enough space')), true);
  assert.equal(isDiskFull(chError('241', 'not enough space')), false);
  assert.equal(isDiskFull(new Error('Code: 243')), false);
});
