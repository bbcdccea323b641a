import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { deflateSync, gunzipSync, gzipSync } from 'node:zlib';
import { createRegistry } from '@trackstream/metrics';
import { createAuth } from './auth';
import { RequestAbortedError, type EventLine } from './body';
import { attachment, eventsEndpoint, objectEndpoint, rawResponse, type Endpoint, type RequestContext } from './endpoint';
import { unavailable } from './errors';
import { acceptsGzip, createApiRouter } from './router';
import { basic, decodeJwtPayload, deferred, silentLogger, startApp, type TestApp } from './test-support';
import { compareVersions } from './version';

/** Everything a handler saw, echoed back as data. */
function seen(ctx: RequestContext, body: unknown): Record<string, unknown> {
  return {
    body,
    tenant: ctx.tenant,
    accessKey: ctx.identity.accessKey ?? null,
    worker: ctx.worker ?? null,
    trx: ctx.trx,
    requestId: ctx.requestId,
    endpoint: ctx.endpoint,
    requestedVersion: ctx.requestedVersion,
    actualVersion: ctx.actualVersion,
    query: ctx.query,
    method: ctx.req.method,
  };
}

const aborts: Array<{ endpoint: string; reason: unknown }> = [];
const streamClosed = deferred<number>();

const endpoints: Endpoint[] = [
  objectEndpoint({
    name: 'events.get_task_log',
    versions: [
      { version: '1.5', handle: async (ctx, body) => seen(ctx, body) },
      { version: '1.7', handle: async (ctx, body) => seen(ctx, body) },
    ],
  }),
  // A typed body: the endpoint list accepts it.
  objectEndpoint<{ task: string; iters: number; order?: 'asc' | 'desc' }>({
    name: 'events.debug_images',
    versions: [
      {
        version: '2.1',
        schema: {
          type: 'object',
          required: ['task', 'iters'],
          properties: {
            task: { type: 'string' },
            iters: { type: 'integer', minimum: 1 },
            order: { type: 'string', enum: ['asc', 'desc'], default: 'asc' },
          },
        },
        handle: async (ctx, body) => ({ task: body.task, iters: body.iters, order: body.order, query: ctx.query }),
      },
    ],
  }),
  objectEndpoint({ name: 'events.echo', versions: [{ version: '2.1', handle: async (ctx, body) => seen(ctx, body) }] }),
  eventsEndpoint({
    name: 'events.add_batch',
    versions: [{ version: '2.1', handle: async (ctx, events: EventLine[]) => ({ events, query: ctx.query, worker: ctx.worker ?? null }) }],
  }),
  objectEndpoint({ name: 'events.nothing', versions: [{ version: '2.1', handle: async () => undefined }] }),
  objectEndpoint({ name: 'events.nan', versions: [{ version: '2.1', handle: async () => ({ y: [1, NaN, Infinity, -Infinity], s: 'NaN' }) }] }),
  objectEndpoint({
    name: 'events.boom',
    versions: [
      {
        version: '2.1',
        handle: async () => {
          throw new TypeError('a bug with a secret inside');
        },
      },
    ],
  }),
  objectEndpoint({
    name: 'events.kafka_down',
    versions: [
      {
        version: '2.1',
        handle: async () => {
          throw unavailable('kafka', 7);
        },
      },
    ],
  }),
  objectEndpoint({
    name: 'events.wait_abort',
    versions: [
      {
        version: '2.1',
        handle: (ctx) =>
          new Promise((resolve) => {
            ctx.signal.addEventListener('abort', () => {
              aborts.push({ endpoint: ctx.endpoint, reason: ctx.signal.reason });
              resolve({ late: true });
            });
          }),
      },
    ],
  }),
  objectEndpoint<{ task: string }>({
    name: 'events.download_task_log',
    versions: [
      {
        version: '2.1',
        schema: { type: 'object', required: ['task'], properties: { task: { type: 'string' } } },
        handle: async (_ctx, body) => {
          async function* lines(): AsyncGenerator<string> {
            for (let i = 0; i < 1000; i++) yield `line ${i} of ${body.task}\n`;
          }
          return rawResponse({
            contentType: 'text/plain; charset=utf-8',
            headers: { 'Content-Disposition': attachment(`task_${body.task}.log`) },
            stream: lines(),
          });
        },
      },
    ],
  }),
  objectEndpoint({
    name: 'events.large',
    versions: [{ version: '2.1', handle: async () => ({ text: 'chart '.repeat(10_000), nan: NaN }) }],
  }),
  objectEndpoint({
    name: 'events.endless',
    versions: [
      {
        version: '2.1',
        handle: async () => {
          let written = 0;
          async function* chunks(): AsyncGenerator<Buffer> {
            try {
              for (;;) {
                written++;
                yield Buffer.alloc(64 * 1024, 0x61);
              }
            } finally {
              streamClosed.resolve(written);
            }
          }
          return rawResponse({ contentType: 'text/plain', stream: chunks() });
        },
      },
    ],
  }),
];

