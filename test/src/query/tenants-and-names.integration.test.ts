/**
 * Isolation and exactness with auth on: two tenants reporting under the same task id never
 * see each other's events through any read endpoint (nor each other's cursors), and task,
 * metric, variant and key names full of quotes, backslashes, braces and unicode read back
 * exactly. Also: the query service's rows-read metric.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pipeline } from '../helpers/pipeline';
import { T0, api, assertError, image, log, plot, scalar, vector, startTenantsPipeline, type Api } from './support';

let p: Pipeline;
let a: Api;
let b: Api;
const SHARED = 'shared-task';
const ONLY_B = 'task-of-b';

/** Every kind of event of `task`, each carrying `mark` (the tenant) in a name or text. */
const eventsOf = (task: string, mark: string) => [
  ...[0, 1, 2].map((i) => scalar(task, `loss-${mark}`, `v-${mark}`, i, i)),
  ...[0, 1].map((i) => log(task, T0 + i, `hello from ${mark} ${i}`)),
  image(task, `img-${mark}`, `v-${mark}`, 1),
  plot(task, `plot-${mark}`, `v-${mark}`, 1),
  vector(task, `vec-${mark}`, `v-${mark}`, 1, [1]),
  // A single value (the SDK's Summary iteration).
  scalar(task, 'Summary', `single-${mark}`, -2147483648, 7),
];

let stopTenants: () => Promise<void>;
before(async () => {
  ({ p, a, b, stop: stopTenants } = await startTenantsPipeline());
  await a.ingest(eventsOf(SHARED, 'A'));
  await b.ingest([...eventsOf(SHARED, 'B'), ...eventsOf(ONLY_B, 'B')]);
});

after(async () => {
  await stopTenants?.();
});

/** Every read endpoint, asking for `mark`'s metric names where it must name one. */
const reads = (task: string, mark: string): Array<[string, Record<string, unknown>]> => [
  ['v2.1/events.debug_images', { task }],
  ['events.get_task_log', { task }],
  ['events.get_task_events', { task }],
  ['events.get_task_plots', { task }],
  ['events.get_multi_task_plots', { tasks: [task] }],
  ['events.get_vector_metrics_and_variants', { task }],
  ['events.vector_metrics_iter_histogram', { task, metric: `vec-${mark}`, variant: `v-${mark}` }],
  ['events.scalar_metrics_iter_histogram', { task }],
  ['events.multi_task_scalar_metrics_iter_histogram', { tasks: [task] }],
  ['events.get_task_latest_scalar_values', { task }],
  ['events.get_scalar_metrics_and_variants', { task }],
  ['events.get_scalar_metric_data', { task, metric: `loss-${mark}` }],
  ['events.get_task_single_value_metrics', { tasks: [task] }],
  ['events.scalar_metrics_iter_raw', { task, metric: { metric: `loss-${mark}` }, count_total: true }],
  // Streamed (every point): the same tenant filter.
  ['events.scalar_metrics_iter_histogram', { task, samples: 0 }],
];

