import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '@trackstream/api';
import { asctime, compileLineFormat, type LogLine } from './line-format';

const isValidation = (e: unknown): boolean => e instanceof ApiError && e.status === 400 && e.subcode === 12;
const line: LogLine = { timestamp: Date.UTC(2024, 0, 2, 3, 4, 5, 6), level: 'warning', worker: 'gpu-1', msg: 'loss {nan} 100%' };

test('asctime is UTC with comma milliseconds', () => {
  assert.equal(asctime(Date.UTC(2024, 0, 2, 3, 4, 5, 6)), '2024-01-02 03:04:05,006');
  assert.equal(asctime(0), '1970-01-01 00:00:00,000');
  assert.equal(asctime(Date.UTC(1999, 11, 31, 23, 59, 59, 999)), '1999-12-31 23:59:59,999');
});

test('placeholders render, escapes are literal braces, one trailing newline', () => {
  const cases: Array<[string, string]> = [
    ['{asctime} {worker} {level} {msg}', '2024-01-02 03:04:05,006 gpu-1 warning loss {nan} 100%\n'],
    ['{timestamp}', `${line.timestamp}\n`],
    ['[{level}] {msg}\n', '[warning] loss {nan} 100%\n'],
    ['{msg}\n\n\n', 'loss {nan} 100%\n'],
    ['{{literal}} {{{level}}} }}', '{literal} {warning} }\n'],
    ['{{{msg}', '{loss {nan} 100%\n'],
    ['msg level', 'msg level\n'],
    ['{msg}{msg}', 'loss {nan} 100%loss {nan} 100%\n'],
    ['ünï {worker} 🚀', 'ünï gpu-1 🚀\n'],
  ];
  for (const [format, expected] of cases) assert.equal(compileLineFormat(format)(line), expected, format);
});

test('any other placeholder, a format spec or a lone brace is 400/12', () => {
  for (const format of ['{host}', '{}', '{0}', '{msg!r}', '{msg:>10}', '{ msg}', '{MSG}', '{msg', 'a } b', '{level}}', '{{{msg}}', '{asctime.year}']) {
    assert.throws(() => compileLineFormat(format), isValidation, format);
  }
});