let app: TestApp;
before(async () => {
  app = await startApp({ endpoints, timeoutMs: 300, bodyLimit: 64 * 1024 });
});
after(() => app.close());

interface Env {
  meta: {
    id: string;
    trx: string;
    endpoint: { name: string | null; requested_version: string | null; actual_version: string | null };
    result_code: number;
    result_subcode: number;
    result_msg: string;
    error_stack: null;
    error_data: Record<string, unknown>;
  };
  data: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe('paths and version dispatch', () => {
  test('table', async () => {
    const cases: Array<{ path: string; status: number; subcode?: number; requested?: string | null; actual?: string | null; name?: string | null }> = [
      { path: '/events.get_task_log', status: 200, requested: null, actual: '1.7', name: 'events.get_task_log' },
      { path: '/events.get_task_log/', status: 200, requested: null, actual: '1.7' },
      { path: '/v1.5/events.get_task_log', status: 200, requested: '1.5', actual: '1.5' },
      { path: '/v1.6/events.get_task_log', status: 200, requested: '1.6', actual: '1.5' },
      { path: '/v1.7/events.get_task_log/', status: 200, requested: '1.7', actual: '1.7' },
      { path: '/v2.23/events.get_task_log', status: 200, requested: '2.23', actual: '1.7' },
      { path: '/v9.9/events.get_task_log', status: 200, requested: '9.9', actual: '1.7' },
      { path: '/v2.23/events.echo', status: 200, requested: '2.23', actual: '2.1' },
      { path: '/v2.1/events.echo/', status: 200, requested: '2.1', actual: '2.1' },
      { path: '/v1.0/events.get_task_log', status: 404, subcode: 0, requested: '1.0', actual: null, name: 'events.get_task_log' },
      { path: '/v2.0/events.echo', status: 404, subcode: 0 },
      { path: '/events.nope', status: 404, subcode: 0, name: 'events.nope', actual: null },
      { path: '/v2.23/nope.nothing', status: 404, subcode: 0 },
      { path: '/foo', status: 400, subcode: 0, name: null, requested: null, actual: null },
      { path: '/', status: 400, subcode: 0 },
      { path: '/v2/events.echo', status: 400, subcode: 0 },
      { path: '/v2.1/', status: 400, subcode: 0 },
      { path: '/events.echo//', status: 400, subcode: 0 },
      { path: '/a/b/c', status: 400, subcode: 0 },
    ];
    for (const c of cases) {
      for (const method of ['GET', 'POST']) {
        const res = await app.send({ method, path: c.path });
        const env = res.json<Env>();
        const what = `${method} ${c.path}`;
        assert.equal(res.status, c.status, what);
        assert.equal(env.meta.result_code, c.status, what);
        if (c.subcode !== undefined) assert.equal(env.meta.result_subcode, c.subcode, what);
        if (c.requested !== undefined) assert.equal(env.meta.endpoint.requested_version, c.requested, what);
        if (c.actual !== undefined) assert.equal(env.meta.endpoint.actual_version, c.actual, what);
        if (c.name !== undefined) assert.equal(env.meta.endpoint.name, c.name, what);
        if (c.status === 200) {
          assert.equal(env.data.actualVersion, c.actual, what);
          assert.equal(env.data.method, method);
        }
      }
    }
  });

  test('invalid path message; /health mounted before is untouched', async () => {
    const res = await app.send({ path: '/foo' });
    assert.match(res.json<Env>().meta.result_msg, /^Invalid request path/);
    const health = await app.send({ method: 'GET', path: '/health' });
    assert.equal(health.status, 200);
    assert.deepEqual(JSON.parse(health.text), { status: 'ok' });
  });

  test('methods other than GET/POST: 404 envelope', async () => {
    const res = await app.send({ method: 'PUT', path: '/events.echo', body: '{}' });
    assert.equal(res.status, 404);
    assert.equal(res.json<Env>().meta.result_code, 404);
  });
});

describe('envelope', () => {
  test('shape of a success', async () => {
    const res = await app.send({ path: '/v2.23/events.echo', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const env = res.json<Env>();
    assert.deepEqual(Object.keys(env).sort(), ['data', 'meta']);
    assert.deepEqual(Object.keys(env.meta).sort(), ['endpoint', 'error_data', 'error_stack', 'id', 'result_code', 'result_msg', 'result_subcode', 'trx']);
    assert.match(env.meta.id, /^[0-9a-f]{32}$/);
    assert.equal(env.meta.trx, env.meta.id);
    assert.deepEqual(env.meta.endpoint, { name: 'events.echo', requested_version: '2.23', actual_version: '2.1' });
    assert.equal(env.meta.result_code, 200);
    assert.equal(env.meta.result_subcode, 0);
    assert.equal(env.meta.result_msg, 'OK');
    assert.equal(env.meta.error_stack, null);
    assert.deepEqual(env.meta.error_data, {});
    assert.deepEqual(env.data.body, { a: 1 });
    assert.equal(env.data.requestId, env.meta.id);
  });

  test('shape of an error: data is {}', async () => {
    const env = (await app.send({ path: '/events.nope' })).json<Env>();
    assert.deepEqual(env.data, {});
    assert.equal(env.meta.error_stack, null);
    assert.deepEqual(env.meta.error_data, {});
    assert.match(env.meta.id, /^[0-9a-f]{32}$/);
  });

  test('ids are unique; X-ClearML-Trx (or X-Trains-Trx) is echoed', async () => {
    const a = (await app.send({ path: '/events.echo' })).json<Env>();
    const b = (await app.send({ path: '/events.echo' })).json<Env>();
    assert.notEqual(a.meta.id, b.meta.id);
    const c = (await app.send({ path: '/events.echo', headers: { 'X-ClearML-Trx': 'trx-123' } })).json<Env>();
    assert.equal(c.meta.trx, 'trx-123');
    assert.equal(c.data.trx, 'trx-123');
    const d = (await app.send({ path: '/events.nope', headers: { 'X-ClearML-Trx': 'trx-err' } })).json<Env>();
    assert.equal(d.meta.trx, 'trx-err');
    const e = (await app.send({ path: '/events.echo', headers: { 'X-Trains-Trx': 'old' } })).json<Env>();
    assert.equal(e.meta.trx, 'old');
  });

  test('undefined data is {}; NaN and infinities are written as bare tokens', async () => {
    assert.deepEqual((await app.send({ path: '/events.nothing' })).json<Env>().data, {});
    const res = await app.send({ path: '/events.nan' });
    assert.match(res.text, /"y":\[1,NaN,Infinity,-Infinity\],"s":"NaN"/);
    assert.deepEqual(res.json<Env>().data, { y: [1, NaN, Infinity, -Infinity], s: 'NaN' });
  });

  test('worker header reaches the handler', async () => {
    const a = (await app.send({ path: '/events.echo', headers: { 'X-ClearML-Worker': 'w1' } })).json<Env>();
    assert.equal(a.data.worker, 'w1');
    const b = (await app.send({ path: '/events.echo', headers: { 'X-Trains-Worker': 'w2' } })).json<Env>();
    assert.equal(b.data.worker, 'w2');
    const c = (await app.send({ path: '/events.echo' })).json<Env>();
    assert.equal(c.data.worker, null);
    assert.equal(c.data.tenant, 'default');
  });
});

describe('bodies', () => {
  const lines = ['{"type":"log","msg":"a"}', '', '  ', '{"type":"training_stats_scalar","value":NaN}', '{"bad json', '{"s":"NaN Infinity"}', ''].join('\n');

  test('json-lines: blank lines skipped, one bad line spoils only itself', async () => {
    for (const ct of ['application/json-lines', 'application/json-lines; charset=utf-8']) {
      const res = await app.send({ path: '/events.add_batch?task=x', body: lines, headers: { 'content-type': ct } });
      assert.equal(res.status, 200, ct);
      const data = res.json<Env>().data;
      assert.deepEqual(data.events, [
        { ok: true, value: { type: 'log', msg: 'a' } },
        { ok: true, value: { type: 'training_stats_scalar', value: NaN } },
        { ok: false, error: 'Validation error: invalid JSON' },
        { ok: true, value: { s: 'NaN Infinity' } },
      ]);
      // Query parameters stay out of events.
      assert.deepEqual(data.query, { task: 'x' });
    }
  });

  test('events endpoint: one JSON object is one event, empty body none, array 400/12', async () => {
    const one = await app.send({ path: '/events.add_batch', body: '{"type":"log"}', headers: { 'content-type': 'application/json' } });
    assert.deepEqual(one.json<Env>().data.events, [{ ok: true, value: { type: 'log' } }]);
    const none = await app.send({ path: '/events.add_batch' });
    assert.deepEqual(none.json<Env>().data.events, []);
    const arr = await app.send({ path: '/events.add_batch', body: '[{"type":"log"}]' });
    assert.equal(arr.status, 400);
    assert.equal(arr.json<Env>().meta.result_subcode, 12);
  });

  test('object bodies table', async () => {
    const gz = gzipSync(Buffer.from('{"task":"zipped","v":NaN}'));
    const cases: Array<{ name: string; method?: string; path?: string; body?: string | Buffer; headers?: Record<string, string>; status: number; subcode?: number; body_out?: unknown; msg?: RegExp }> = [
      { name: 'plain', body: '{"task":"t","n":1}', status: 200, body_out: { task: 't', n: 1 } },
      { name: 'empty body', status: 200, body_out: {} },
      { name: 'whitespace body', body: ' \n ', status: 200, body_out: {} },
      { name: 'content type ignored', body: '{"a":1}', headers: { 'content-type': 'text/plain' }, status: 200, body_out: { a: 1 } },
      { name: 'GET with a body', method: 'GET', body: '{"task":"g"}', status: 200, body_out: { task: 'g' } },
      {
        name: 'non-finite tokens, strings untouched',
        body: '{"a":NaN,"b":Infinity,"c":-Infinity,"s":"NaN Infinity -Infinity","t":"x\\"NaN"}',
        status: 200,
        body_out: { a: NaN, b: Infinity, c: -Infinity, s: 'NaN Infinity -Infinity', t: 'x"NaN' },
      },
      { name: 'gzip', body: gz, headers: { 'content-encoding': 'gzip' }, status: 200, body_out: { task: 'zipped', v: NaN } },
      { name: 'GET gzip', method: 'GET', body: gz, headers: { 'content-encoding': 'gzip' }, status: 200, body_out: { task: 'zipped', v: NaN } },
      { name: 'deflate', body: deflateSync(Buffer.from('{"d":1}')), headers: { 'content-encoding': 'deflate' }, status: 200, body_out: { d: 1 } },
      {
        name: 'query merged over body, coerced',
        path: '/events.echo?task=abc&iters=5&ratio=0.5&flag=true&off=false&k[]=a&k[]=b&m=1&m=2&one[]=x',
        body: '{"task":"from-body","other":1}',
        status: 200,
        body_out: { task: 'abc', other: 1, iters: 5, ratio: 0.5, flag: true, off: false, k: ['a', 'b'], m: [1, 2], one: ['x'] },
      },
      { name: 'query on GET without body', method: 'GET', path: '/events.echo?task=q&iters=3', status: 200, body_out: { task: 'q', iters: 3 } },
      { name: 'array body', body: '[1,2]', status: 400, subcode: 12, msg: /^Validation error/ },
      { name: 'string body', body: '"s"', status: 400, subcode: 12 },
      { name: 'null body', body: 'null', status: 400, subcode: 12 },
      { name: 'invalid JSON', body: '{"a":', status: 400, subcode: 12, msg: /^Validation error/ },
      { name: 'invalid UTF-8', body: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), status: 400, subcode: 12 },
      { name: '30k-deep arrays', body: '{"a":' + '['.repeat(30_000) + ']'.repeat(30_000) + '}', status: 400, subcode: 12 },
      { name: '30k-deep arrays with NaN', body: '{"a":' + '['.repeat(30_000) + 'NaN' + ']'.repeat(30_000) + '}', status: 400, subcode: 12 },
      { name: '65-deep objects', body: '{"a":'.repeat(65) + '1' + '}'.repeat(65), status: 400, subcode: 12, msg: /deeper than 64/ },
      { name: '64-deep objects', body: '{"a":'.repeat(64) + '1' + '}'.repeat(64), status: 200 },
      { name: 'corrupt gzip', body: Buffer.from('not gzip at all'), headers: { 'content-encoding': 'gzip' }, status: 400, subcode: 12 },
      { name: 'unknown encoding', body: '{}', headers: { 'content-encoding': 'zstd-ish' }, status: 400, subcode: 12 },
    ];
    for (const c of cases) {
      const res = await app.send({ method: c.method ?? 'POST', path: c.path ?? '/events.echo', ...(c.body !== undefined ? { body: c.body } : {}), ...(c.headers ? { headers: c.headers } : {}) });
      const env = res.json<Env>();
      assert.equal(res.status, c.status, `${c.name}: ${res.text.slice(0, 300)}`);
      assert.equal(env.meta.result_code, c.status, c.name);
      if (c.subcode !== undefined) assert.equal(env.meta.result_subcode, c.subcode, c.name);
      if (c.body_out !== undefined) assert.deepEqual(env.data.body, c.body_out, c.name);
      if (c.msg) assert.match(env.meta.result_msg, c.msg, c.name);
      if (c.status !== 200) assert.deepEqual(env.data, {}, c.name);
    }
  });

  test('over the limit: 413 envelope, plain and gzip-decompressed', async () => {
    const big = '{"x":"' + 'a'.repeat(200 * 1024) + '"}';
    const plain = await app.send({ path: '/events.echo', body: big });
    assert.equal(plain.status, 413);
    const env = plain.json<Env>();
    assert.equal(env.meta.result_code, 413);
    assert.equal(env.meta.result_subcode, 0);
    assert.match(env.meta.result_msg, /65536/);

    // 4 MiB of zeros gzip to a few KiB: refused on the decompressed size.
    const bomb = gzipSync(Buffer.concat([Buffer.from('{"x":"'), Buffer.alloc(4 * 1024 * 1024, 0x30), Buffer.from('"}')]));
    assert.ok(bomb.length < 64 * 1024);
    const zipped = await app.send({ path: '/events.echo', body: bomb, headers: { 'content-encoding': 'gzip' } });
    assert.equal(zipped.status, 413);
    assert.equal(zipped.json<Env>().meta.result_code, 413);

    // Without Content-Length (chunked upload) too.
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: app.port, method: 'POST', path: '/events.echo', agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write(Buffer.alloc(16 * 1024, 0x20));
      req.end();
    });
    assert.equal(chunked, 413);

    // The events endpoint has the same limit.
    const batch = await app.send({ path: '/events.add_batch', body: big, headers: { 'content-type': 'application/json-lines' } });
    assert.equal(batch.status, 413);
    // And the connection stays usable for the next request.
    assert.equal((await app.send({ path: '/events.echo', body: '{}' })).status, 200);
  });
});