test('every read endpoint answers with the caller tenant\'s events only', async () => {
  for (const [client, mine, theirs] of [
    [a, 'A', 'B'],
    [b, 'B', 'A'],
  ] as const) {
    const seen = new Set<string>();
    for (const [endpoint, body] of reads(SHARED, mine)) {
      const r = await client.call(endpoint, body);
      const name = `${endpoint} ${JSON.stringify(body)}`;
      assert.equal(r.status, 200, `${endpoint}: ${r.msg}`);
      // The cursor is base64url: it may spell "-A" by chance, so it is left out of the search.
      const text = JSON.stringify({ ...r.data, scroll_id: undefined });
      assert.ok(!text.includes(`-${theirs}`) && !text.includes(`from ${theirs}`), `${mine} sees ${theirs}'s data via ${endpoint}: ${text.slice(0, 300)}`);
      if (text.includes(`-${mine}`) || text.includes(`from ${mine}`)) seen.add(name);
    }
    assert.equal(seen.size, reads(SHARED, mine).length, `each endpoint found the caller's own events: ${[...seen].join(', ')}`);
    // Asking for the other tenant's metric by name finds nothing.
    const vectors = await client.call('events.vector_metrics_iter_histogram', { task: SHARED, metric: `vec-${theirs}`, variant: `v-${theirs}` });
    assert.deepEqual(vectors.data, { metric: `vec-${theirs}`, variant: `v-${theirs}`, vectors: [], iterations: [] });
    const data = await client.call<{ events: unknown[]; total: number }>('events.get_scalar_metric_data', { task: SHARED, metric: `loss-${theirs}` });
    assert.deepEqual([data.data.events, data.data.total], [[], 0]);
    const dl = await client.fetch('events.download_task_log', { task: SHARED });
    const lines = await dl.text();
    assert.ok(lines.includes(`from ${mine}`) && !lines.includes(`from ${theirs}`), lines);
  }
  // A task that exists only for tenant B reads as unknown for tenant A.
  for (const [endpoint, body] of reads(ONLY_B, 'B')) {
    if (endpoint === 'events.vector_metrics_iter_histogram') continue; // echoes the names asked for
    const text = JSON.stringify({ ...(await a.call(endpoint, body)).data, scroll_id: undefined });
    assert.ok(!text.includes('-B') && !text.includes('from B'), `${endpoint}: ${text.slice(0, 300)}`);
  }
  assert.equal(await (await a.fetch('events.download_task_log', { task: ONLY_B })).text(), '');
});

test('a cursor of one tenant is refused for the other (400/1104); no credentials is 401', async () => {
  // 1.7: the get_task_log version with cursors.
  const first = await a.call<{ scroll_id: string }>('events.get_task_log', { task: SHARED, batch_size: 1 }, { version: '1.7' });
  assert.equal((await a.call('events.get_task_log', { task: SHARED, batch_size: 1, scroll_id: first.data.scroll_id }, { version: '1.7' })).status, 200);
  assertError(await b.call('events.get_task_log', { task: SHARED, batch_size: 1, scroll_id: first.data.scroll_id }, { version: '1.7' }), 400, 1104, 'tenant B with A\'s cursor');
  const raw = { task: SHARED, metric: { metric: 'loss-A' }, batch_size: 1 };
  const page = await a.call<{ scroll_id: string; returned: number }>('events.scalar_metrics_iter_raw', raw);
  assert.equal((await a.call<{ returned: number }>('events.scalar_metrics_iter_raw', { ...raw, scroll_id: page.data.scroll_id })).data.returned, 1);
  assertError(await b.call('events.scalar_metrics_iter_raw', { ...raw, scroll_id: page.data.scroll_id }), 400, 1104, 'tenant B with A\'s raw cursor');
  const none = await api(p).call('events.get_task_log', { task: SHARED });
  assert.deepEqual([none.code, none.subcode], [401, 20]);
});

