import { test } from 'node:test';
import assert from 'node:assert/strict';
import Ajv from 'ajv';
import { definitionSchema } from './seed';
import {
  EVENT_TYPES,
  LOG_LEVELS,
  MAX_TASK_ID_LENGTH,
  eventSchema,
  validateEvent,
  type Event,
  type ValidateContext,
  type RejectCode,
} from './events';
import { ownerKey, ownerOfKey } from './kinds';

const NOW = 1_700_000_000_000;
const ctx: ValidateContext = { tenant: 'acme', worker: 'gpu-7', now: NOW };
const TASK = '0123456789abcdef0123456789abcdef';

const base = { tenant: 'acme', task: TASK, timestamp: NOW, iter: 0 };

/** [name, raw event, expected normalised event] */
const good: Array<[string, unknown, Event]> = [
  // scalars
  ['scalar, all fields', { type: 'training_stats_scalar', task: TASK, timestamp: 5, iter: 3, metric: 'loss', variant: 'train', value: 0.5 },
    { ...base, type: 'training_stats_scalar', timestamp: 5, iter: 3, metric: 'loss', variant: 'train', value: 0.5 }],
  ['scalar, defaults filled', { type: 'training_stats_scalar', task: TASK, value: 1 },
    { ...base, type: 'training_stats_scalar', metric: '', variant: '', value: 1 }],
  ['scalar, NaN kept', { type: 'training_stats_scalar', task: TASK, value: NaN },
    { ...base, type: 'training_stats_scalar', metric: '', variant: '', value: NaN }],
  ['scalar, Infinity kept', { type: 'training_stats_scalar', task: TASK, value: Infinity },
    { ...base, type: 'training_stats_scalar', metric: '', variant: '', value: Infinity }],
  ['scalar, -Infinity kept', { type: 'training_stats_scalar', task: TASK, value: -Infinity },
    { ...base, type: 'training_stats_scalar', metric: '', variant: '', value: -Infinity }],
  ['scalar, extra fields allowed and dropped', { type: 'training_stats_scalar', task: TASK, value: 2, allow_locked: true, model_event: false, worker: 'w' },
    { ...base, type: 'training_stats_scalar', metric: '', variant: '', value: 2 }],
  ['scalar, null optional fields read as absent', { type: 'training_stats_scalar', task: TASK, value: 2, metric: null, variant: null, iter: null, timestamp: null },
    { ...base, type: 'training_stats_scalar', metric: '', variant: '', value: 2 }],
  ['scalar, SDK summary iteration', { type: 'training_stats_scalar', task: TASK, iter: -2147483648, metric: 'm', variant: 'v', value: 7 },
    { ...base, type: 'training_stats_scalar', iter: -2147483648, metric: 'm', variant: 'v', value: 7 }],
  ['scalar, iter at Int64 minimum', { type: 'training_stats_scalar', task: TASK, iter: -(2 ** 63), value: 1 },
    { ...base, type: 'training_stats_scalar', iter: -(2 ** 63), metric: '', variant: '', value: 1 }],
  ['scalar, iter above 2^53 (stored as the double)', { type: 'training_stats_scalar', task: TASK, iter: 2 ** 60, value: 1 },
    { ...base, type: 'training_stats_scalar', iter: 2 ** 60, metric: '', variant: '', value: 1 }],
  ['scalar, integral float iter', { type: 'training_stats_scalar', task: TASK, iter: 4.0, value: 1 },
    { ...base, type: 'training_stats_scalar', iter: 4, metric: '', variant: '', value: 1 }],
  ['scalar, spaces in type read as _', { type: 'training stats scalar', task: TASK, value: 1 },
    { ...base, type: 'training_stats_scalar', metric: '', variant: '', value: 1 }],
  ['scalar, timestamp 0 kept', { type: 'training_stats_scalar', task: TASK, value: 1, timestamp: 0 },
    { ...base, type: 'training_stats_scalar', timestamp: 0, metric: '', variant: '', value: 1 }],
  ['scalar, unicode metric', { type: 'training_stats_scalar', task: TASK, value: 1, metric: 'loss 📉 é', variant: '\u0000\n' },
    { ...base, type: 'training_stats_scalar', metric: 'loss 📉 é', variant: '\u0000\n', value: 1 }],
  // vectors
  ['vector', { type: 'training_stats_vector', task: TASK, iter: 2, metric: 'hist', variant: 'w', values: [1, 2.5, NaN, -Infinity] },
    { ...base, type: 'training_stats_vector', iter: 2, metric: 'hist', variant: 'w', values: [1, 2.5, NaN, -Infinity] }],
  ['vector, empty values', { type: 'training_stats_vector', task: TASK, values: [] },
    { ...base, type: 'training_stats_vector', metric: '', variant: '', values: [] }],
  // images
  ['image', { type: 'training_debug_image', task: TASK, iter: 1, metric: 'img', variant: 'v', key: 'k', url: 'https://x/y.png', timestamp: 9 },
    { ...base, type: 'training_debug_image', timestamp: 9, iter: 1, metric: 'img', variant: 'v', key: 'k', url: 'https://x/y.png' }],
  ['image, defaults', { type: 'training_debug_image', task: TASK },
    { ...base, type: 'training_debug_image', metric: '', variant: '', key: '', url: '' }],
  // plots
  ['plot', { type: 'plot', task: TASK, iter: 1, metric: 'roc', variant: 'v', plot_str: '{"data":[]}' },
    { ...base, type: 'plot', iter: 1, metric: 'roc', variant: 'v', plot_str: '{"data":[]}' }],
  ['plot, defaults', { type: 'plot', task: TASK },
    { ...base, type: 'plot', metric: '', variant: '', plot_str: '' }],
  // logs
  ['log', { type: 'log', task: TASK, timestamp: 11, level: 'warning', worker: 'own', msg: 'hello\nworld' },
    { ...base, type: 'log', timestamp: 11, level: 'warning', worker: 'own', msg: 'hello\nworld' }],
  ['log, defaults: level info, worker header, empty msg', { type: 'log', task: TASK },
    { ...base, type: 'log', level: 'info', worker: 'gpu-7', msg: '' }],
  ['log, null worker reads as absent', { type: 'log', task: TASK, worker: null, level: null },
    { ...base, type: 'log', level: 'info', worker: 'gpu-7', msg: '' }],
  ['log, upper-case level stored lower case', { type: 'log', task: TASK, level: 'ERROR', msg: 'x' },
    { ...base, type: 'log', level: 'error', worker: 'gpu-7', msg: 'x' }],
  ['log, iter kept', { type: 'log', task: TASK, iter: 12, msg: 'x', metric: 'ignored' },
    { ...base, type: 'log', iter: 12, level: 'info', worker: 'gpu-7', msg: 'x' }],
  ['task id of 256 characters', { type: 'log', task: 'x'.repeat(MAX_TASK_ID_LENGTH) },
    { ...base, task: 'x'.repeat(MAX_TASK_ID_LENGTH), type: 'log', level: 'info', worker: 'gpu-7', msg: '' }],
  ['task id with unicode', { type: 'log', task: 'tâche-📦' },
    { ...base, task: 'tâche-📦', type: 'log', level: 'info', worker: 'gpu-7', msg: '' }],
];