describe('slow and oversized uploads', () => {
  test('a body still arriving at the timeout: 503, connection closed', async () => {
    const res = await new Promise<{ status: number; connection: string | undefined; text: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: app.port, method: 'POST', path: '/events.echo', headers: { 'content-length': '1000' }, agent: false }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => {
          resolve({ status: r.statusCode ?? 0, connection: r.headers.connection, text: Buffer.concat(chunks).toString() });
          req.destroy();
        });
      });
      req.on('error', reject);
      req.write('{"a":');
    });
    assert.equal(res.status, 503);
    assert.equal(res.connection, 'close');
    assert.equal(JSON.parse(res.text).meta.result_code, 503);
  });

  test('far over the limit: reading stops, 413 with the connection closed, nothing hangs', async () => {
    const small = await startApp({ endpoints, bodyLimit: 1024, drainLimit: 8 * 1024, drainTimeoutMs: 2000 });
    try {
      const outcome = await new Promise<string>((resolve) => {
        const req = httpRequest({ host: '127.0.0.1', port: small.port, method: 'POST', path: '/events.echo', agent: false }, (r) => {
          r.resume();
          r.on('end', () => resolve(`${r.statusCode} ${r.headers.connection}`));
          r.on('error', () => resolve('reset'));
        });
        // Depending on timing the client sees the 413 or a reset; it must see one of them.
        req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNRESET' || e.code === 'EPIPE' ? 'reset' : `error ${e.code}`));
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let sent = 0;
        const pump = (): void => {
          while (sent < 64) {
            sent++;
            if (!req.write(chunk)) {
              req.once('drain', pump);
              return;
            }
          }
          req.end();
        };
        pump();
      });
      assert.ok(outcome === '413 close' || outcome === 'reset', outcome);
      // A well-behaved request right after works.
      assert.equal((await small.send({ path: '/events.echo', body: '{}' })).status, 200);
    } finally {
      await small.close();
    }
  });
});

