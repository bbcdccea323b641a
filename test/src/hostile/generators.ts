/**
 * fast-check generators of hostile requests: bodies with wrong types and missing fields, broken
 * JSON and json-lines, invalid UTF-8, bad headers, odd paths and query strings. Each generator
 * yields a `Hostile` request description; the tests send them and check every answer.
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { stringifyJson } from '@trackstream/api';
import { ALL_ENDPOINTS, CONTROL_STRINGS, HOSTILE_STRINGS, TENANT_A, TENANT_B, VERSION_PREFIXES, type EndpointName } from './support';

export interface Hostile {
  category: string;
  endpoint: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  chunked?: boolean;
  /**
   * For json-lines bodies of events.add_batch whose lines are known good or bad: the answer must
   * count exactly these (added = good, errors = bad; nothing added: 400/131).
   */
  expect?: { good: number; bad: number };
}

/** A task every fuzzed read names by default (seeded with a few events of every kind). */
export const FUZZ_TASK = 'fuzz-task';

// ------------------------------------------------------------------------------ values

/** Lone surrogates and other strings JSON can carry but UTF-8 cannot, plus edge texts. */
const EDGE_STRINGS = ['', ' ', 'null', 'true', '1', '-1', '1e999', 'NaN', 'Infinity', 'ASC', 'asc ', 'head\u0000', '\ud800', '\udfff', 'a\ud800b', 'x'.repeat(300), '0'.repeat(40)];

export const weirdNumber = fc.constantFrom(
  0,
  -0,
  -1,
  1.5,
  -1.5,
  1e300,
  -1e300,
  2 ** 31,
  2 ** 32,
  4294967295,
  2 ** 53,
  2 ** 53 + 2,
  2 ** 63,
  -(2 ** 63),
  2 ** 64,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -2147483648,
  6001,
  10001,
);

export const weirdString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom(...HOSTILE_STRINGS, ...CONTROL_STRINGS, ...EDGE_STRINGS),
);

