import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import Ajv from 'ajv';
import {
  seedDocument,
  SEED_PATH,
  SeedParseError,
  definitionSchema,
  endpointSchema,
  listEndpoints,
  referenceDocument,
  parseHocon,
  resolveRefs,
  type HoconObject,
} from './seed';

function hasRef(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(hasRef);
  if (typeof v === 'object' && v !== null) return Object.entries(v).some(([k, x]) => k === '$ref' || hasRef(x));
  return false;
}

test('the seed ships inside the package, next to dist', () => {
  assert.ok(existsSync(SEED_PATH), SEED_PATH);
  assert.match(SEED_PATH, /event-schema[\\/]seed[\\/]events\.conf$/);
});

test('seedDocument parses the whole seed: every endpoint with its versions', () => {
  assert.deepEqual(listEndpoints(), [
    { action: 'add', versions: ['2.1'] },
    { action: 'add_batch', versions: ['2.1'] },
    { action: 'delete_for_task', versions: ['2.1'] },
    { action: 'debug_images', versions: ['2.1'] },
    { action: 'get_task_log', versions: ['1.5', '1.7'] },
    { action: 'get_task_events', versions: ['2.1'] },
    { action: 'download_task_log', versions: ['2.1'] },
    { action: 'get_task_plots', versions: ['2.1'] },
    { action: 'get_multi_task_plots', versions: ['2.1'] },
    { action: 'get_vector_metrics_and_variants', versions: ['2.1'] },
    { action: 'vector_metrics_iter_histogram', versions: ['2.1'] },
    { action: 'scalar_metrics_iter_histogram', versions: ['2.1'] },
    { action: 'multi_task_scalar_metrics_iter_histogram', versions: ['2.1'] },
    { action: 'get_task_latest_scalar_values', versions: ['2.1'] },
    { action: 'get_scalar_metrics_and_variants', versions: ['2.1'] },
    { action: 'get_scalar_metric_data', versions: ['2.1'] },
  ]);
  const seed = seedDocument().root;
  assert.equal(seed['_description'], 'Provides an API for running tasks to report events collected by the system.');
  assert.deepEqual(Object.keys(seed['_definitions'] as HoconObject), [
    'metrics_scalar_event',
    'metrics_vector_event',
    'metrics_image_event',
    'metrics_plot_event',
    'log_level_enum',
    'task_log_event',
  ]);
});

test('seedDocument is cached and deeply frozen', () => {
  const a = seedDocument().root;
  assert.equal(seedDocument().root, a);
  assert.ok(Object.isFrozen(a));
  const defs = a['_definitions'] as HoconObject;
  assert.ok(Object.isFrozen((defs['log_level_enum'] as HoconObject)['enum']));
});

test('seed details: quirks parsed as HOCON would', () => {
  const seed = seedDocument().root;
  const defs = seed['_definitions'] as HoconObject;
  const scalar = defs['metrics_scalar_event'] as HoconObject;
  assert.deepEqual(scalar['required'], ['task', 'type']);
  assert.deepEqual((scalar['properties'] as HoconObject)['type'], { description: 'training_stats_vector', const: 'training_stats_scalar' });
  const vector = (defs['metrics_vector_event'] as HoconObject)['properties'] as HoconObject;
  assert.deepEqual(vector['values'], { description: 'vector of float values', type: 'array', items: { type: 'number' } });
  const plot = defs['metrics_plot_event'] as HoconObject;
  assert.equal(
    plot['description'],
    " An entire plot (not single datapoint) and it's layout.\n            Used for plotting ROC curves, confidence matrices, etc. when evaluating the net.",
  );
  assert.deepEqual((defs['log_level_enum'] as HoconObject)['enum'], ['notset', 'debug', 'verbose', 'info', 'warn', 'warning', 'error', 'fatal', 'critical']);
  assert.deepEqual(seedDocument().spec('add_batch', '2.1')['batch_request'], { action: 'add', version: 1.5 });
  assert.equal(seedDocument().spec('get_scalar_metrics_and_variants', '2.1')['description'], 'get task scalar metrics and variants');
  const order = (endpointSchema('get_task_events', '2.1')['properties'] as HoconObject)['order'] as HoconObject;
  assert.equal(order['type'], 'string'); // written `type:string`
  const line = (endpointSchema('download_task_log', '2.1')['properties'] as HoconObject)['line_format'] as HoconObject;
  assert.equal(line['default'], '{asctime} {worker} {level} {msg}');
  // `// properties {}` is a comment
  assert.deepEqual(seedDocument().spec('multi_task_scalar_metrics_iter_histogram', '2.1')['response'], { type: 'object', additionalProperties: true });
});

