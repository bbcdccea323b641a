import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '@trackstream/api';
import { clampIteration, stepCandidates, type ImageSampleState, type VariantState } from './samples';

test('a requested iteration beyond Int64 is clamped to its ends; fractions are cut', () => {
  assert.equal(clampIteration(5), 5n);
  assert.equal(clampIteration(-7.9), -7n);
  assert.equal(clampIteration(1e300), 2n ** 63n - 1n);
  assert.equal(clampIteration(-1e300), -(2n ** 63n));
  assert.equal(clampIteration(2 ** 63), 2n ** 63n - 1n);
  assert.equal(clampIteration(-(2 ** 63)), -(2n ** 63n));
  assert.equal(clampIteration(Number.POSITIVE_INFINITY), 2n ** 63n - 1n);
  assert.equal(clampIteration(Number.NEGATIVE_INFINITY), -(2n ** 63n));
  assert.throws(() => clampIteration(Number.NaN), (e: unknown) => e instanceof ApiError && e.status === 400 && e.subcode === 12);
});

const variants: VariantState[] = [
  ['a', 'x', '0', '9'],
  ['a', 'y', '5', '9'],
  ['a', 'é', '0', '9'],
  ['b', 'x', '0', '9'],
];
const at = (metric: string, variant: string, iter: string, only = true): ImageSampleState => ({ metric: 'a', current_metric_only: only, at: [metric, variant, iter], variants });
const names = (vs: VariantState[]) => vs.map((v) => `${v[0]}/${v[1]}`);

test('a step at the same iteration: the variants before (after) the current one in byte order, valid at this iteration', () => {
  assert.deepEqual(names(stepCandidates(at('a', 'é', '7'), 'same', true)), ['a/x', 'a/y']);
  // 'é' sorts after 'y' in UTF-8 bytes (and code points), whatever UTF-16 says of other characters.
  assert.deepEqual(names(stepCandidates(at('a', 'y', '7'), 'same', false)), ['a/é']);
  // y is valid from 5 only.
  assert.deepEqual(names(stepCandidates(at('a', 'é', '4'), 'same', true)), ['a/x']);
  // Across metrics when the viewer is not held to its metric.
  assert.deepEqual(names(stepCandidates(at('a', 'é', '7', false), 'same', false)), ['b/x']);
  assert.deepEqual(names(stepCandidates(at('b', 'x', '7', false), 'same', true)), ['a/x', 'a/y', 'a/é']);
});

test('a step to another iteration: going earlier, only variants valid below the current iteration', () => {
  assert.deepEqual(names(stepCandidates(at('a', 'x', '5'), 'other', true)), ['a/x', 'a/é']);
  assert.deepEqual(names(stepCandidates(at('a', 'x', '5'), 'other', false)), ['a/x', 'a/y', 'a/é']);
  assert.deepEqual(names(stepCandidates(at('a', 'x', '5', false), 'other', false)), ['a/x', 'a/y', 'a/é', 'b/x']);
  assert.deepEqual(stepCandidates({ ...at('a', 'x', '5'), at: null }, 'other', true), []);
});