describe('validation', () => {
  test('table: required 400/11, others 400/12, unknown fields ignored, defaults filled', async () => {
    const cases: Array<{ body: string; status: number; subcode?: number; msg?: string | RegExp; data?: unknown }> = [
      { body: '{}', status: 400, subcode: 11, msg: 'Missing required fields: missing=(task, iters)' },
      { body: '{"iters":1}', status: 400, subcode: 11, msg: 'Missing required fields: missing=(task)' },
      { body: '{"task":1,"iters":1}', status: 400, subcode: 12, msg: /^Validation error: task must be string/ },
      { body: '{"task":"t","iters":0}', status: 400, subcode: 12, msg: /^Validation error: iters must be >= 1/ },
      { body: '{"task":"t","iters":1.5}', status: 400, subcode: 12, msg: /iters must be integer/ },
      { body: '{"task":"t","iters":1,"order":"up"}', status: 400, subcode: 12, msg: /order must be one of: asc, desc/ },
      { body: '{"task":"t","iters":2,"allow_locked":true,"future_field":{"x":1}}', status: 200, data: { task: 't', iters: 2, order: 'asc', query: {} } },
      { body: '{"task":"t","iters":2,"order":"desc"}', status: 200, data: { task: 't', iters: 2, order: 'desc', query: {} } },
    ];
    for (const c of cases) {
      const res = await app.send({ path: '/events.debug_images', body: c.body });
      const env = res.json<Env>();
      assert.equal(res.status, c.status, c.body);
      if (c.subcode !== undefined) assert.equal(env.meta.result_subcode, c.subcode, c.body);
      if (typeof c.msg === 'string') assert.equal(env.meta.result_msg, c.msg, c.body);
      else if (c.msg) assert.match(env.meta.result_msg, c.msg, c.body);
      if (c.data !== undefined) assert.deepEqual(env.data, c.data, c.body);
    }
    const missing = (await app.send({ path: '/events.debug_images', body: '{}' })).json<Env>();
    assert.deepEqual(missing.meta.error_data, { missing: ['task', 'iters'] });
  });

  test('query values validate with their coerced types', async () => {
    const ok = await app.send({ method: 'GET', path: '/events.debug_images?task=t&iters=3' });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json<Env>().data, { task: 't', iters: 3, order: 'asc', query: { task: 't', iters: 3 } });
  });
});