test('endpointSchema: request schemas compile with strict ajv, refs resolved', () => {
  for (const { action, versions } of listEndpoints()) {
    for (const version of versions) {
      if (action === 'add_batch') {
        assert.throws(() => endpointSchema(action, version), /no request schema/);
        continue;
      }
      const schema = endpointSchema(action, version);
      assert.equal(hasRef(schema), false, `${action} ${version}`);
      const ajv = new Ajv({ strict: true });
      assert.doesNotThrow(() => ajv.compile(schema), `${action} ${version}`);
    }
  }
  const v15 = endpointSchema('get_task_log', '1.5');
  const v17 = endpointSchema('get_task_log', '1.7');
  assert.equal((v15['properties'] as HoconObject)['from'], undefined);
  assert.deepEqual(((v17['properties'] as HoconObject)['from'] as HoconObject)['enum'], ['head', 'tail']);
  const validate = new Ajv().compile(v17);
  assert.equal(validate({ task: 'x', from: 'tail', order: 'desc' }), true);
  assert.equal(validate({ task: 'x', from: 'middle' }), false);
  assert.equal(validate({ order: 'asc' }), false);
});

test('endpointSchema: add resolves the five event definitions', () => {
  const add = endpointSchema('add', '2.1');
  const anyOf = add['anyOf'] as HoconObject[];
  assert.equal(anyOf.length, 5);
  const log = anyOf[4] as HoconObject;
  const level = (log['properties'] as HoconObject)['level'] as HoconObject;
  assert.deepEqual(level, {
    type: 'string',
    enum: ['notset', 'debug', 'verbose', 'info', 'warn', 'warning', 'error', 'fatal', 'critical'],
    description: 'Log level.',
  });
  const validate = new Ajv({ strict: true }).compile(add);
  assert.equal(validate({ task: 't', type: 'log', level: 'info' }), true);
  assert.equal(validate({ task: 't', type: 'log', level: 'loud' }), false);
});

test('endpointSchema returns fresh mutable copies', () => {
  const a = endpointSchema('get_task_log', '1.7');
  a['additionalProperties'] = false;
  assert.equal(endpointSchema('get_task_log', '1.7')['additionalProperties'], undefined);
  assert.equal(Object.isFrozen(definitionSchema('task_log_event')), false);
});

test('endpointSchema / spec / definitionSchema: unknown names throw', () => {
  assert.throws(() => endpointSchema('nope', '2.1'), /no endpoint 'nope'/);
  assert.throws(() => endpointSchema('get_task_log', '2.1'), /no version '2.1'/);
  assert.throws(() => endpointSchema('_definitions', 'metrics_scalar_event'), /no endpoint/);
  assert.throws(() => definitionSchema('nope'), /no definition/);
});

test('resolveRefs: siblings override, unknown and circular refs throw', () => {
  const defs = parseHocon('a { type: string, description: A }\nb { "$ref": "#/definitions/c" }\nc { "$ref": "#/definitions/b" }');
  assert.deepEqual(resolveRefs({ x: { $ref: '#/definitions/a', description: 'mine' } }, defs), { x: { type: 'string', description: 'mine' } });
  assert.throws(() => resolveRefs({ $ref: '#/definitions/zz' }, defs), /unknown \$ref/);
  assert.throws(() => resolveRefs({ $ref: '#/definitions/b' }, defs), /circular/);
  assert.throws(() => resolveRefs({ $ref: 'other.json#/x' }, defs), /unsupported/);
});

