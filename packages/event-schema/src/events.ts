import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { EVENT_KINDS, EVENT_TYPES, LOG_LEVELS, kindOfType, ownerKey, type Event, type EventType, type FieldSpec } from './kinds';
import { compile, fieldOf } from './compile';
import { definitionSchema, type JsonSchema } from './seed';

export { EVENT_TYPES, LOG_LEVELS, type Event, type EventType } from './kinds';

/** The seed definition each kind is validated against. */
export const EVENT_DEFINITIONS = Object.fromEntries(EVENT_KINDS.map((k) => [k.type, k.definition])) as Readonly<Record<EventType, string>>;

export type LogLevel = (typeof LOG_LEVELS)[number];
const LOG_LEVEL_SET: ReadonlySet<string> = new Set(LOG_LEVELS);
export function isLogLevel(v: unknown): v is LogLevel {
  return typeof v === 'string' && LOG_LEVEL_SET.has(v);
}

/** Level of a log event that has none. */
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';
/** Longest accepted task id, in UTF-16 code units. ClearML ids are 32 hex characters. */
export const MAX_TASK_ID_LENGTH = 256;
/** The accepted timestamp range (epoch ms): what ClickHouse DateTime64(3) can hold, 1900-01-01 to 2299-12-31. */
export const MIN_TIMESTAMP_MS = Date.UTC(1900, 0, 1);
export const MAX_TIMESTAMP_MS = Date.UTC(2300, 0, 1) - 1;
/** 2^63 as a double: the smallest number above Int64's maximum (9223372036854775807 itself parses to it). */
const ITER_LIMIT = 2 ** 63;

type Of<T extends EventType> = Extract<Event, { type: T }>;
export type ScalarEvent = Of<'training_stats_scalar'>;
export type VectorEvent = Of<'training_stats_vector'>;
export type ImageEvent = Of<'training_debug_image'>;
export type PlotEvent = Of<'plot'>;
export type LogEvent = Of<'log'>;

export interface ValidateContext {
  /** The caller's tenant (ClearML company). */
  tenant: string;
  /** The X-ClearML-Worker / X-Trains-Worker header, default `worker` of log events. */
  worker: string | undefined;
  /** Server time, epoch ms: the timestamp of events that have none. */
  now: number;
}

/** A bounded classification of rejections, for metric labels (the reason text is not bounded). */
export type RejectCode = 'not-object' | 'missing-type' | 'invalid-type' | 'missing-task' | 'invalid-task' | 'invalid-iter' | 'model-log' | 'schema';

export type ValidateResult =
  | { readonly ok: true; readonly event: Event }
  | { readonly ok: false; readonly reason: string; readonly code: RejectCode };
type Failure = Extract<ValidateResult, { ok: false }>;

function failure(code: RejectCode, reason: string): Failure {
  return Object.freeze({ ok: false as const, reason, code });
}

// Constant failures are shared, so rejecting allocates nothing.
const NOT_OBJECT = failure('not-object', 'Validation error: event must be an object');
const MISSING_TYPE = failure('missing-type', "Event must have a 'type' field");
const TYPE_NOT_STRING = failure('invalid-type', 'Validation error: type must be string');
const MISSING_TASK = failure('missing-task', "Event must have a 'task' field");
const TASK_NOT_STRING = failure('invalid-task', 'Validation error: task must be string');
const ITER_TOO_LARGE = failure('invalid-iter', 'Iteration number should not exceed 9223372036854775807');
const TIMESTAMP_RANGE = failure('schema', 'Validation error: timestamp out of range');
const MODEL_EVENT_NOT_BOOLEAN = failure('schema', 'Validation error: model_event must be boolean');
const MODEL_LOG = failure('model-log', 'Task log events are not supported for models');

/** Values embedded in a reason (type, task id) are cut to this many characters. */
const MAX_EMBEDDED = 256;
function clip(s: string): string {
  return s.length > MAX_EMBEDDED ? `${s.slice(0, MAX_EMBEDDED)}...` : s;
}

const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

/** Whether `task` is an acceptable task id: non-empty, at most MAX_TASK_ID_LENGTH, no control characters. */
export function isValidTaskId(task: string): boolean {
  return task.length > 0 && task.length <= MAX_TASK_ID_LENGTH && !CONTROL_CHARS.test(task);
}