test('names with quotes, backslashes, braces and unicode read back exactly', async () => {
  const task = `it's "quoted" \\ {braces} {x:String} ünïcødé 中文 🚀`;
  const metric = `m'"\\{metric}{y:Int64} ∑`;
  const variant = `v\\n"'{}🙂`;
  const key = `k/"'\\{}ü`;
  const msg = `log "'\\ {msg} {{x}} ✓\ttab`;
  await a.ingest([scalar(task, metric, variant, 0, 1.5), scalar(task, '__proto__', 'constructor', 1, 2), image(task, metric, variant, 0, key), plot(task, metric, variant, 0), log(task, T0, msg), vector(task, metric, variant, 0, [3])]);

  assert.deepEqual((await a.call('events.get_scalar_metrics_and_variants', { task })).data, { metrics: { [metric]: [variant], ['__proto__']: ['constructor'] } });
  const hist = await a.call<Record<string, Record<string, { name: string; x: number[]; y: number[] }>>>('events.scalar_metrics_iter_histogram', { task });
  assert.deepEqual(Object.keys(hist.data).sort(), [metric, '__proto__'].sort());
  assert.deepEqual(hist.data[metric]?.[variant]?.y, [1.5]);
  assert.equal(hist.data[metric]?.[variant]?.name, variant);
  assert.ok(Object.prototype.hasOwnProperty.call(hist.data, '__proto__'));
  const multi = await a.call<{ metrics: Record<string, Record<string, Record<string, { name: string }>>> }>('events.multi_task_scalar_metrics_iter_histogram', { tasks: [task] });
  assert.equal(multi.data.metrics[metric]?.[variant]?.[task]?.name, task);
  const latest = await a.call<{ metrics: Array<{ name: string; variants: Array<{ name: string }> }> }>('events.get_task_latest_scalar_values', { task });
  assert.deepEqual(latest.data.metrics.map((m) => [m.name, m.variants.map((v) => v.name)]).sort(), [
    ['__proto__', ['constructor']],
    [metric, [variant]],
  ].sort());
  const data = await a.call<{ events: Array<Record<string, unknown>> }>('events.get_scalar_metric_data', { task, metric });
  assert.deepEqual(data.data.events, [{ type: 'training_stats_scalar', task, iter: 0, metric, variant, value: 1.5, timestamp: T0 }]);
  const images = await a.call<{ task: string; images: Array<Record<string, unknown>> }>('v2.1/events.debug_images', { task });
  assert.equal(images.data.task, task);
  assert.deepEqual(images.data.images.map((e) => [e.task, e.metric, e.variant, e.key, e.url]), [[task, metric, variant, key, image(task, metric, variant, 0, key).url]]);
  const plots = await a.call<{ plots: Record<string, Record<string, Record<string, Record<string, { name: string }>>>> }>('events.get_multi_task_plots', { tasks: [task] });
  assert.equal(plots.data.plots[metric]?.[variant]?.[task]?.['0']?.name, task);
  const vectors = await a.call('events.get_vector_metrics_and_variants', { task });
  assert.deepEqual(vectors.data, { metrics: [{ metric, variants: [variant] }] });
  const vh = await a.call('events.vector_metrics_iter_histogram', { task, metric, variant });
  assert.deepEqual(vh.data, { metric, variant, vectors: [[3]], iterations: [0] });
  const logs = await a.call<{ events: Array<Record<string, unknown>> }>('events.get_task_log', { task });
  assert.deepEqual(logs.data.events.map((e) => [e.task, e.msg]), [[task, msg]]);
  const all = await a.call<{ events: Array<Record<string, unknown>> }>('events.get_task_events', { task });
  assert.equal(all.data.events.length, 6);
  assert.ok(all.data.events.every((e) => e.task === task));

  const dl = await a.fetch('events.download_task_log', { task, line_type: 'text', line_format: '{msg}' });
  assert.equal(await dl.text(), `${msg}\n`);
  // The file name keeps what a header can carry: quotes and backslashes replaced, unicode as filename*.
  assert.equal(dl.headers.get('content-disposition'), `attachment; filename="task_it's _quoted_ _ {braces} {x:String} _n_c_d_ __ __.log"; filename*=UTF-8''${encodeURIComponent(`task_it's _quoted_ _ {braces} {x:String} ünïcødé 中文 🚀.log`)}`);
});

test('rows read are counted per endpoint', async () => {
  const text = await (await fetch(`${p.url}/metrics`)).text();
  const rowsRead = (endpoint: string): number => Number(new RegExp(`^query_rows_read_total\\{endpoint="${endpoint.replace('.', '\\.')}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  for (const endpoint of ['events.get_task_log', 'events.get_task_events', 'events.scalar_metrics_iter_histogram', 'events.debug_images']) {
    assert.ok(rowsRead(endpoint) > 0, `${endpoint}: ${rowsRead(endpoint)}`);
  }
  assert.match(text, /^query_http_requests_total\{endpoint="events\.get_task_log",code="200"\} \d+/m);
});