const snippets: Array<[string, string, unknown]> = [
  ['braced root', '{ a: 1 }', { a: 1 }],
  ['brace-less root', 'a: 1\nb = two', { a: 1, b: 'two' }],
  ['empty', '  \n# only a comment\n', {}],
  ['key { }', 'a { b { c: true } }', { a: { b: { c: true } } }],
  ['key: { }', 'a: { b: null }', { a: { b: null } }],
  ['key value', 'a 12\nb hello world', { a: 12, b: 'hello world' }],
  ['quoted keys', '"$ref": "#/definitions/x"\n"2.1" { x: 1 }', { $ref: '#/definitions/x', '2.1': { x: 1 } }],
  ['dotted unquoted key is a path', 'a.b.c: 1\na.d: 2', { a: { b: { c: 1 }, d: 2 } }],
  ['multi-word unquoted value runs to end of line', 'description: get task scalar metrics and variants  \nx: 1', { description: 'get task scalar metrics and variants', x: 1 }],
  ['unquoted value stops at a comment', 'a: some text # note\nb: x // note', { a: 'some text', b: 'x' }],
  ['numbers', 'a: 1.5\nb: -2\nc: 1e3\nd: 0.25\ne: 1.5.1\nf: 01', { a: 1.5, b: -2, c: 1000, d: 0.25, e: '1.5.1', f: '01' }],
  ['booleans and null', 'a: true, b: false, c: null, d: truex', { a: true, b: false, c: null, d: 'truex' }],
  ['inline object', 'items { type: number }', { items: { type: 'number' } }],
  ['commas between fields', '{ a: 1, b: 2, }', { a: 1, b: 2 }],
  ['arrays by newlines', 'enum: [\n  asc\n  desc\n]', { enum: ['asc', 'desc'] }],
  ['arrays by commas', 'required: [ task, type ]', { required: ['task', 'type'] }],
  ['arrays mixed, trailing comma', 'a: [1,\n2\n, 3,]', { a: [1, 2, 3] }],
  ['array of objects', 'anyOf: [\n { "$ref": "#/x" }\n { type: string }\n]', { anyOf: [{ $ref: '#/x' }, { type: 'string' }] }],
  ['nested arrays', 'a: [[1, 2], [], ["x"]]', { a: [[1, 2], [], ['x']] }],
  ['empty array and object', 'a: []\nb {}', { a: [], b: {} }],
  ['escapes', String.raw`a: "q\" b\\ s\/ \b\f\n\r\t \u00e9\ud83d\ude00"`, { a: 'q" b\\ s/ \b\f\n\r\t é😀' }],
  ['quoted string keeps # and //', 'a: "x # y // z"', { a: 'x # y // z' }],
  ['triple quoted, multi-line, no escapes', 'a: """ one\n  two \\n "quoted" """\nb: 1', { a: ' one\n  two \\n "quoted" ', b: 1 }],
  ['triple quoted with extra closing quotes', 'a: """x""""', { a: 'x"' }],
  ['comments everywhere', '// top\n{ # c\n a: 1 // c\n # c\n b: [ 1 # c\n 2 ]\n}\n// end', { a: 1, b: [1, 2] }],
  ['duplicate objects merge', 'a { x: 1, y: 1 }\na { y: 2, z: 3 }', { a: { x: 1, y: 2, z: 3 } }],
  ['duplicate scalar: last wins', 'a: 1\na: 2', { a: 2 }],
  ['CRLF line ends and BOM', '\ufeffa: 1\r\nb: two words\r\n', { a: 1, b: 'two words' }],
  ['equals separator', 'a = { b = 1 }', { a: { b: 1 } }],
  ['colon without space', 'type:string', { type: 'string' }],
];

for (const [name, text, expected] of snippets) {
  test(`parseHocon: ${name}`, () => {
    assert.deepEqual(parseHocon(text), expected);
  });
}

test('parseHocon: __proto__ is an ordinary key', () => {
  const o = parseHocon('"__proto__" { polluted: true }');
  assert.equal(Object.getPrototypeOf(o), Object.prototype);
  assert.deepEqual(Object.keys(o), ['__proto__']);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
});