/** Any JSON-ish value of any type (NaN and ±Infinity included: they are sent as bare tokens). */
export const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: weirdNumber },
  { weight: 2, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 4, arbitrary: weirdString },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.array(fc.oneof(weirdString, weirdNumber, fc.constant(null)), { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(weirdString, weirdNumber), { maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.constant([]) },
  { weight: 1, arbitrary: fc.constant({}) },
);

// ------------------------------------------------------------------------------ valid templates

/** A valid request body of each object endpoint (tasks exist: FUZZ_TASK is seeded). */
export function validBody(endpoint: EndpointName, task = FUZZ_TASK): Record<string, unknown> {
  switch (endpoint) {
    case 'events.debug_images':
      // Both forms at once: 2.1 reads task/batch_size, 2.7 and later metrics/navigate_earlier/refresh (unknown fields are ignored).
      return { task, metrics: [{ task, metric: 'img', variants: ['v'] }], iters: 2, navigate_earlier: true, refresh: false, scroll_id: null, batch_size: 5 };
    case 'events.plots':
      return { metrics: [{ task, metric: 'plot', variants: ['v'] }, { task: 'other-task' }], iters: 2, navigate_earlier: false, refresh: false, scroll_id: null };
    case 'events.get_debug_image_sample':
      return { task, metric: 'img', variant: 'v', iteration: 7, refresh: false, scroll_id: null, navigate_current_metric: true };
    case 'events.get_plot_sample':
      return { task, metric: 'plot', iteration: null, refresh: true, scroll_id: null, navigate_current_metric: false };
    case 'events.next_debug_image_sample':
    case 'events.next_plot_sample':
      return { task, scroll_id: 'not-a-cursor', navigate_earlier: true, next_iteration: false };
    case 'events.get_task_metrics':
      return { tasks: [task, 'other-task'], event_type: 'training_debug_image' };
    case 'events.get_multi_task_metrics':
      return { tasks: [task, 'other-task'], event_type: 'plot' };
    case 'events.get_task_plots':
      return { task, iters: 2, scroll_id: null, batch_size: 5, metrics: [{ metric: 'plot', variants: ['v'] }], no_scroll: false };
    case 'events.get_task_log':
      return { task, order: 'desc', from: 'tail', scroll_id: null, batch_size: 5, navigate_earlier: true, from_timestamp: T0 + 10, metrics: [{ metric: '' }] };
    case 'events.get_task_events':
      return { task, order: 'asc', scroll_id: null, batch_size: 5, event_type: '*', metrics: [{ metric: 'loss', variants: ['train'] }] };
    case 'events.clear_scroll':
      return { scroll_id: 'a-scroll-id' };
    case 'events.download_task_log':
      return { task, line_type: 'text', line_format: '{asctime} {worker} {level} {msg}' };
    case 'events.get_multi_task_plots':
      return { tasks: [task, 'other-task'], iters: 1, scroll_id: null, batch_size: 5, no_scroll: false, last_iters_per_task_metric: true, metrics: [{ metric: 'plot' }] };
    case 'events.vector_metrics_iter_histogram':
      return { task, metric: 'vec', variant: 'v' };
    case 'events.scalar_metrics_iter_histogram':
      return { task, samples: 10, key: 'iter', metrics: [{ metric: 'loss', variants: ['train'] }] };
    case 'events.multi_task_scalar_metrics_iter_histogram':
      return { tasks: [task, 'other-task'], samples: 10, key: 'timestamp', metrics: [{ metric: 'loss' }] };
    case 'events.get_task_single_value_metrics':
      return { tasks: [task, 'other-task'], metrics: [{ metric: 'Summary', variants: ['score'] }] };
    case 'events.scalar_metrics_iter_raw':
      return { task, metric: { metric: 'loss', variants: ['train'] }, key: 'iter', batch_size: 5, count_total: true, scroll_id: null };
    case 'events.get_scalar_metric_data':
      return { task, metric: 'loss', scroll_id: null, batch_size: 5 };
    case 'events.get_vector_metrics_and_variants':
    case 'events.get_task_latest_scalar_values':
    case 'events.get_scalar_metrics_and_variants':
      return { task };
    case 'events.delete_for_task':
      // Deleting is real: fuzzed deletes aim at a task of their own.
      return { task: 'fuzz-delete-target' };
    case 'events.delete_for_model':
      return { model: 'fuzz-delete-target' };
    case 'events.clear_task_log':
      return { task: 'fuzz-delete-target', threshold_sec: 60, exclude_metrics: ['m'] };
    case 'auth.login':
      return { expiration_sec: 600 };
    case 'events.add':
    case 'events.add_batch':
      return validEvent(0, task);
  }
}

const T0 = Date.UTC(2024, 0, 1);

/** A valid event of each kind, by index. */
export function validEvent(i: number, task = FUZZ_TASK): Record<string, unknown> {
  const base = { task, iter: i, timestamp: T0 + i };
  switch (i % 5) {
    case 0:
      return { type: 'training_stats_scalar', ...base, metric: 'loss', variant: 'train', value: i / 7 };
    case 1:
      return { type: 'training_stats_vector', ...base, metric: 'vec', variant: 'v', values: [i, i + 0.5] };
    case 2:
      return { type: 'training_debug_image', ...base, metric: 'img', variant: 'v', key: 'k', url: `s3://b/${i}.png` };
    case 3:
      return { type: 'plot', ...base, metric: 'plot', variant: 'v', plot_str: '{"data":[]}' };
    default:
      return { type: 'log', ...base, level: 'info', worker: 'w', msg: `line ${i}` };
  }
}

/** The fields each endpoint reads (what the fuzzer drops or replaces). */
export const FIELDS: Record<EndpointName, readonly string[]> = {
  'events.add': ['type', 'task', 'iter', 'timestamp', 'metric', 'variant', 'value', 'values', 'key', 'url', 'plot_str', 'level', 'worker', 'msg'],
  'events.add_batch': ['type', 'task', 'iter', 'timestamp', 'metric', 'variant', 'value', 'values', 'key', 'url', 'plot_str', 'level', 'worker', 'msg'],
  'events.delete_for_task': ['task'],
  'events.delete_for_model': ['model', 'allow_locked'],
  'events.clear_task_log': ['task', 'threshold_sec', 'include_metrics', 'exclude_metrics'],
  'auth.login': ['expiration_sec'],
  'events.debug_images': ['task', 'metrics', 'iters', 'navigate_earlier', 'refresh', 'scroll_id', 'batch_size'],
  'events.plots': ['metrics', 'iters', 'navigate_earlier', 'refresh', 'scroll_id'],
  'events.get_debug_image_sample': ['task', 'metric', 'variant', 'iteration', 'refresh', 'scroll_id', 'navigate_current_metric'],
  'events.get_plot_sample': ['task', 'metric', 'iteration', 'refresh', 'scroll_id', 'navigate_current_metric'],
  'events.next_debug_image_sample': ['task', 'scroll_id', 'navigate_earlier', 'next_iteration'],
  'events.next_plot_sample': ['task', 'scroll_id', 'navigate_earlier', 'next_iteration'],
  'events.get_task_metrics': ['tasks', 'event_type'],
  'events.get_multi_task_metrics': ['tasks', 'event_type'],
  'events.get_task_log': ['task', 'order', 'from', 'scroll_id', 'batch_size', 'navigate_earlier', 'from_timestamp', 'metrics'],
  'events.get_task_events': ['task', 'order', 'scroll_id', 'batch_size', 'event_type', 'metrics'],
  'events.download_task_log': ['task', 'line_type', 'line_format'],
  'events.get_task_plots': ['task', 'iters', 'scroll_id', 'batch_size', 'metrics', 'no_scroll'],
  'events.get_multi_task_plots': ['tasks', 'iters', 'scroll_id', 'batch_size', 'no_scroll', 'last_iters_per_task_metric', 'metrics'],
  'events.get_vector_metrics_and_variants': ['task'],
  'events.vector_metrics_iter_histogram': ['task', 'metric', 'variant'],
  'events.scalar_metrics_iter_histogram': ['task', 'samples', 'key', 'metrics'],
  'events.multi_task_scalar_metrics_iter_histogram': ['tasks', 'samples', 'key', 'metrics'],
  'events.get_task_single_value_metrics': ['tasks', 'metrics'],
  'events.scalar_metrics_iter_raw': ['task', 'metric', 'key', 'batch_size', 'count_total', 'scroll_id'],
  'events.get_task_latest_scalar_values': ['task'],
  'events.get_scalar_metrics_and_variants': ['task'],
  'events.get_scalar_metric_data': ['task', 'metric', 'scroll_id', 'batch_size'],
  'events.clear_scroll': ['scroll_id'],
};

const endpointArb = fc.constantFrom(...ALL_ENDPOINTS);
/** Mostly prefixes every endpoint answers; sometimes ones below or above its handlers. */
const versionArb = fc.oneof({ weight: 4, arbitrary: fc.constantFrom('', 'v2.23/') }, { weight: 1, arbitrary: fc.constantFrom(...VERSION_PREFIXES) });
const methodArb = fc.constantFrom('GET', 'POST');

const JSON_CT = { 'content-type': 'application/json' };
const JSONL_CT = { 'content-type': 'application/json-lines' };

/** The body of a (mutated) request object: json-lines of one line for add_batch, JSON otherwise. */
function encodeBody(endpoint: string, value: unknown): { body: Buffer; headers: Record<string, string> } {
  return { body: Buffer.from(stringifyJson(value)), headers: endpoint === 'events.add_batch' ? JSONL_CT : JSON_CT };
}

// ------------------------------------------------------------------------------ mutations

const mutation = (fields: readonly string[]) =>
  fc.record({
    drop: fc.oneof({ weight: 3, arbitrary: fc.constant([] as string[]) }, { weight: 1, arbitrary: fc.subarray([...fields], { maxLength: Math.min(2, fields.length) }) }),
    replace: fc.dictionary(fc.constantFrom(...fields), anyValue, { minKeys: 1, maxKeys: 2 }),
    extra: fc.dictionary(fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'allow_locked', 'model_event')), anyValue, {
      maxKeys: 2,
    }),
  });

