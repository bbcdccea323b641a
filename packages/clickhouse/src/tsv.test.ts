import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tsvFloat, tsvFloatArray, tsvInt, tsvLine, tsvString } from './tsv';

test('tsvString escapes what TSV gives a meaning to, and nothing else', () => {
  assert.equal(tsvString('plain "quoted" \'x\' {b} ü 🚀'), 'plain "quoted" \'x\' {b} ü 🚀');
  assert.equal(tsvString('a\tb\nc\\d\re\0f'), 'a\\tb\\nc\\\\d\\re\\0f');
});

test('floats: shortest text, ClickHouse spellings of NaN and infinities', () => {
  assert.equal(tsvFloat(0.1), '0.1');
  assert.equal(tsvFloat(-1e-300), '-1e-300');
  assert.equal(tsvFloat(Number.NaN), 'nan');
  assert.equal(tsvFloat(Number.NEGATIVE_INFINITY), '-inf');
  assert.equal(tsvFloatArray([1, Number.POSITIVE_INFINITY, 2.5]), '[1,inf,2.5]');
  assert.equal(tsvFloatArray([]), '[]');
});

test('integers beyond 2^53 keep their digits when given as text', () => {
  assert.equal(tsvInt('9223372036854775807'), '9223372036854775807');
  assert.equal(tsvInt(-2147483648), '-2147483648');
  assert.equal(tsvInt(2 ** 60), '1152921504606846976');
  assert.equal(tsvLine(['a', 'b']), 'a\tb\n');
});
