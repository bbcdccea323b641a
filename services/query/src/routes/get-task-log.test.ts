import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '@trackstream/api';
import { MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS } from '@trackstream/event-schema';
import { BOUNDARY_LINES, completePage, pageStart } from './get-task-log';

test('pageStart: no from_timestamp (or 0) reads from the end or the start', () => {
  for (const none of [undefined, null, 0]) {
    assert.equal(pageStart(none, true), 'all');
    assert.equal(pageStart(none, false), 'all');
  }
});

test('pageStart: a whole ms bounds the page; a fraction rounds away from the lines already seen', () => {
  const t = Date.UTC(2024, 0, 1);
  assert.equal(pageStart(t, true), t);
  assert.equal(pageStart(t, false), t);
  // Earlier: lines < 1000.5 are those < 1001; later: lines > 1000.5 are those > 1000.
  assert.equal(pageStart(t + 0.5, true), t + 1);
  assert.equal(pageStart(t + 0.5, false), t);
  assert.equal(pageStart(-5.5, true), -5);
});

test('pageStart: bounds beyond the stored range read all or nothing; NaN is a 400/12', () => {
  for (const high of [MAX_TIMESTAMP_MS + 1, 1e300, Infinity]) {
    assert.equal(pageStart(high, true), 'all');
    assert.equal(pageStart(high, false), 'none');
  }
  for (const low of [MIN_TIMESTAMP_MS, -1e300, -Infinity]) {
    assert.equal(pageStart(low, true), 'none');
  }
  for (const low of [MIN_TIMESTAMP_MS - 1, -1e300, -Infinity]) {
    assert.equal(pageStart(low, false), 'all');
  }
  assert.equal(pageStart(MAX_TIMESTAMP_MS, true), MAX_TIMESTAMP_MS);
  assert.equal(pageStart(MAX_TIMESTAMP_MS, false), 'none');
  assert.throws(() => pageStart(NaN, true), (e: unknown) => e instanceof ApiError && e.status === 400 && e.subcode === 12);
});

const line = (ts: number, seq: number) => ({ ts: String(ts), seq: String(seq) });

test('completePage: a page ends with every line of its last millisecond', () => {
  const page = [line(5, 1), line(4, 9), line(4, 8)];
  const rest = [line(4, 7), line(4, 1)];
  assert.deepEqual(completePage(page, rest), [...page, ...rest]);
  assert.deepEqual(completePage(page, []), page);
});

test('completePage: a last millisecond too full to finish is left to the next page, unless it is the whole page', () => {
  const crowded = Array.from({ length: BOUNDARY_LINES + 1 }, (_, i) => line(4, 1000 - i));
  assert.deepEqual(completePage([line(6, 1), line(5, 1), line(4, 2000)], crowded), [line(6, 1), line(5, 1)]);
  const alone = [line(4, 3000), line(4, 2999)];
  assert.deepEqual(completePage(alone, crowded), [...alone, ...crowded.slice(0, BOUNDARY_LINES)]);
});
