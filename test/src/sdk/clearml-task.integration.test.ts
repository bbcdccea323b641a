/**
 * The real-user test: the ClearML SDK (PyPI `clearml`, pinned in test/sdk/requirements.txt) used
 * as a training script uses it, `Task.init` and the task's Logger, then read back with the task's
 * own methods (test/sdk/clearml_task.py).
 *
 * `Task.init` needs ClearML's projects and tasks services, which are not Trackstream's: the SDK's
 * host is a fake ClearML server (helpers/fake-clearml-server.ts) that answers those from memory
 * and forwards every `events.*` call and `auth.login`, unchanged, to the real pipeline. It records
 * what it forwarded, so each test below checks a read-back method's answer against what the
 * script reported (and the events the SDK sent for it), and the log shows the exact endpoint
 * versions and bodies the SDK used.
 *
 * get_last_scalar_metrics reads the task document's last_metrics, not an events endpoint: the
 * gateway's last-values forward (CLEARML_API_URL: the fake's API server) keeps it, as it keeps a
 * real ClearML server's.
 */
import { after, before, test } from 'node:test';
import { repoRoot, waitFor } from '@trackstream/local-stack';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeClearmlServer, type FakeClearmlServer, type ForwardedCall } from '../helpers/fake-clearml-server';
import { startPipeline, uniqueName, type Pipeline } from '../helpers/pipeline';
import { sdkPython, startPythonDriver } from '../helpers/python';

interface Point {
  metric: string;
  variant: string;
  iter: number;
  value: number;
}
interface Reported {
  scalars: Point[];
  console: string[];
  images: { metric: string; variant: string; iter: number }[];
  plots: { metric: string; variant: string; iter: number }[];
  single_values: Record<string, number>;
}
/** An event as the SDK sent it in events.add_batch. */
interface SentEvent {
  type: string;
  task: string;
  timestamp: number;
  metric?: string;
  variant?: string;
  iter?: number;
  value?: number;
  msg?: string;
  key?: string;
  url?: string;
  plot_str?: string;
}
type Curves = Record<string, Record<string, { x: unknown[]; y: number[] }>>;
interface ReadResult {
  value?: unknown;
  error?: string;
  trace?: string;
}

/** The API versions the pinned SDK bundles (clearml/backend_api/services/v2_*). */
const SDK_API_VERSIONS = ['2.9', '2.13', '2.20', '2.23'];
/** ClearML's iteration of single values (`report_single_value`). */
const SINGLE_VALUE_ITER = -(2 ** 31);
/** What get_reported_console_output and get_reported_scalars are asked for in clearml_task.py. */
const CONSOLE_REPORTS = 3;
const MAX_SAMPLES = 5;

let p: Pipeline;
let fake: FakeClearmlServer;
let home: string;
let taskId: string;
let reported: Reported;
let results: Record<string, ReadResult>;
/** The events the SDK sent for the task before the read-backs began. */
let sent: SentEvent[];
/** The forwarded calls the read-backs made. */
let readCalls: ForwardedCall[];

before(async () => {
  const python = await sdkPython();
  // The fake's API server takes the gateway's last-values forward (the task's last_metrics).
  fake = await startFakeClearmlServer({ log: (line) => console.log(`[fake-clearml] ${line}`) });
  p = await startPipeline({ env: { CLEARML_API_URL: fake.apiserverUrl, CLEARML_LAST_VALUES_INTERVAL_MS: '500', CLEARML_LIFECYCLE_JOURNAL: join(tmpdir(), `${uniqueName('lifecycle')}.jsonl`) } });
  fake.upstream = p.url;
  // Its own home: no ~/clearml.conf of the machine's, and the SDK's cache goes away with it.
  home = mkdtempSync(join(tmpdir(), 'clearml-home-'));
  const driver = startPythonDriver(python, [join(repoRoot(), 'test', 'sdk', 'clearml_task.py'), uniqueName('trackstream-sdk'), uniqueName('task')], {
    cwd: home,
    env: {
      ...process.env,
      HOME: home,
      CLEARML_API_HOST: fake.url,
      CLEARML_WEB_HOST: fake.url,
      CLEARML_FILES_HOST: fake.url,
      CLEARML_API_ACCESS_KEY: 'placeholder',
      CLEARML_API_SECRET_KEY: 'placeholder',
    },
  });
  const t0 = Date.now();
  const since = (): string => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  try {
    const first = await driver.next<{ phase: string; task: string; reported: Reported }>();
    assert.equal(first.phase, 'reported');
    taskId = first.task;
    reported = first.reported;
    const readsFrom = fake.calls.length;
    sent = fake.calls.filter((c) => c.endpoint === 'events.add_batch').flatMap((c) => (c.body as SentEvent[]).filter((e) => e.task === taskId));
    console.log(`[sdk] task ${taskId}: ${sent.length} events sent in ${since()}`);
    await waitStored(sent);
    await waitLastMetrics(sent);
    console.log(`[sdk] stored after ${since()}`);
    driver.send('read');
    const second = await driver.next<{ phase: string; results: Record<string, ReadResult> }>();
    assert.equal(second.phase, 'read');
    results = second.results;
    console.log(`[sdk] read back after ${since()}`);
    await driver.exited;
    console.log(`[sdk] script ended after ${since()}`);
    readCalls = fake.calls.slice(readsFrom).filter((c) => c.endpoint !== 'events.add_batch');
  } finally {
    driver.kill();
  }
  console.log(`[sdk] read-back calls (endpoint, path, body):\n${readCalls.map((c) => `  ${c.endpoint} ${c.path} ${JSON.stringify(c.body)} -> ${c.status}`).join('\n')}`);
});