for (const [name, raw, expected] of good) {
  test(`validateEvent accepts: ${name}`, () => {
    const r = validateEvent(raw, ctx);
    assert.deepEqual(r, { ok: true, event: expected });
  });
}

test('validateEvent: log worker is "" when neither the event nor the header has one', () => {
  const r = validateEvent({ type: 'log', task: TASK }, { tenant: 't', worker: undefined, now: 1 });
  assert.ok(r.ok);
  assert.equal(r.event.type === 'log' && r.event.worker, '');
});

test('validateEvent: a vector keeps the array it was given', () => {
  const values = [1, 2, 3];
  const r = validateEvent({ type: 'training_stats_vector', task: TASK, values }, ctx);
  assert.ok(r.ok && r.event.type === 'training_stats_vector');
  assert.equal(r.event.values, values);
});

test('validateEvent does not modify its input', () => {
  const raw = { type: 'training stats scalar', task: TASK, value: 1, metric: null };
  const copy = structuredClone(raw);
  validateEvent(raw, ctx);
  assert.deepEqual(raw, copy);
});

/** [name, raw event, exact reason, code] */
const bad: Array<[string, unknown, string, RejectCode]> = [
  // not an object
  ['null', null, 'Validation error: event must be an object', 'not-object'],
  ['array', [{ type: 'log' }], 'Validation error: event must be an object', 'not-object'],
  ['string', 'log', 'Validation error: event must be an object', 'not-object'],
  ['number', 42, 'Validation error: event must be an object', 'not-object'],
  // type
  ['no type', { task: TASK, value: 1 }, "Event must have a 'type' field", 'missing-type'],
  ['null type', { type: null, task: TASK }, "Event must have a 'type' field", 'missing-type'],
  ['no type and no task', {}, "Event must have a 'type' field", 'missing-type'],
  ['numeric type', { type: 3, task: TASK }, 'Validation error: type must be string', 'invalid-type'],
  ['unknown type', { type: 'training_stats_matrix', task: TASK }, 'Invalid event type training_stats_matrix', 'invalid-type'],
  ['unknown type with spaces', { type: 'my kind', task: TASK }, 'Invalid event type my_kind', 'invalid-type'],
  ['empty type', { type: '', task: TASK }, 'Invalid event type ', 'invalid-type'],
  ['type is case sensitive', { type: 'LOG', task: TASK }, 'Invalid event type LOG', 'invalid-type'],
  ['unknown type before missing task', { type: 'x' }, 'Invalid event type x', 'invalid-type'],
  ['huge type is cut', { type: 'y'.repeat(1000), task: TASK }, `Invalid event type ${'y'.repeat(256)}...`, 'invalid-type'],
  // task
  ['no task', { type: 'log', msg: 'x' }, "Event must have a 'task' field", 'missing-task'],
  ['null task', { type: 'plot', task: null }, "Event must have a 'task' field", 'missing-task'],
  ['numeric task', { type: 'plot', task: 12 }, 'Validation error: task must be string', 'invalid-task'],
  ['empty task', { type: 'log', task: '' }, 'Invalid task id ', 'invalid-task'],
  ['task too long', { type: 'log', task: 'a'.repeat(257) }, `Invalid task id ${'a'.repeat(256)}...`, 'invalid-task'],
  ['task with newline', { type: 'log', task: 'ab\ncd' }, 'Invalid task id ab\ncd', 'invalid-task'],
  ['task with NUL', { type: 'log', task: 'ab\u0000' }, 'Invalid task id ab\u0000', 'invalid-task'],
  ['task with DEL', { type: 'log', task: 'ab\u007f' }, 'Invalid task id ab\u007f', 'invalid-task'],
  ['task with C1 control', { type: 'log', task: 'ab\u0085' }, 'Invalid task id ab\u0085', 'invalid-task'],
  ['bad task before bad iter', { type: 'log', task: '', iter: 2 ** 64 }, 'Invalid task id ', 'invalid-task'],
  // iteration
  ['iter 2^63 (9223372036854775807 parses to it)', { type: 'training_stats_scalar', task: TASK, iter: 9223372036854775807, value: 1 }, 'Iteration number should not exceed 9223372036854775807', 'invalid-iter'],
  ['iter 1e300', { type: 'plot', task: TASK, iter: 1e300 }, 'Iteration number should not exceed 9223372036854775807', 'invalid-iter'],
  ['iter below Int64', { type: 'training_debug_image', task: TASK, iter: -(2 ** 64) }, 'Iteration number should not exceed 9223372036854775807', 'invalid-iter'],
  ['iter Infinity', { type: 'training_stats_vector', task: TASK, iter: Infinity, values: [] }, 'Iteration number should not exceed 9223372036854775807', 'invalid-iter'],
  ['iter on a log', { type: 'log', task: TASK, iter: 2 ** 70 }, 'Iteration number should not exceed 9223372036854775807', 'invalid-iter'],
  ['iter before the schema', { type: 'training_stats_scalar', task: TASK, iter: 2 ** 70 }, 'Iteration number should not exceed 9223372036854775807', 'invalid-iter'],
  // schema: scalar
  ['scalar without value', { type: 'training_stats_scalar', task: TASK }, 'Validation error: value is required', 'schema'],
  ['scalar, null value', { type: 'training_stats_scalar', task: TASK, value: null }, 'Validation error: value must be number', 'schema'],
  ['scalar, string value', { type: 'training_stats_scalar', task: TASK, value: '1.5' }, 'Validation error: value must be number', 'schema'],
  ['scalar, fractional iter', { type: 'training_stats_scalar', task: TASK, value: 1, iter: 1.5 }, 'Validation error: iter must be integer', 'schema'],
  ['scalar, NaN iter', { type: 'training_stats_scalar', task: TASK, value: 1, iter: NaN }, 'Validation error: iter must be integer', 'schema'],
  ['scalar, string iter', { type: 'training_stats_scalar', task: TASK, value: 1, iter: '3' }, 'Validation error: iter must be integer', 'schema'],
  ['scalar, numeric metric', { type: 'training_stats_scalar', task: TASK, value: 1, metric: 5 }, 'Validation error: metric must be string', 'schema'],
  ['scalar, object variant', { type: 'training_stats_scalar', task: TASK, value: 1, variant: {} }, 'Validation error: variant must be string', 'schema'],
  ['scalar, string timestamp', { type: 'training_stats_scalar', task: TASK, value: 1, timestamp: '2024-01-01' }, 'Validation error: timestamp must be number', 'schema'],
  ['scalar, NaN timestamp', { type: 'training_stats_scalar', task: TASK, value: 1, timestamp: NaN }, 'Validation error: timestamp out of range', 'schema'],
  ['scalar, timestamp after 2299', { type: 'training_stats_scalar', task: TASK, value: 1, timestamp: 1e16 }, 'Validation error: timestamp out of range', 'schema'],
  ['scalar, timestamp before 1900', { type: 'training_stats_scalar', task: TASK, value: 1, timestamp: -3e12 }, 'Validation error: timestamp out of range', 'schema'],
  // schema: vector
  ['vector without values', { type: 'training_stats_vector', task: TASK }, 'Validation error: values is required', 'schema'],
  ['vector, values not an array', { type: 'training_stats_vector', task: TASK, values: 3 }, 'Validation error: values must be array', 'schema'],
  ['vector, a string element', { type: 'training_stats_vector', task: TASK, values: [1, 2, 'x'] }, 'Validation error: values[] must be number', 'schema'],
  ['vector, a null element', { type: 'training_stats_vector', task: TASK, values: [null] }, 'Validation error: values[] must be number', 'schema'],
  // schema: image
  ['image, numeric url', { type: 'training_debug_image', task: TASK, url: 1 }, 'Validation error: url must be string', 'schema'],
  ['image, array key', { type: 'training_debug_image', task: TASK, key: ['a'] }, 'Validation error: key must be string', 'schema'],
  // schema: plot
  ['plot, object plot_str', { type: 'plot', task: TASK, plot_str: { data: [] } }, 'Validation error: plot_str must be string', 'schema'],
  // schema: log
  ['log, unknown level', { type: 'log', task: TASK, level: 'loud' }, 'Validation error: level must be equal to one of the allowed values', 'schema'],
  ['log, mixed-case level', { type: 'log', task: TASK, level: 'Info' }, 'Validation error: level must be equal to one of the allowed values', 'schema'],
  ['log, numeric level', { type: 'log', task: TASK, level: 20 }, 'Validation error: level must be string', 'schema'],
  ['log, numeric msg', { type: 'log', task: TASK, msg: 1 }, 'Validation error: msg must be string', 'schema'],
  ['log, boolean worker', { type: 'log', task: TASK, worker: true }, 'Validation error: worker must be string', 'schema'],
  ['log, fractional iter', { type: 'log', task: TASK, iter: 0.5 }, 'Validation error: iter must be integer', 'schema'],
];