const bad: Array<[string, string, RegExp]> = [
  ['missing }', 'a { b: 1', /missing '}'/],
  ['missing ]', 'a: [1, 2', /missing '\]'/],
  ['unterminated string', 'a: "abc', /unterminated string/],
  ['newline in string', 'a: "ab\nc"', /newline in a quoted string/],
  ['unterminated triple string', 'a: """abc', /unterminated """/],
  ['bad escape', 'a: "\\q"', /invalid escape/],
  ['bad unicode escape', 'a: "\\u12G4"', /invalid \\u escape/],
  ['substitution without the include option', 'a: ${b}', /substitutions are not supported/],
  ['+=', 'a += 1', /'\+=' is not supported/],
  ['include without the include option', 'include "x.conf"', /'include' is not supported/],
  ['missing value', 'a:\n', /expected a value/],
  ['text after string', 'a: "x" y', /unexpected text after a quoted string/],
  ['stray close', 'a: 1\n}', /expected a key/],
  ['double comma in array', 'a: [1,,2]', /unexpected ','/],
  ['two fields on a line', '{ a { } b { } }', /expected a newline/],
  ['text after root object', '{ a: 1 } b', /unexpected text after the root object/],
];

for (const [name, text, message] of bad) {
  test(`parseHocon rejects: ${name}`, () => {
    assert.throws(
      () => parseHocon(text),
      (e: unknown) => e instanceof SeedParseError && message.test(e.message) && e.line >= 1 && e.column >= 1,
    );
  });
}

test('parseHocon: errors carry line and column', () => {
  try {
    parseHocon('a {\n  b: 1\n  c: "x\n}');
    assert.fail('should throw');
  } catch (e) {
    assert.ok(e instanceof SeedParseError);
    assert.equal(e.line, 3);
    assert.equal(e.column, 8);
  }
});

const files: Record<string, string> = { 'common.conf': 'shared { type: string }\nother: 1' };
const withIncludes = { include: (name: string): string => files[name] ?? assert.fail(`unexpected include ${name}`) };

test('parseHocon with includes: an included file\'s fields merge into the object that includes it', () => {
  assert.deepEqual(parseHocon('defs {\n  include "common.conf"\n  mine { type: integer }\n}', withIncludes), {
    defs: { shared: { type: 'string' }, other: 1, mine: { type: 'integer' } },
  });
  // A key named "include" (quoted, or not followed by a file name) is an ordinary key.
  assert.deepEqual(parseHocon('p { "include" { type: array } }', withIncludes), { p: { include: { type: 'array' } } });
});

test('parseHocon with includes: ${path} copies a value and an object after it is merged over the copy', () => {
  const doc = parseHocon(
    'add {\n  "2.1" { request { type: object, properties { a { type: string } } } }\n' +
      '  "2.22": ${add."2.1"} {\n    request.properties { b { type: boolean } }\n  }\n' +
      '  "2.30": ${add."2.22"}\n}',
    withIncludes,
  );
  const add = doc['add'] as HoconObject;
  assert.deepEqual(add['2.1'], { request: { type: 'object', properties: { a: { type: 'string' } } } });
  assert.deepEqual(add['2.22'], { request: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'boolean' } } } });
  assert.deepEqual(add['2.30'], add['2.22']);
  // Copies: the overlay did not reach the version it was copied from.
  assert.notEqual(add['2.30'], add['2.22']);
});

for (const [name, text, message] of [
  ['a path that names nothing', 'a: ${b.c}', /names nothing/],
  ['a cycle', 'a: ${b}\nb: ${a}', /circular substitution/],
  ['an object merged over a non-object', 'a: 1\nb: ${a} { c: 2 }', /not an object/],
  ['an unterminated substitution', 'a: ${b\n', /unterminated substitution/],
  ['a malformed path', 'a: ${b..c}', /invalid substitution path/],
] as Array<[string, string, RegExp]>) {
  test(`parseHocon with includes rejects ${name}`, () => {
    assert.throws(() => parseHocon(text, withIncludes), (e: unknown) => e instanceof SeedParseError && message.test(e.message));
  });
}

test('referenceDocument: the current API\'s 28 endpoints with their versions, every request schema compiling', () => {
  const doc = referenceDocument();
  const endpoints = doc.endpoints();
  assert.equal(endpoints.length, 28);
  const versions = Object.fromEntries(endpoints.map((e) => [e.action, e.versions]));
  assert.deepEqual(versions['debug_images'], ['2.1', '2.7', '2.14', '2.22']);
  assert.deepEqual(versions['get_task_log'], ['1.5', '1.7', '2.9', '2.30']);
  assert.deepEqual(versions['clear_task_log'], ['2.19', '2.30']);
  for (const { action, versions: vs } of endpoints) {
    for (const version of vs) {
      if (action === 'add_batch') continue;
      const schema = doc.requestSchema(action, version);
      assert.equal(hasRef(schema), false, `${action} ${version}`);
      assert.doesNotThrow(() => new Ajv({ strict: false }).compile(schema), `${action} ${version}`);
    }
  }
  // Inherited versions carry what they add over what they copy.
  const add222 = doc.requestSchema('add', '2.22')['properties'] as HoconObject;
  assert.deepEqual(Object.keys(add222), ['model_event', 'allow_locked']);
  const log230 = doc.requestSchema('get_task_log', '2.30')['properties'] as HoconObject;
  assert.ok('navigate_earlier' in log230 && 'from_timestamp' in log230, Object.keys(log230).join());
});