function mutate(base: Record<string, unknown>, m: { drop: string[]; replace: Record<string, unknown>; extra: Record<string, unknown> }): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const f of m.drop) delete out[f];
  for (const [k, v] of Object.entries(m.replace)) out[k] = v;
  for (const [k, v] of Object.entries(m.extra)) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

/** Category "fields": a valid body with fields dropped, replaced by values of any type, or added. */
export const fieldsArb: fc.Arbitrary<Hostile> = endpointArb.chain((endpoint) =>
  fc.record({ endpoint: fc.constant(endpoint), version: versionArb, method: methodArb, m: mutation(FIELDS[endpoint]), auth: fc.constant(TENANT_A.headers) }).map(({ endpoint, version, method, m, auth }) => {
    const value = mutate(validBody(endpoint), m);
    const { body, headers } = encodeBody(endpoint, value);
    return { category: 'fields', endpoint, method, path: `/${version}${endpoint}`, headers: { ...headers, ...auth }, body };
  }),
);

/** Values of every type and edge, tried in every field of every endpoint (category "sweep"). */
export const EDGE_VALUES: readonly unknown[] = [
  null,
  true,
  false,
  0,
  -0,
  -1,
  1.5,
  1e300,
  -1e300,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  2 ** 64,
  -(2 ** 63),
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  '',
  ' ',
  '1',
  'asc',
  'tail',
  'timestamp',
  'text',
  '{msg}',
  '{nope}',
  'x'.repeat(300),
  'y'.repeat(100_000),
  '\ud800',
  'nul\u0000',
  "' OR 1=1 --",
  '{x:String}',
  '\\',
  [],
  [null],
  ['a', 'b'],
  [1],
  [[]],
  Array.from({ length: 101 }, (_, i) => `t${i}`),
  {},
  { a: 1 },
];