for (const [name, raw, reason, code] of bad) {
  test(`validateEvent rejects: ${name}`, () => {
    assert.deepEqual(validateEvent(raw, ctx), { ok: false, reason, code });
  });
}

test('every contract reason text is produced', () => {
  const reasons = new Set(bad.map(([, raw]) => {
    const r = validateEvent(raw, ctx);
    return r.ok ? '' : r.reason;
  }));
  for (const expected of [
    "Event must have a 'type' field",
    'Invalid event type training_stats_matrix',
    "Event must have a 'task' field",
    'Invalid task id ',
    'Iteration number should not exceed 9223372036854775807',
    'Validation error: value must be number',
  ]) {
    assert.ok(reasons.has(expected), expected);
  }
});

test('schema reasons do not depend on event values', () => {
  const a = validateEvent({ type: 'training_stats_vector', task: TASK, values: [1, 'x'] }, ctx);
  const b = validateEvent({ type: 'training_stats_vector', task: 'other', values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, { a: 1 }] }, ctx);
  assert.ok(!a.ok && !b.ok);
  assert.equal(a.reason, b.reason);
});

test('LOG_LEVELS equals the seed enum', () => {
  assert.deepEqual(definitionSchema('log_level_enum')['enum'], [...LOG_LEVELS]);
});