after(async () => {
  await fake?.close();
  await p?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

/** Waits until the fake's task document has each scalar curve's last iteration (the last-values forward). */
async function waitLastMetrics(events: SentEvent[]): Promise<void> {
  const lastIter = new Map<string, number>(); // metric/variant -> last iteration
  for (const e of events) if (e.type === 'training_stats_scalar') lastIter.set(`${e.metric}/${e.variant}`, Math.max(lastIter.get(`${e.metric}/${e.variant}`) ?? -Infinity, Number(e.iter)));
  await waitFor(
    async () => {
      const byMetric = (fake.tasks.get(taskId)?.['last_metrics'] ?? {}) as Record<string, Record<string, { metric: string; variant: string; iter: number }>>;
      const have = new Map(Object.values(byMetric).flatMap((vs) => Object.values(vs).map((v): [string, number] => [`${v.metric}/${v.variant}`, v.iter])));
      return [...lastIter].every(([k, iter]) => have.get(k) === iter);
    },
    { timeoutMs: 30_000, what: 'the last values forwarded to the fake ClearML server' },
  );
}

/** Waits until ClickHouse holds every event the SDK sent (one row per identity). */
async function waitStored(events: SentEvent[]): Promise<void> {
  const identities = (type: string, id: (e: SentEvent) => unknown[]) => new Set(events.filter((e) => e.type === type).map((e) => JSON.stringify(id(e)))).size;
  const expected: Record<string, number> = {
    scalars: identities('training_stats_scalar', (e) => [e.metric, e.variant, e.iter]),
    images: identities('training_debug_image', (e) => [e.metric, e.variant, e.iter, e.key]),
    plots: identities('plot', (e) => [e.metric, e.variant, e.iter]),
    logs: events.filter((e) => e.type === 'log').length,
  };
  for (const [table, n] of Object.entries(expected)) {
    await p.waitForCount(`SELECT count() FROM ${table} FINAL WHERE task = {task:String}`, n, { task: taskId });
  }
}

/** The fake's key of an uploaded file: the path of its URL. */
function filePath(url: string | undefined): string {
  return decodeURIComponent(new URL(url ?? '', fake.url).pathname);
}

/** A read-back's value; fails with the SDK's exception when it raised. */
function readBack<T>(name: string): T {
  const r = results[name];
  assert.ok(r, `clearml_task.py did not run ${name}`);
  assert.equal(r.error, undefined, `${name} raised ${r.error}\n${r.trace ?? ''}`);
  return r.value as T;
}

/** Only `x` and `y` of each curve (the answer may carry more, e.g. y_min and y_max). */
function xy(curves: Curves): Curves {
  const out: Curves = {};
  for (const [metric, variants] of Object.entries(curves)) {
    out[metric] = {};
    for (const [variant, c] of Object.entries(variants)) out[metric][variant] = { x: c.x, y: c.y };
  }
  return out;
}

/** The reported curves (single values are not curves), x by `key`: points of one x are averaged. */
function expectedCurves(key: (e: SentEvent) => unknown): Curves {
  const groups = new Map<string, { metric: string; variant: string; points: Map<string, { x: unknown; ys: number[] }> }>();
  for (const e of sent) {
    if (e.type !== 'training_stats_scalar' || e.iter === SINGLE_VALUE_ITER) continue;
    const id = JSON.stringify([e.metric, e.variant]);
    const g = groups.get(id) ?? { metric: e.metric ?? '', variant: e.variant ?? '', points: new Map() };
    groups.set(id, g);
    const x = key(e);
    const pt = g.points.get(JSON.stringify(x)) ?? { x, ys: [] };
    g.points.set(JSON.stringify(x), pt);
    pt.ys.push(e.value ?? NaN);
  }
  const out: Curves = {};
  for (const g of groups.values()) {
    // Numbers in numeric order; ISO times (one format, one zone) sort as strings.
    const pts = [...g.points.values()].sort((a, b) => (typeof a.x === 'number' && typeof b.x === 'number' ? a.x - b.x : String(a.x).localeCompare(String(b.x))));
    (out[g.metric] ??= {})[g.variant] = { x: pts.map((pt) => pt.x), y: pts.map((pt) => pt.ys.reduce((s, v) => s + v, 0) / pt.ys.length) };
  }
  return out;
}

test('Task.init, the reports and the read-backs reach Trackstream through the fake ClearML server', () => {
  assert.deepEqual(fake.unknown, [], 'the SDK called ClearML services the fake does not answer');
  const login = fake.calls.find((c) => c.endpoint === 'auth.login');
  assert.ok(login && login.status === 200, 'auth.login went to Trackstream');
  const token = (login.response?.data as { token: string }).token;
  const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { api_version: string };
  // The SDK uses its highest bundled API module at or below the token's api_version.
  const cmp = (a: string, b: string): number => {
    const [am = 0, an = 0] = a.split('.').map(Number);
    const [bm = 0, bn = 0] = b.split('.').map(Number);
    return am - bm || an - bn;
  };
  const used = SDK_API_VERSIONS.filter((v) => cmp(v, claims.api_version) <= 0).at(-1);
  const events = fake.calls.filter((c) => c.endpoint.startsWith('events.'));
  assert.deepEqual([...new Set(events.map((c) => c.version))], [used], `token api_version ${claims.api_version}: every events call at /v${used}/`);

  const batches = events.filter((c) => c.endpoint === 'events.add_batch');
  const added = batches.reduce((n, c) => n + Number((c.response?.data as { added?: number } | undefined)?.added ?? 0), 0);
  assert.ok(batches.every((c) => c.status === 200 && (c.response?.data as { errors: number }).errors === 0));
  assert.equal(added, batches.reduce((n, c) => n + (c.body as unknown[]).length, 0), 'every event sent was added');
  assert.equal(sent.filter((e) => e.type === 'training_stats_scalar').length, reported.scalars.length + Object.keys(reported.single_values).length);
  assert.equal(sent.filter((e) => e.type === 'training_debug_image').length, reported.images.length);
  assert.equal(sent.filter((e) => e.type === 'plot').length, reported.plots.length);
  for (const line of reported.console) assert.ok(sent.some((e) => e.type === 'log' && e.msg === line), `console line "${line}" sent`);
  // Debug images went to the files host (the fake), the events carry their URLs.
  for (const e of sent.filter((ev) => ev.type === 'training_debug_image')) assert.ok(fake.files.get(filePath(e.url))?.length, `${e.url} was uploaded`);

  assert.deepEqual(
    [...new Set(readCalls.map((c) => c.endpoint))].sort(),
    ['events.debug_images', 'events.get_task_events', 'events.get_task_log', 'events.get_task_plots', 'events.get_task_single_value_metrics', 'events.scalar_metrics_iter_histogram'],
    'the events endpoints the read-back methods call',
  );
});

test('get_reported_scalars(): every reported curve by iteration', () => {
  const got = readBack<Curves>('get_reported_scalars');
  const expected = expectedCurves((e) => e.iter);
  assert.deepEqual(xy(got), expected);
  // The curves are what the script reported, not only what the SDK sent.
  for (const pt of reported.scalars) {
    const c = got[pt.metric]?.[pt.variant];
    assert.equal(c?.y[c.x.indexOf(pt.iter)], pt.value, `${pt.metric}/${pt.variant} at ${pt.iter}`);
  }
});

test("get_reported_scalars(x_axis='timestamp'): x in milliseconds since the epoch", () => {
  assert.deepEqual(xy(readBack<Curves>('get_reported_scalars_timestamp')), expectedCurves((e) => e.timestamp));
});

test(
  "get_reported_scalars(x_axis='iso_time'): x as ISO 8601 times",
  () => {
    assert.deepEqual(xy(readBack<Curves>('get_reported_scalars_iso_time')), expectedCurves((e) => new Date(e.timestamp).toISOString()));
  },
);

test(`get_reported_scalars(max_samples=${MAX_SAMPLES}): at most ${MAX_SAMPLES} points per curve, each the mean of its window`, () => {
  const got = readBack<Curves>('get_reported_scalars_max_samples');
  const full = expectedCurves((e) => e.iter);
  assert.deepEqual(Object.keys(got).sort(), Object.keys(full).sort());
  for (const [metric, variants] of Object.entries(full)) {
    assert.deepEqual(Object.keys(got[metric] ?? {}).sort(), Object.keys(variants).sort());
    for (const [variant, curve] of Object.entries(variants)) {
      const c = got[metric]?.[variant];
      assert.ok(c);
      const xs = c.x as number[];
      assert.ok(xs.length >= 1 && xs.length <= MAX_SAMPLES, `${metric}/${variant}: ${xs.length} points`);
      assert.ok(xs.every((x, i) => i === 0 || x > (xs[i - 1] ?? x)), `${metric}/${variant}: x ascending`);
      // Bucket i holds the points from x[i] up to x[i+1]: its y is their mean.
      const iters = curve.x as number[];
      xs.forEach((lo, i) => {
        const hi = xs[i + 1] ?? Infinity;
        const ys = curve.y.filter((_, k) => (iters[k] ?? NaN) >= lo && (iters[k] ?? NaN) < hi);
        assert.ok(ys.length > 0, `${metric}/${variant}: a point in [${lo}, ${hi})`);
        const mean = ys.reduce((s, v) => s + v, 0) / ys.length;
        assert.ok(Math.abs((c.y[i] ?? NaN) - mean) <= 1e-9 * Math.max(1, Math.abs(mean)), `${metric}/${variant} at ${lo}: ${c.y[i]} vs mean ${mean}`);
      });
    }
  }
});

test(
  'get_all_reported_scalars(): every scalar event, single values included',
  () => {
    const expected: Record<string, Record<string, { name: string; x: number[]; y: number[] }>> = {};
    for (const e of [...sent].sort((a, b) => a.timestamp - b.timestamp)) {
      if (e.type !== 'training_stats_scalar') continue;
      const c = ((expected[e.metric ?? ''] ??= {})[e.variant ?? ''] ??= { name: e.variant ?? '', x: [], y: [] });
      c.x.push(e.iter ?? NaN);
      c.y.push(e.value ?? NaN);
    }
    assert.deepEqual(readBack('get_all_reported_scalars'), expected);
  },
);

test(
  `get_reported_console_output(${CONSOLE_REPORTS}): the last ${CONSOLE_REPORTS} reports, oldest first`,
  () => {
    const logs = sent.filter((e) => e.type === 'log').sort((a, b) => a.timestamp - b.timestamp);
    assert.deepEqual(
      readBack('get_reported_console_output'),
      logs.slice(-CONSOLE_REPORTS).map((e) => e.msg),
    );
    // Those are the script's own last lines.
    assert.deepEqual(readBack('get_reported_console_output'), reported.console.slice(-CONSOLE_REPORTS));
  },
);

test(
  "get_debug_samples('samples', 'digits'): that series' images, newest iteration first",
  () => {
    const got = readBack<SentEvent[]>('get_debug_samples');
    const expected = sent
      .filter((e) => e.type === 'training_debug_image' && e.metric === 'samples' && e.variant === 'digits')
      .sort((a, b) => (b.iter ?? 0) - (a.iter ?? 0))
      .map((e) => ({ metric: e.metric, variant: e.variant, iter: e.iter, url: e.url }));
    assert.deepEqual(
      got.map((e) => ({ metric: e.metric, variant: e.variant, iter: e.iter, url: e.url })),
      expected,
    );
    assert.deepEqual(got.map((e) => e.iter), reported.images.filter((i) => i.variant === 'digits').map((i) => i.iter).reverse());
  },
);

test('get_reported_plots(): the last iteration of every plot', () => {
  const last = new Map<string, SentEvent>();
  for (const e of sent) {
    if (e.type !== 'plot') continue;
    const id = JSON.stringify([e.metric, e.variant]);
    if ((last.get(id)?.iter ?? -Infinity) < (e.iter ?? 0)) last.set(id, e);
  }
  const project = (e: SentEvent) => ({ metric: e.metric, variant: e.variant, iter: e.iter, plot_str: e.plot_str });
  const order = (a: { metric?: string; variant?: string }, b: { metric?: string; variant?: string }) =>
    `${a.metric}/${a.variant}`.localeCompare(`${b.metric}/${b.variant}`);
  const got = readBack<SentEvent[]>('get_reported_plots');
  assert.deepEqual(got.map(project).sort(order), [...last.values()].map(project).sort(order));
  assert.equal(got.length, new Set(reported.plots.map((pl) => `${pl.metric}/${pl.variant}`)).size);
});

test(
  'get_reported_single_values(): every report_single_value',
  () => {
    assert.deepEqual(readBack('get_reported_single_values'), reported.single_values);
  },
);

test(
  "get_last_scalar_metrics(): each curve's last, min and max (the task's last_metrics, kept by the last-values forward)",
  () => {
    const got = readBack<Record<string, Record<string, { last: number; min: number; max: number }>>>('get_last_scalar_metrics');
    for (const [metric, variants] of Object.entries(expectedCurves((e) => e.iter))) {
      for (const [variant, c] of Object.entries(variants)) {
        assert.deepEqual(got[metric]?.[variant], { last: c.y.at(-1), min: Math.min(...c.y), max: Math.max(...c.y) }, `${metric}/${variant}`);
      }
    }
  },
);