/** One request per (endpoint, field, edge value): the field set to the value, the rest valid. */
export function sweepRequests(): Hostile[] {
  const out: Hostile[] = [];
  let n = 0;
  for (const endpoint of ALL_ENDPOINTS) {
    for (const field of FIELDS[endpoint]) {
      for (const value of EDGE_VALUES) {
        const body = { ...validBody(endpoint), [field]: value };
        const { body: buf, headers } = encodeBody(endpoint, body);
        // Alternate GET and POST, with and without a version prefix.
        const method = n % 2 === 0 ? 'POST' : 'GET';
        const version = n % 3 === 0 ? 'v2.23/' : '';
        n++;
        out.push({ category: 'sweep', endpoint, method, path: `/${version}${endpoint}`, headers: { ...headers, ...TENANT_A.headers }, body: buf });
      }
    }
  }
  return out;
}

/** Category "query": the request's fields (or random ones) as query-string parameters, over a valid or empty body. */
export const queryArb: fc.Arbitrary<Hostile> = endpointArb.chain((endpoint) =>
  fc
    .record({
      endpoint: fc.constant(endpoint),
      version: versionArb,
      method: methodArb,
      params: fc.array(
        fc.tuple(
          fc.oneof(fc.constantFrom(...FIELDS[endpoint]), fc.constantFrom(...FIELDS[endpoint]).map((f) => `${f}[]`), fc.constantFrom('__proto__', 'constructor', 'hasOwnProperty', 'a[][]', '[]', ''), fc.string({ maxLength: 8 })),
          fc.oneof(
            weirdString.map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, ''))),
            fc.constantFrom('%', '%zz', '%E0%A4%A', '%00', '%FF%FE', '1e999', '99999999999999999999', '4294967296', '-1', '1.5', 'true', 'false', '', 'NaN'),
            fc.integer().map(String),
          ),
        ),
        { minLength: 1, maxLength: 5 },
      ),
      withBody: fc.boolean(),
    })
    .map(({ endpoint, version, method, params, withBody }) => {
      const qs = params.map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join('&');
      const { body, headers } = withBody ? encodeBody(endpoint, validBody(endpoint)) : { body: Buffer.alloc(0), headers: JSON_CT };
      return { category: 'query', endpoint, method, path: `/${version}${endpoint}?${qs}`, headers: { ...headers, ...TENANT_A.headers }, body };
    }),
);

// ------------------------------------------------------------------------------ broken bodies

/** Invalid UTF-8 byte sequences: a lone continuation byte, overlongs, a surrogate, out of range, truncated. */
export const BAD_UTF8: readonly Buffer[] = [
  Buffer.from([0xff]),
  Buffer.from([0xfe, 0xff]),
  Buffer.from([0x80]),
  Buffer.from([0xc0, 0x80]),
  Buffer.from([0xc1, 0xbf]),
  Buffer.from([0xe0, 0x80, 0x80]),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from([0xf4, 0x90, 0x80, 0x80]),
  Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]),
  Buffer.from([0xe2, 0x82]),
  Buffer.from([0xc3]),
];
const badUtf8Arb = fc.constantFrom(...BAD_UTF8);

function insertAt(buf: Buffer, at: number, what: Buffer): Buffer {
  const i = Math.min(at, buf.length);
  return Buffer.concat([buf.subarray(0, i), what, buf.subarray(i)]);
}