test('eventSchema is derived from the seed and compiles with strict ajv', () => {
  for (const type of EVENT_TYPES) {
    const s = eventSchema(type);
    assert.equal(s['type'], 'object');
    assert.equal(s['additionalProperties'], undefined, 'extra fields allowed');
    const props = s['properties'] as Record<string, unknown>;
    assert.equal(props['type'], undefined);
    assert.equal(props['task'], undefined);
    assert.ok(props['timestamp']);
    assert.doesNotThrow(() => new Ajv({ strict: true, strictNumbers: false }).compile(s));
  }
  assert.deepEqual(eventSchema('training_stats_scalar')['required'], ['value']);
  assert.deepEqual(eventSchema('training_stats_vector')['required'], ['values']);
  assert.deepEqual(eventSchema('log')['required'], []);
  const scalarProps = definitionSchema('metrics_scalar_event')['properties'] as Record<string, Record<string, unknown>>;
  const iter = (eventSchema('log')['properties'] as Record<string, Record<string, unknown>>)['iter'];
  assert.equal(iter?.['type'], scalarProps['iter']?.['type']);
});

test('validateEvent allocates nothing new for repeated failures', () => {
  const a = validateEvent({ type: 'training_stats_scalar', task: TASK }, ctx);
  const b = validateEvent({ type: 'training_stats_scalar', task: TASK }, ctx);
  assert.equal(a, b);
  assert.equal(validateEvent({}, ctx), validateEvent({ task: TASK }, ctx));
});

