import { test } from 'node:test';
import assert from 'node:assert/strict';
import { versionOf } from './rows';

test('versionOf: offset * 2^20 + position, exact on both sides of 2^33', () => {
  assert.equal(versionOf('0', 0), '0');
  assert.equal(versionOf('3', 5), String(3 * 2 ** 20 + 5));
  const big = 2n ** 40n + 7n;
  assert.equal(versionOf(big.toString(), 9), ((big << 20n) + 9n).toString());
  const edge = 2n ** 33n - 1n;
  assert.equal(versionOf(edge.toString(), 2 ** 20 - 1), ((edge << 20n) + 2n ** 20n - 1n).toString());
});