/** Texts that are not one JSON object, or not JSON at all. */
const NOT_OBJECT_TEXTS = [
  'null',
  'true',
  '0',
  '-0',
  '1e999',
  '"a string"',
  '"\\ud800"',
  '[]',
  '[{"task":"x"}]',
  'NaN',
  '-Infinity',
  '[NaN, Infinity]',
  '{',
  '}',
  '{"task":',
  '{"task":"x"',
  '{"task":"x",}',
  '{task:"x"}',
  "{'task':'x'}",
  '{"task":"x"}}',
  '{"task":"x"} {"task":"y"}',
  '{"task":"\\x41"}',
  '{"task":"\\u12"}',
  '{"task":"unterminated}',
  '{"task":NaN}',
  '{"task":"x","iters":NaN}',
  '{"task":"x","iters":Infinity}',
  '{"task":"x","batch_size":-Infinity}',
  '{"task":"x","iters":1e999}',
  '{"task":"x","NaN":NaN,"s":"\\"NaN"}',
  '{"a":"NaN',
  '{"task":"x","samples":nan}',
  '{"task":"x","value":Infinityy}',
  '{"task":"a","task":1}',
  '{"__proto__":{"task":"x"}}',
  '{"constructor":{"prototype":{"x":1}}}',
  '\u0000',
  '\ufeff{"task":"x"}',
  '\ufeff\ufeff{"task":"x"}',
  ' \t\r\n ',
  '\n\n\n',
  '/* comment */ {"task":"x"}',
  '{"task":"x"}\u0000',
  '{"task":"x"}\n{"task":"y"}',
];

/** Category "json": broken JSON, non-objects, random bytes, invalid UTF-8, UTF-16, truncations. */
export const brokenJsonArb: fc.Arbitrary<Hostile> = fc
  .record({
    endpoint: endpointArb,
    version: versionArb,
    method: methodArb,
    jsonLinesType: fc.boolean(),
    kind: fc.oneof(
      fc.record({ k: fc.constant('text' as const), text: fc.constantFrom(...NOT_OBJECT_TEXTS) }),
      fc.record({ k: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ k: fc.constant('splice' as const), at: fc.nat(), what: fc.string({ unit: 'binary', minLength: 1, maxLength: 4 }) }),
      fc.record({ k: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 600 }) }),
      fc.record({ k: fc.constant('utf8' as const), at: fc.nat(), bad: badUtf8Arb }),
      fc.record({ k: fc.constant('utf16' as const), le: fc.boolean() }),
      fc.record({ k: fc.constant('random' as const), text: fc.string({ unit: 'binary', maxLength: 200 }) }),
    ),
  })
  .map(({ endpoint, version, method, jsonLinesType, kind }) => {
    const valid = Buffer.from(stringifyJson(validBody(endpoint)));
    let body: Buffer;
    switch (kind.k) {
      case 'text':
        body = Buffer.from(kind.text);
        break;
      case 'truncate':
        body = valid.subarray(0, kind.at % valid.length);
        break;
      case 'splice':
        body = insertAt(valid, kind.at % (valid.length + 1), Buffer.from(kind.what));
        break;
      case 'bytes':
        body = Buffer.from(kind.bytes);
        break;
      case 'utf8':
        body = insertAt(valid, kind.at % (valid.length + 1), kind.bad);
        break;
      case 'utf16': {
        const bom = kind.le ? Buffer.from([0xff, 0xfe]) : Buffer.from([0xfe, 0xff]);
        const text = Buffer.from(valid.toString('utf8'), 'utf16le');
        if (!kind.le) text.swap16();
        body = Buffer.concat([bom, text]);
        break;
      }
      case 'random':
        body = Buffer.from(kind.text);
        break;
    }
    return {
      category: 'json',
      endpoint,
      method,
      path: `/${version}${endpoint}`,
      headers: { ...(jsonLinesType ? JSONL_CT : JSON_CT), ...TENANT_A.headers },
      body,
    };
  });

// ------------------------------------------------------------------------------ json-lines

const KIND_INDEX: Record<string, number> = { training_stats_scalar: 0, training_stats_vector: 1, training_debug_image: 2, plot: 3, log: 4 };

