import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clampIteration } from './samples';

test('a requested iteration beyond Int64 is clamped to its ends; fractions are cut', () => {
  assert.equal(clampIteration(5), 5n);
  assert.equal(clampIteration(-7.9), -7n);
  assert.equal(clampIteration(1e300), 2n ** 63n - 1n);
  assert.equal(clampIteration(-1e300), -(2n ** 63n));
  assert.equal(clampIteration(2 ** 63), 2n ** 63n - 1n);
  assert.equal(clampIteration(-(2 ** 63)), -(2n ** 63n));
});
