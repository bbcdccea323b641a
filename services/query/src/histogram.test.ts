import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tsvFields } from './histogram';

test('tsvFields: rows of views into the body, empty fields kept, the last line with or without its newline', () => {
  const body = Buffer.from('"a"\t1\t\n"é"\t22\tx,y\n"c"\t3\tz');
  const rows = tsvFields(body, 3).map((r) => r.map((f) => f.toString('utf8')));
  assert.deepEqual(rows, [
    ['"a"', '1', ''],
    ['"é"', '22', 'x,y'],
    ['"c"', '3', 'z'],
  ]);
  assert.equal(tsvFields(body, 3)[1]?.[2]?.buffer, body.buffer, 'fields are views, not copies');
  assert.deepEqual(tsvFields(Buffer.alloc(0), 3), []);
});

test('tsvFields: a row with too few or too many fields is an error, not a shifted row', () => {
  assert.throws(() => tsvFields(Buffer.from('a\tb\n'), 3), /fields are not 3/);
  assert.throws(() => tsvFields(Buffer.from('a\tb\tc\td\n'), 3), /fields are not 3/);
});