/** Changes that make any (or one kind of) valid event invalid. */
const BAD_EVENT_PATCHES: ReadonlyArray<{ set?: Record<string, unknown>; drop?: string[]; onlyType?: string }> = [
  { drop: ['type'] },
  { drop: ['task'] },
  { set: { type: null } },
  { set: { task: null } },
  { set: { type: 42 } },
  { set: { type: 'training stats bogus' } },
  { set: { type: 'TRAINING_STATS_SCALAR' } },
  { set: { type: '' } },
  { set: { task: '' } },
  { set: { task: 'x'.repeat(257) } },
  { set: { task: 'tab\tin-id' } },
  { set: { task: 'nul\u0000id' } },
  { set: { task: 7 } },
  { set: { task: ['a'] } },
  { set: { iter: 1e20 } },
  { set: { iter: 2 ** 63 } },
  { set: { iter: 1.5 } },
  { set: { iter: '7' } },
  { set: { iter: Number.NaN } },
  { set: { iter: true } },
  { set: { timestamp: 'yesterday' } },
  { set: { timestamp: -1e20 } },
  { set: { timestamp: 1e20 } },
  { set: { timestamp: Number.NaN } },
  { set: { timestamp: Number.POSITIVE_INFINITY } },
  { set: { metric: 5 }, onlyType: 'training_stats_scalar' },
  { set: { variant: { a: 1 } }, onlyType: 'training_stats_vector' },
  { set: { metric: ['m'] }, onlyType: 'training_debug_image' },
  { set: { variant: 1.5 }, onlyType: 'plot' },
  { set: { value: 'high' }, onlyType: 'training_stats_scalar' },
  { set: { value: null }, onlyType: 'training_stats_scalar' },
  { set: { value: [1] }, onlyType: 'training_stats_scalar' },
  { drop: ['value'], onlyType: 'training_stats_scalar' },
  { set: { values: 'nope' }, onlyType: 'training_stats_vector' },
  { set: { values: [1, 'x'] }, onlyType: 'training_stats_vector' },
  { set: { values: [[1]] }, onlyType: 'training_stats_vector' },
  { set: { values: null }, onlyType: 'training_stats_vector' },
  { drop: ['values'], onlyType: 'training_stats_vector' },
  { set: { key: 1 }, onlyType: 'training_debug_image' },
  { set: { url: false }, onlyType: 'training_debug_image' },
  { set: { plot_str: { data: [] } }, onlyType: 'plot' },
  { set: { level: 'loud' }, onlyType: 'log' },
  { set: { level: 3 }, onlyType: 'log' },
  { set: { msg: ['a'] }, onlyType: 'log' },
  { set: { worker: 1 }, onlyType: 'log' },
];

/** One line known to be rejected by add_batch, as bytes (no newline inside). */
export const badLineArb: fc.Arbitrary<Buffer> = fc.oneof(
  // not JSON
  fc.constantFrom('{', '{"type":"log"', 'nope', '{"type":"log","task":"t",}', "{'type':'log'}", '[', 'NaN', '{"a":NaN', '{"type":"log","task":"t"}}').map((s) => Buffer.from(s)),
  // not an object
  fc.constantFrom('[]', '1', '"log"', 'null', 'true', '[{"type":"log","task":"t"}]', 'Infinity').map((s) => Buffer.from(s)),
  // invalid UTF-8 inside an otherwise good event
  fc.tuple(fc.nat(), badUtf8Arb).map(([at, bad]) => {
    const good = Buffer.from(JSON.stringify(validEvent(4, 'bad-utf8-task')));
    return insertAt(good, 1 + (at % (good.length - 1)), bad);
  }),
  // nested deeper than 64 levels
  fc.integer({ min: 65, max: 400 }).map((d) => Buffer.from(`{"type":"log","task":"deep","x":${'['.repeat(d)}${']'.repeat(d)}}`)),
  // wrong type / missing / invalid fields of an otherwise good event
  fc.tuple(fc.nat({ max: 1_000_000 }), fc.constantFrom(...BAD_EVENT_PATCHES)).map(([i, patch]) => {
    const base = patch.onlyType ? validEvent((KIND_INDEX[patch.onlyType] as number) + 5 * i, 'bad-fields-task') : validEvent(i, 'bad-fields-task');
    const e: Record<string, unknown> = { ...base, ...patch.set };
    for (const f of patch.drop ?? []) delete e[f];
    return Buffer.from(stringifyJson(e));
  }),
);

/** Category "jsonlines": add_batch bodies of good and bad lines (known which), blank lines, CRLF, a BOM. */
export const jsonLinesArb: fc.Arbitrary<Hostile> = fc
  .record({
    version: versionArb,
    method: methodArb,
    lines: fc.array(fc.oneof({ weight: 1, arbitrary: fc.nat().map((i) => ({ good: true, i })) }, { weight: 2, arbitrary: badLineArb.map((b) => ({ good: false, b })) }), { maxLength: 40 }),
    blanks: fc.array(fc.constantFrom('', ' ', '\t', '\r', '  \r'), { maxLength: 4 }),
    crlf: fc.boolean(),
    bom: fc.boolean(),
    charset: fc.constantFrom('application/json-lines', 'application/json-lines; charset=utf-8', 'APPLICATION/JSON-LINES', 'application/json-lines;charset=UTF-8 '),
  })
  .map(({ version, method, lines, blanks, crlf, bom, charset }) => {
    const parts: Buffer[] = lines.map((l) => ('b' in l ? l.b : Buffer.from(stringifyJson(validEvent(l.i, `jsonl-${l.i % 3}`)))));
    // Blank lines are not events: neither added nor errors.
    for (const [j, blank] of blanks.entries()) parts.splice((j * 7) % (parts.length + 1), 0, Buffer.from(blank));
    const sep = Buffer.from(crlf ? '\r\n' : '\n');
    const joined: Buffer[] = [];
    parts.forEach((p, j) => {
      if (j > 0) joined.push(sep);
      joined.push(p);
    });
    const body = Buffer.concat([bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), ...joined]);
    const good = lines.filter((l) => l.good).length;
    return {
      category: 'jsonlines',
      endpoint: 'events.add_batch',
      method,
      path: `/${version}events.add_batch`,
      headers: { 'content-type': charset, ...TENANT_A.headers },
      body,
      expect: { good, bad: lines.length - good },
    };
  });