/**
 * The JSON schema a kind is validated with, derived from its seed definition:
 * - `$ref`s inlined (the log level enum);
 * - `type` and `task` removed: they are checked before the schema, with their own reasons
 *   (and the seed's `const` would refuse the space-separated type spelling the reference accepts);
 * - the kind's `required` (kinds.ts) required: a scalar's `value`, a vector's `values`;
 * - logs get the metrics' `iter` property, so a log's iter is checked like any other;
 * - optional properties accept null, read as absent (the reference treats null metric/variant/iter as absent);
 * - the log level also accepts the upper-case spelling (Python's level names), stored lower case.
 * Additional properties stay allowed.
 */
export function eventSchema(type: EventType): JsonSchema {
  const kind = kindOfType(type);
  const schema = definitionSchema(kind.definition);
  const props = schema['properties'] as Record<string, JsonSchema>;
  delete props['type'];
  delete props['task'];
  const required = ((schema['required'] as string[] | undefined) ?? []).filter((r) => r !== 'type' && r !== 'task');
  required.push(...kind.required);
  if (type === 'log') {
    const scalar = definitionSchema(EVENT_DEFINITIONS.training_stats_scalar);
    props['iter'] = (scalar['properties'] as Record<string, JsonSchema>)['iter'] as JsonSchema;
    const level = props['level'] as JsonSchema;
    const levels = level['enum'] as string[];
    level['enum'] = [...levels, ...levels.map((l) => l.toUpperCase())];
  }
  for (const [name, prop] of Object.entries(props)) {
    if (required.includes(name) || typeof prop['type'] !== 'string') continue;
    prop['nullable'] = true;
    if (Array.isArray(prop['enum'])) prop['enum'] = [...(prop['enum'] as unknown[]), null];
  }
  schema['required'] = required;
  return schema;
}

type Validators = Record<EventType, ValidateFunction>;
let validators: Validators | undefined;

function compileValidators(): Validators {
  // strictNumbers off: NaN and +-Infinity are numbers (losses go NaN); iter and timestamp get their own bound checks.
  const ajv = new Ajv({ strict: true, strictNumbers: false, allErrors: false });
  const out = {} as Validators;
  for (const type of EVENT_TYPES) out[type] = ajv.compile(eventSchema(type));
  return out;
}

/** Compiles the five validators now rather than on the first validateEvent call. */
export function prepareValidators(): void {
  validators ??= compileValidators();
}

const schemaFailures = new Map<string, Failure>();

