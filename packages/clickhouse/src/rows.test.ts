import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromCHFloat, toCHFloat } from './rows';
import { toCHDateTime64 } from './tsv';

test('non-finite floats travel as ClickHouse strings and come back', () => {
  for (const v of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0.5, 1e308]) {
    const back = fromCHFloat(toCHFloat(v));
    assert.ok(Object.is(back, v) || (Number.isNaN(v) && Number.isNaN(back)), `${v}`);
  }
  assert.equal(toCHFloat(Number.NaN), 'nan');
  assert.equal(toCHFloat(Number.NEGATIVE_INFINITY), '-inf');
});

test('DateTime64(3) text keeps every millisecond', () => {
  assert.equal(toCHDateTime64(1700000000123), '2023-11-14 22:13:20.123');
  assert.equal(toCHDateTime64(5), '1970-01-01 00:00:00.005');
  assert.equal(toCHDateTime64(-5), '1969-12-31 23:59:59.995');
  // The same as ISO text, for times all over the range (the per-minute cache included).
  for (let ms = Date.UTC(1900, 0, 1); ms < Date.UTC(2299, 0, 1); ms += 7_777_777_777 + 123) {
    for (const t of [ms, ms + 1, ms + 59_999, ms + 60_000]) {
      const iso = new Date(t).toISOString();
      assert.equal(toCHDateTime64(t), `${iso.slice(0, 10)} ${iso.slice(11, 23)}`);
    }
  }
});