// ------------------------------------------------------------------------------ headers

const token = (payload: Record<string, unknown>, alg = 'HS256'): string =>
  `${Buffer.from(JSON.stringify({ alg, typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${Buffer.from('not-a-signature-of-32-bytes-long!').toString('base64url')}`;

export const BAD_AUTHORIZATION: readonly string[] = [
  '',
  'Basic',
  'Basic ',
  'Basic !!!',
  'Basic ====',
  `Basic ${Buffer.from('no-colon').toString('base64')}`,
  `Basic ${Buffer.from(':secret-a').toString('base64')}`,
  `Basic ${Buffer.from('KEY_A:').toString('base64')}`,
  `Basic ${Buffer.from('KEY_A:wrong').toString('base64')}`,
  `Basic ${Buffer.from('KEY_A:secret-b').toString('base64')}`,
  `Basic ${Buffer.from('nobody:secret-a').toString('base64')}`,
  `Basic ${Buffer.from("' OR 1=1 --:x").toString('base64')}`,
  `Basic ${Buffer.from([0xff, 0xfe, 0x3a, 0x41]).toString('base64')}`,
  `Basic ${'QUFB'.repeat(2000)}`,
  'Bearer',
  'Bearer ',
  'Bearer a',
  'Bearer a.b',
  'Bearer a.b.c',
  'Bearer ...',
  'Bearer !.!.!',
  `Bearer ${token({ tenant: 'tenant-b', exp: 4_000_000_000 })}`,
  `Bearer ${token({ tenant: 'tenant-b', exp: 4_000_000_000 }, 'none')}`,
  `Bearer ${token({ tenant: 'tenant-b', exp: 4_000_000_000 }).split('.').slice(0, 2).join('.')}.`,
  `Bearer ${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from('[1,2]').toString('base64url')}.abc`,
  'Digest username="KEY_A"',
  'Negotiate YII=',
  'KEY_A:secret-a',
  'Basic S0VZX0E6c2VjcmV0LWE= extra',
];