describe('errors', () => {
  test('a throwing handler is 500/0, without the cause in the answer', async () => {
    const res = await app.send({ path: '/events.boom' });
    assert.equal(res.status, 500);
    const env = res.json<Env>();
    assert.equal(env.meta.result_code, 500);
    assert.equal(env.meta.result_subcode, 0);
    assert.equal(env.meta.result_msg, 'Internal server error');
    assert.ok(!res.text.includes('secret'));
    assert.deepEqual(env.data, {});
  });

  test('503 carries Retry-After', async () => {
    const res = await app.send({ path: '/events.kafka_down' });
    assert.equal(res.status, 503);
    assert.equal(res.headers['retry-after'], '7');
    const env = res.json<Env>();
    assert.equal(env.meta.result_code, 503);
    assert.match(env.meta.result_msg, /kafka/);
  });

  test('request timeout: the signal fires and the client gets 503 with Retry-After', async () => {
    aborts.length = 0;
    const res = await app.send({ path: '/events.wait_abort' });
    assert.equal(res.status, 503);
    assert.equal(res.headers['retry-after'], '5');
    assert.match(res.json<Env>().meta.result_msg, /timed out/);
    assert.equal(aborts.length, 1);
    assert.equal(aborts[0]?.endpoint, 'events.wait_abort');
  });

  test('client disconnect: the signal fires with RequestAbortedError', async () => {
    aborts.length = 0;
    const req = httpRequest({ host: '127.0.0.1', port: app.port, method: 'POST', path: '/events.wait_abort', agent: false });
    req.on('error', () => undefined);
    req.end('{}');
    await new Promise((r) => setTimeout(r, 50));
    req.destroy();
    for (let i = 0; i < 100 && aborts.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(aborts.length, 1);
    assert.ok(aborts[0]?.reason instanceof RequestAbortedError);
  });
});

describe('raw responses', () => {
  test('streamed text/plain attachment, not enveloped', async () => {
    const res = await app.send({ method: 'GET', path: '/events.download_task_log?task=abc' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(res.headers['content-disposition'], 'attachment; filename="task_abc.log"');
    const lines = res.text.split('\n');
    assert.equal(lines.length, 1001);
    assert.equal(lines[0], 'line 0 of abc');
    assert.equal(lines[999], 'line 999 of abc');
    // Its schema still applies before streaming.
    const bad = await app.send({ path: '/events.download_task_log' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json<Env>().meta.result_subcode, 11);
  });

  test('the stream stops (return() runs) when the client goes away, with backpressure', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: app.port, method: 'GET', path: '/events.endless', agent: false }, (res) => {
        let got = 0;
        res.on('data', (c: Buffer) => {
          got += c.length;
          if (got > 1024 * 1024) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', () => undefined);
      req.once('error', reject);
      req.end();
    });
    const written = await streamClosed.promise;
    // Backpressure: the generator ran ahead of the 1 MiB read by socket buffers only, not forever.
    assert.ok(written < 2000, `wrote ${written} chunks`);
  });
});

/** The response's bytes as sent, not decoded. */
function sendRaw(path: string, headers: Record<string, string>): Promise<{ headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: app.port, method: 'GET', path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('gzip', () => {
  test('Accept-Encoding is read as HTTP defines it', () => {
    for (const yes of ['gzip', 'gzip, deflate, br', 'br;q=1.0, gzip;q=0.5', '*', 'GZIP', 'x-gzip']) assert.equal(acceptsGzip(yes), true, yes);
    for (const no of [undefined, '', 'identity', 'br, deflate', 'gzip;q=0', 'gzip; q=0.000', 'gzipx']) assert.equal(acceptsGzip(no), false, String(no));
  });

  test('large answers and streams are gzipped when the client takes it, small ones and other clients get them as they are', async () => {
    const plain = await sendRaw('/events.large', {});
    assert.equal(plain.headers['content-encoding'], undefined);
    const zipped = await sendRaw('/events.large', { 'accept-encoding': 'gzip, deflate' });
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.equal(zipped.headers['vary'], 'Accept-Encoding');
    assert.equal(Number(zipped.headers['content-length']), zipped.body.length);
    assert.ok(zipped.body.length * 10 < plain.body.length, `${zipped.body.length} bytes gzipped, ${plain.body.length} plain`);
    const text = gunzipSync(zipped.body).toString('utf8');
    // The same envelope but its per-request id.
    assert.equal(text.replace(/"(id|trx)":"[0-9a-f]+"/g, ''), plain.body.toString('utf8').replace(/"(id|trx)":"[0-9a-f]+"/g, ''));
    assert.match(text, /"nan":NaN/);

    const small = await sendRaw('/events.echo', { 'accept-encoding': 'gzip' });
    assert.equal(small.headers['content-encoding'], undefined, 'a small answer is not worth it');

    const log = await sendRaw('/events.download_task_log?task=abc', { 'accept-encoding': 'gzip' });
    assert.equal(log.headers['content-encoding'], 'gzip');
    assert.equal(log.headers['content-disposition'], 'attachment; filename="task_abc.log"');
    const lines = gunzipSync(log.body).toString('utf8').split('\n');
    assert.equal(lines.length, 1001);
    assert.equal(lines[999], 'line 999 of abc');
  });
});

describe('auth', () => {
  let clock = 1_700_000_000_000;
  let authApp: TestApp;
  before(async () => {
    const auth = createAuth({
      enabled: true,
      keys: [{ accessKey: 'AK', secretKey: 'SK', tenant: 'acme' }],
      tokenSecret: 'test-token-secret-0123456789',
      tokenTtlSec: 600,
      serverVersion: '1.16.0',
      apiVersion: '2.23',
      now: () => clock,
    });
    authApp = await startApp({ endpoints, auth });
  });
  after(() => authApp.close());

  const login = async (authorization: string): Promise<string> => {
    const res = await authApp.send({ path: '/v2.23/auth.login', headers: { authorization } });
    assert.equal(res.status, 200, res.text);
    return String(res.json<Env>().data.token);
  };

  test('Basic: good, malformed, unknown, missing', async () => {
    const cases: Array<[Record<string, string>, number, number?]> = [
      [{ authorization: basic('AK', 'SK') }, 200],
      [{}, 401, 20],
      [{ authorization: 'Basic %%%' }, 401, 21],
      [{ authorization: `Basic ${Buffer.from('nocolon').toString('base64')}` }, 401, 21],
      [{ authorization: basic('AK', 'wrong') }, 401, 22],
      [{ authorization: basic('nobody', 'SK') }, 401, 22],
    ];
    for (const [headers, status, subcode] of cases) {
      const res = await authApp.send({ path: '/events.echo', headers });
      const env = res.json<Env>();
      assert.equal(res.status, status, JSON.stringify(headers));
      assert.equal(env.meta.result_code, status);
      if (subcode !== undefined) assert.equal(env.meta.result_subcode, subcode, JSON.stringify(headers));
      if (status === 200) {
        assert.equal(env.data.tenant, 'acme');
        assert.equal(env.data.accessKey, 'AK');
      }
    }
  });

  test('auth.login token: claims, use, tampering, expiry', async () => {
    const token = await login(basic('AK', 'SK'));
    const claims = decodeJwtPayload(token);
    assert.ok(compareVersions(String(claims.api_version), '2.9') >= 0);
    assert.equal(claims.server_version, '1.16.0');
    assert.equal(claims.feature_set, 'basic');
    assert.equal(claims.tenant, 'acme');
    assert.equal(Number(claims.exp) - Number(claims.iat), 600);

    const ok = await authApp.send({ path: '/events.echo', headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
    assert.equal(ok.json<Env>().data.tenant, 'acme');
    // A Bearer token can log in again.
    assert.ok((await login(`Bearer ${token}`)).length > 0);

    const [h, , s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims, tenant: 'other' })).toString('base64url');
    const tampered = await authApp.send({ path: '/events.echo', headers: { authorization: `Bearer ${h}.${forged}.${s}` } });
    assert.equal(tampered.status, 401);
    assert.equal(tampered.json<Env>().meta.result_subcode, 22);

    const garbage = await authApp.send({ path: '/events.echo', headers: { authorization: 'Bearer not-a-jwt' } });
    assert.equal(garbage.json<Env>().meta.result_subcode, 21);

    const noCreds = await authApp.send({ path: '/auth.login' });
    assert.equal(noCreds.status, 401);
    assert.equal(noCreds.json<Env>().meta.result_subcode, 20);

    clock += 601_000;
    const expired = await authApp.send({ path: '/events.echo', headers: { authorization: `Bearer ${token}` } });
    assert.equal(expired.status, 401);
    assert.equal(expired.json<Env>().meta.result_subcode, 22);
  });

  test('auth off: default tenant whatever is sent; auth.login answers for default', async () => {
    const offApp = await startApp({
      endpoints,
      auth: createAuth({ enabled: false, keys: [], tokenSecret: '', tokenTtlSec: 600, serverVersion: '1.16.0', apiVersion: '2.23' }),
    });
    try {
      for (const authorization of [undefined, basic('placeholder', 'keys'), 'Bearer whatever', 'Garbage']) {
        const res = await offApp.send({ path: '/events.echo', headers: authorization ? { authorization } : {} });
        assert.equal(res.status, 200, String(authorization));
        assert.equal(res.json<Env>().data.tenant, 'default');
      }
      const login = await offApp.send({ method: 'GET', path: '/auth.login', headers: { authorization: basic('any', 'thing') } });
      assert.equal(login.status, 200);
      const token = String(login.json<Env>().data.token);
      const claims = decodeJwtPayload(token);
      assert.equal(claims.tenant, 'default');
      assert.ok(compareVersions(String(claims.api_version), '2.9') >= 0);
      const withToken = await offApp.send({ path: '/events.echo', headers: { authorization: `Bearer ${token}` } });
      assert.equal(withToken.json<Env>().data.tenant, 'default');
    } finally {
      await offApp.close();
    }
  });
});

describe('metrics', () => {
  test('requests, durations and in-flight, with bounded endpoint labels', async () => {
    const registry = createRegistry({ defaultMetrics: false });
    const m = await startApp({ endpoints, registry, timeoutMs: 1000 });
    try {
      await m.send({ path: '/events.echo' });
      await m.send({ path: '/v1.5/events.get_task_log' });
      await m.send({ path: '/events.nope' });
      await m.send({ path: '/random/junk' });
      await m.send({ path: '/events.boom' });
      const text = await registry.metrics();
      for (const line of [
        'test_http_requests_total{endpoint="events.echo",code="200"} 1',
        'test_http_requests_total{endpoint="events.get_task_log",code="200"} 1',
        'test_http_requests_total{endpoint="unknown",code="404"} 1',
        'test_http_requests_total{endpoint="unknown",code="400"} 1',
        'test_http_requests_total{endpoint="events.boom",code="500"} 1',
        'test_http_request_duration_seconds_count{endpoint="events.echo"} 1',
        'test_http_request_duration_seconds_bucket{le="0.001",endpoint="events.echo"}',
        'test_http_requests_in_flight 0',
      ]) {
        assert.ok(text.includes(line), `missing ${line}`);
      }
      assert.ok(!text.includes('events.nope'));
      assert.ok(!text.includes('junk'));
    } finally {
      await m.close();
    }
  });
});

describe('several routers in one process', () => {
  test('fallthrough routers and a final catch-all router with no endpoints', async () => {
    const registry = createRegistry({ defaultMetrics: false });
    const write = objectEndpoint({ name: 'events.add', versions: [{ version: '2.1', handle: async () => ({ from: 'gateway' }) }] });
    const read = objectEndpoint({ name: 'events.get_task_events', versions: [{ version: '2.1', handle: async () => ({ from: 'query' }) }] });
    const multi = await startApp({ endpoints: [write], registry, fallthrough: true }, (express, reg) => {
      express.use(createApiRouter({ service: 'test', endpoints: [read], registry: reg, logger: silentLogger, fallthrough: true }));
      express.use(createApiRouter({ service: 'test', endpoints: [], registry: reg, logger: silentLogger }));
    });
    try {
      assert.equal((await multi.send({ path: '/events.add' })).json<Env>().data.from, 'gateway');
      assert.equal((await multi.send({ path: '/v2.23/events.get_task_events' })).json<Env>().data.from, 'query');
      const nope = await multi.send({ path: '/events.nope' });
      assert.equal(nope.status, 404);
      assert.equal(nope.json<Env>().meta.result_code, 404);
      const bad = await multi.send({ path: '/x' });
      assert.equal(bad.status, 400);
      const text = await registry.metrics();
      assert.ok(text.includes('test_http_requests_total{endpoint="events.add",code="200"} 1'));
      assert.ok(text.includes('test_http_requests_total{endpoint="events.get_task_events",code="200"} 1'));
      assert.ok(text.includes('test_http_requests_total{endpoint="unknown",code="404"} 1'));
    } finally {
      await multi.close();
    }
  });

  test('declaration mistakes fail at start-up', () => {
    const registry = createRegistry({ defaultMetrics: false });
    const make = (eps: Endpoint[]) => () => createApiRouter({ service: 'test', endpoints: eps, registry, logger: silentLogger });
    const h = async () => ({});
    assert.throws(make([objectEndpoint({ name: 'nodot', versions: [{ version: '2.1', handle: h }] })]));
    assert.throws(make([objectEndpoint({ name: 'a.b', versions: [] })]));
    assert.throws(make([objectEndpoint({ name: 'a.b', versions: [{ version: 'x', handle: h }] })]));
    assert.throws(make([objectEndpoint({ name: 'a.b', versions: [{ version: '2.1', handle: h }, { version: '2.01', handle: h }] })]));
    assert.throws(make([objectEndpoint({ name: 'a.b', versions: [{ version: '2.1', handle: h }] }), objectEndpoint({ name: 'a.b', versions: [{ version: '2.1', handle: h }] })]));
    assert.throws(() => createApiRouter({ service: 'bad-name', endpoints: [], registry, logger: silentLogger }));
  });
});