test('model_event: true stores the event under its model (ownerKey), named by `model` or `task`', () => {
  const viaTask = validateEvent({ type: 'plot', task: TASK, plot_str: '{}', model_event: true }, ctx);
  assert.ok(viaTask.ok);
  assert.equal(viaTask.event.task, ownerKey('model', TASK));
  assert.deepEqual(ownerOfKey(viaTask.event.task), { owner: 'model', id: TASK });
  const viaModel = validateEvent({ type: 'training_stats_scalar', task: 'other', model: TASK, value: 1, model_event: true }, ctx);
  assert.ok(viaModel.ok);
  assert.equal(viaModel.event.task, ownerKey('model', TASK));
  // false, null or absent: the task's, and `model` is then an ignored extra field.
  for (const model_event of [false, null, undefined]) {
    const r = validateEvent({ type: 'training_stats_scalar', task: TASK, model: 'm', value: 1, model_event }, ctx);
    assert.ok(r.ok);
    assert.equal(r.event.task, TASK);
  }
});

test('model_event: refused on a log event and when not a boolean; a model id is checked as a task id', () => {
  assert.deepEqual(validateEvent({ type: 'log', task: TASK, msg: 'x', model_event: true }, ctx), { ok: false, code: 'model-log', reason: 'Task log events are not supported for models' });
  for (const model_event of ['true', 1, {}, []]) {
    const r = validateEvent({ type: 'training_stats_scalar', task: TASK, value: 1, model_event }, ctx);
    assert.deepEqual(r, { ok: false, code: 'schema', reason: 'Validation error: model_event must be boolean' }, JSON.stringify(model_event));
  }
  const bad = validateEvent({ type: 'training_stats_scalar', model: 'a\u0001b', value: 1, model_event: true }, ctx);
  assert.equal(bad.ok, false);
  assert.equal(!bad.ok && bad.code, 'invalid-task');
});