const contentTypeArb = fc.oneof(
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=latin1',
    'application/json-lines',
    'application/x-ndjson',
    'text/plain',
    'text/html',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=xyz',
    'application/octet-stream',
    '*/*',
    ';',
    'application/json-lines; charset=utf-16',
    'application/json-linesx',
    ' application/json-lines ',
  ),
  fc.string({ maxLength: 30 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
);

/** Header values Node's client accepts: tab, printable ASCII, and latin-1. */
const headerValueArb = fc.string({ maxLength: 60 }).map((s) => s.replace(/[^\t\x20-\x7e\xa0-\xff]/g, '').trim());

/** Category "headers": bad Content-Type, Content-Encoding (claimed but not true), Authorization, trx and worker. */
export const headersArb: fc.Arbitrary<Hostile> = fc
  .record({
    endpoint: endpointArb,
    version: versionArb,
    method: methodArb,
    ct: fc.option(contentTypeArb, { nil: undefined }),
    encoding: fc.constantFrom('none', 'gzip', 'gzip-claimed', 'x-gzip', 'GZIP', 'deflate-claimed', 'br-claimed', 'gzip-truncated', 'gzip,gzip', 'identity', 'compress', 'bogus', 'gzip-bomb'),
    auth: fc.oneof({ weight: 2, arbitrary: fc.constant(TENANT_A.headers.authorization as string) }, { weight: 1, arbitrary: fc.constant(TENANT_B.headers.authorization as string) }, { weight: 1, arbitrary: fc.constant(undefined) }, { weight: 4, arbitrary: fc.constantFrom(...BAD_AUTHORIZATION) }, { weight: 1, arbitrary: headerValueArb }),
    trx: fc.option(headerValueArb, { nil: undefined }),
    worker: fc.option(headerValueArb, { nil: undefined }),
    chunked: fc.boolean(),
  })
  .map(({ endpoint, version, method, ct, encoding, auth, trx, worker, chunked }) => {
    const plain = endpoint === 'events.add_batch' ? Buffer.from(`${stringifyJson(validEvent(0))}\n${stringifyJson(validEvent(4))}`) : Buffer.from(stringifyJson(validBody(endpoint)));
    const headers: Record<string, string> = {};
    if (ct !== undefined) headers['content-type'] = ct;
    let body: Buffer = plain;
    switch (encoding) {
      case 'none':
        break;
      case 'gzip':
      case 'x-gzip':
      case 'GZIP':
        headers['content-encoding'] = encoding;
        body = gzipSync(plain);
        break;
      case 'gzip-claimed':
        headers['content-encoding'] = 'gzip';
        break;
      case 'deflate-claimed':
        headers['content-encoding'] = 'deflate';
        break;
      case 'br-claimed':
        headers['content-encoding'] = 'br';
        break;
      case 'gzip-truncated': {
        headers['content-encoding'] = 'gzip';
        const z = gzipSync(plain);
        body = z.subarray(0, Math.max(1, z.length - 9));
        break;
      }
      case 'gzip,gzip':
        headers['content-encoding'] = 'gzip, gzip';
        body = gzipSync(gzipSync(plain));
        break;
      case 'gzip-bomb':
        // 64 MiB of zeros in about 64 KiB: refused at the 16 MiB limit, never inflated whole.
        headers['content-encoding'] = 'gzip';
        body = GZIP_BOMB();
        break;
      default:
        headers['content-encoding'] = encoding;
    }
    if (auth !== undefined) headers['authorization'] = auth;
    if (trx !== undefined) headers['x-clearml-trx'] = trx;
    if (worker !== undefined) headers['x-clearml-worker'] = worker;
    return { category: 'headers', endpoint, method, path: `/${version}${endpoint}`, headers, body, chunked };
  });

let bomb: Buffer | undefined;
function GZIP_BOMB(): Buffer {
  bomb ??= gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
  return bomb;
}

// ------------------------------------------------------------------------------ paths

const BAD_PATHS = [
  '/',
  '//events.add',
  '/events.add//',
  '/v2.23//events.add',
  '/V2.23/events.add',
  '/v2.23.1/events.add',
  '/v2/events.add',
  '/v-1.0/events.add',
  '/v1234567.1/events.add',
  '/v0.0/events.get_task_log',
  '/v1.0/events.add',
  '/v1.4/events.get_task_log',
  '/v2.0/events.debug_images',
  '/events',
  '/events.',
  '/.add',
  '/events..add',
  '/events.add.x',
  '/events.add%00',
  '/events%2Eadd',
  '/events.add%2F',
  '/%2e%2e/events.add',
  '/../events.add',
  '/events.ADD',
  '/EVENTS.add',
  '/events.add;jsessionid=1',
  '/events.add/extra',
  '/events/add',
  '/events.nope',
  '/nope.nope',
  '/auth.logout',
  '/health/x',
  '/metrics.x',
  '/debug.ping',
  '/events.add\\',
  '/v2.23/',
  '/v2.23',
  `/${'a'.repeat(4000)}.b`,
  `/events.${'a'.repeat(4000)}`,
  '/ev%ents.add',
  '/events.add?x=%',
  '/_._',
  '/9events.add',
];

/** Category "paths": malformed and unknown paths, versions out of range, every method. */
export const pathsArb: fc.Arbitrary<Hostile> = fc
  .record({
    path: fc.oneof(
      fc.constantFrom(...BAD_PATHS),
      fc.tuple(fc.constantFrom(...VERSION_PREFIXES, 'v0.1/', 'v1.0/', 'v3.0/', 'v02.023/'), endpointArb, fc.constantFrom('', '/')).map(([v, e, slash]) => `/${v}${e}${slash}`),
      fc.string({ unit: 'binary', maxLength: 30 }).map((s) => `/${encodeURIComponent(s.replace(/[\ud800-\udfff]/g, ''))}`),
      fc.webPath().map((s) => s || '/'),
    ),
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
    endpoint: endpointArb,
  })
  .map(({ path, method, endpoint }) => ({
    category: 'paths',
    endpoint,
    method,
    path: path.startsWith('/') ? path : `/${path}`,
    headers: { ...JSON_CT, ...TENANT_A.headers },
    body: Buffer.from(stringifyJson(validBody(endpoint))),
  }));

/** Whether `endpoint` answers with a raw download (not enveloped) on success. */
export function isDownload(h: Hostile): boolean {
  return /download_task_log/.test(h.path);
}

