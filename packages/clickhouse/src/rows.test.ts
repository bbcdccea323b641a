import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromCHFloat } from './rows';
import { toCHDateTime64 } from './tsv';

test('fromCHFloat reads the non-finite floats ClickHouse writes as strings, and plain numbers', () => {
  assert.ok(Number.isNaN(fromCHFloat('nan')));
  assert.ok(Number.isNaN(fromCHFloat(null)));
  assert.equal(fromCHFloat('inf'), Number.POSITIVE_INFINITY);
  assert.equal(fromCHFloat('-inf'), Number.NEGATIVE_INFINITY);
  for (const v of [0, -0.5, 1e308]) assert.equal(fromCHFloat(v), v);
  assert.equal(fromCHFloat('-0.5'), -0.5);
});

test('DateTime64(3) text keeps every millisecond', () => {
  assert.equal(toCHDateTime64(1700000000123), '2023-11-14 22:13:20.123');
  assert.equal(toCHDateTime64(5), '1970-01-01 00:00:00.005');
  assert.equal(toCHDateTime64(-5), '1969-12-31 23:59:59.995');
  // The same as ISO text, for times all over the range.
  for (let ms = Date.UTC(1900, 0, 1); ms < Date.UTC(2299, 0, 1); ms += 7_777_777_777 + 123) {
    for (const t of [ms, ms + 1, ms + 59_999, ms + 60_000]) {
      const iso = new Date(t).toISOString();
      assert.equal(toCHDateTime64(t), `${iso.slice(0, 10)} ${iso.slice(11, 23)}`);
    }
  }
});