/** `Validation error: <what>`, where <what> names the field and the rule, never the value. */
function schemaFailure(type: EventType, err: ErrorObject | undefined): Failure {
  if (!err) return failure('schema', 'Validation error: invalid event');
  // Array indexes become [] so that the text does not depend on the event: values[] must be number.
  const path = err.instancePath.slice(1).replace(/\/\d+(?=\/|$)/g, '[]').replace(/\//g, '.');
  const cacheKey = `${type}|${err.schemaPath}|${path}`;
  let f = schemaFailures.get(cacheKey);
  if (f) return f;
  let what: string;
  if (err.keyword === 'required') what = `${String((err.params as { missingProperty?: unknown }).missingProperty)} is required`;
  else if (err.keyword === 'type') what = `${path || 'event'} must be ${String((err.params as { type?: unknown }).type)}`;
  else what = `${path || 'event'} ${err.message ?? 'is invalid'}`;
  f = failure('schema', `Validation error: ${what}`);
  if (schemaFailures.size < 1000) schemaFailures.set(cacheKey, f);
  return f;
}

/** The kind a `type` names, undefined for none; a switch of string constants (faster than a Set). */
const eventTypeOf = compile<(t: string) => EventType | undefined>(
  {},
  ['t'],
  `switch (t) { ${EVENT_TYPES.map((type) => `case ${JSON.stringify(type)}:`).join(' ')} return t; default: return undefined; }`,
);

type Raw = Record<string, unknown>;

function levelOf(v: unknown): LogLevel {
  return typeof v !== 'string' ? DEFAULT_LOG_LEVEL : LOG_LEVEL_SET.has(v) ? (v as LogLevel) : (v.toLowerCase() as LogLevel);
}

/** A field's value in the normalised event, from the value sent (already schema-checked). */
function fieldExpression(f: FieldSpec): string {
  const v = fieldOf('e', f.name);
  switch (f.absent) {
    case 'empty':
      return `typeof ${v} === 'string' ? ${v} : ''`;
    case 'request-worker':
      return `typeof ${v} === 'string' ? ${v} : (ctx.worker ?? '')`;
    case 'default-level':
      return `levelOf(${v})`;
    default:
      return v; // required: the schema checked it
  }
}

/** The event object a kind normalises to: timestamp and iter (every kind's) first, then its own fields. */
const normalise = compile<(type: EventType, e: Raw, ctx: ValidateContext, task: string, timestamp: number, iter: number) => Event>(
  { levelOf },
  ['type', 'e', 'ctx', 'task', 'timestamp', 'iter'],
  `switch (type) { ${EVENT_KINDS.map((k) => {
    const own = (k.fields as readonly FieldSpec[]).filter((f) => f.name !== 'timestamp' && f.name !== 'iter');
    const fields = own.map((f) => `${f.name}: ${fieldExpression(f)}`).join(', ');
    return `case ${JSON.stringify(k.type)}: return { tenant: ctx.tenant, task, type, timestamp, iter, ${fields} };`;
  }).join(' ')} }`,
);

/**
 * Validates one event as parsed from the request body and returns it normalised. A model
 * event (`model_event: true`) is its model's: its `task` is ownerKey('model', id).
 * Checks, in order (the first failing one is the reason):
 * 1. not an object: `Validation error: event must be an object`
 * 2. `type` absent or null: `Event must have a 'type' field` (not a string: `Validation error: type must be string`)
 * 3. unknown type: `Invalid event type <type>` (spaces read as '_', as the reference does)
 * 4. `model_event` (API 2.22) neither boolean nor null: `Validation error: model_event must be boolean`;
 *    a log event with `model_event: true`: `Task log events are not supported for models`
 * 5. the id (`task`; for a model event `model`, else `task`) absent or null: `Event must have a 'task' field`
 *    (not a string: `Validation error: task must be string`)
 * 6. empty, longer than MAX_TASK_ID_LENGTH or with control characters: `Invalid task id <id>`
 * 7. a numeric `iter` outside Int64: `Iteration number should not exceed 9223372036854775807`
 * 8. the kind's schema (eventSchema): `Validation error: <field> <rule>`; then a timestamp
 *    outside MIN/MAX_TIMESTAMP_MS: `Validation error: timestamp out of range`.
 * <type> and <id> are cut to 256 characters.
 */
export function validateEvent(raw: unknown, ctx: ValidateContext): ValidateResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return NOT_OBJECT;
  const e = raw as Raw;
  const rawType = e['type'];
  if (rawType === undefined || rawType === null) return MISSING_TYPE;
  if (typeof rawType !== 'string') return TYPE_NOT_STRING;
  let type = eventTypeOf(rawType);
  if (type === undefined) {
    const spaced = rawType.includes(' ') ? rawType.replaceAll(' ', '_') : rawType;
    type = eventTypeOf(spaced);
    if (type === undefined) return failure('invalid-type', `Invalid event type ${clip(spaced)}`);
  }
  const modelEvent = e['model_event'];
  if (modelEvent !== undefined && modelEvent !== null && typeof modelEvent !== 'boolean') return MODEL_EVENT_NOT_BOOLEAN;
  const isModel = modelEvent === true;
  if (isModel && type === 'log') return MODEL_LOG;
  // A model event names its model in `model` or, as the SDK sends it, in `task`.
  const task = isModel && e['model'] !== undefined && e['model'] !== null ? e['model'] : e['task'];
  if (task === undefined || task === null) return MISSING_TASK;
  if (typeof task !== 'string') return TASK_NOT_STRING;
  if (!isValidTaskId(task)) return failure('invalid-task', `Invalid task id ${clip(task)}`);
  const iter = e['iter'];
  if (typeof iter === 'number' && (iter >= ITER_LIMIT || iter < -ITER_LIMIT)) return ITER_TOO_LARGE;

  validators ??= compileValidators();
  const validate = validators[type];
  if (!validate(e)) return schemaFailure(type, validate.errors?.[0]);

  const ts = e['timestamp'];
  let timestamp = ctx.now;
  if (typeof ts === 'number') {
    if (!(ts >= MIN_TIMESTAMP_MS && ts <= MAX_TIMESTAMP_MS)) return TIMESTAMP_RANGE;
    timestamp = ts;
  }
  return { ok: true, event: normalise(type, e, ctx, isModel ? ownerKey('model', task) : task, timestamp, typeof iter === 'number' ? iter : 0) };
}
