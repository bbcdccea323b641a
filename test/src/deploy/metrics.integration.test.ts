/**
 * Every metric the Grafana dashboard and the Prometheus alert rules use is really exported:
 * the whole pipeline runs (gateway, writer, query, with Node's default metrics as each service's
 * main registers them), takes a few events and reads, and its /metrics is scraped.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { composeAllInOne } from '@trackstream/all-in-one';
import { createClickHouse } from '@trackstream/clickhouse';
import { waitFor } from '@trackstream/local-stack';
import { createRegistry } from '@trackstream/metrics';
import { createLogger, serveComponents } from '@trackstream/runtime';
import { pipelineConfig } from '../helpers/pipeline';
import { arr, obj, parseYaml, readRepoFile } from './support';

/** Series Prometheus makes itself for every target: not exported by a service. */
const PROMETHEUS_SERIES = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added']);
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'le']);

/**
 * Metric names in a PromQL expression: string literals, label matchers, grouping clauses,
 * durations, Grafana variables and function calls removed, what is left are metric names.
 */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/\$__\w+|\$\{\w+\}|\$\w+/g, '5m')
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b\d+(\.\d+)?(e[+-]?\d+)?\b/gi, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*(\s*\()?/g)) {
    if (m[1] !== undefined) continue; // a function call
    const name = m[0];
    if (!KEYWORDS.has(name.toLowerCase())) names.add(name);
  }
  return [...names];
}

interface Use {
  where: string;
  expr: string;
}

function dashboardExpressions(): Use[] {
  const d = obj(JSON.parse(readRepoFile('deploy', 'grafana', 'dashboards', 'trackstream.json')), 'dashboard');
  const panels = arr(d['panels'], 'panels').map((p) => obj(p, 'panel'));
  const all = panels.flatMap((p) => [p, ...arr(p['panels'] ?? [], 'row panels').map((q) => obj(q, 'panel'))]);
  return all.flatMap((p) => arr(p['targets'] ?? [], 'targets').map((t) => ({ where: `panel "${String(p['title'])}"`, expr: String(obj(t, 'target')['expr']) })));
}

function alertExpressions(): Use[] {
  const rules = obj(parseYaml(readRepoFile('deploy', 'prometheus', 'alerts.yml')), 'alerts.yml');
  return arr(rules['groups'], 'groups').flatMap((g) =>
    arr(obj(g, 'group')['rules'], 'rules').map((r) => {
      const rule = obj(r, 'rule');
      return { where: `alert ${String(rule['alert'] ?? rule['record'])}`, expr: String(rule['expr']) };
    }),
  );
}

/** Metric families of a scrape (`# TYPE` lines) and the sample names of each. */
function families(text: string): Map<string, { type: string; samples: Set<string> }> {
  const out = new Map<string, { type: string; samples: Set<string> }>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1] as string, { type: m[2] as string, samples: new Set() });
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const name = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(line)?.[0] ?? '';
    const base = name.replace(/_(bucket|sum|count)$/, '');
    (out.get(name) ?? out.get(base))?.samples.add(line);
  }
  return out;
}

/** The family a sample name belongs to: histograms and summaries export _bucket/_sum/_count. */
function familyOf(name: string, fams: Map<string, { type: string }>): string | undefined {
  if (fams.has(name)) return name;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (!m) return undefined;
  const base = fams.get(m[1] as string);
  if (!base) return undefined;
  if (m[2] === 'bucket' ? base.type === 'histogram' : base.type === 'histogram' || base.type === 'summary') return m[1];
  return undefined;
}

let url = '';
let scrape = '';
let stop: () => Promise<void> = async () => undefined;

before(async () => {
  const { config } = await pipelineConfig();
  const logger = createLogger({ service: 'metrics-test', level: config.logLevel });
  const registry = createRegistry({ diskUsagePaths: config.diskUsagePaths });
  const app = await composeAllInOne(config, logger, registry);
  const shutdown = await serveComponents({ port: 0, host: '127.0.0.1', components: app.components, registry, logger, onListening: (p) => (url = `http://127.0.0.1:${p}`) });
  stop = async () => {
    await shutdown();
    await app.close();
    const ch = createClickHouse({ url: config.clickhouseUrl, database: 'default' });
    await ch.command({ query: `DROP DATABASE IF EXISTS ${config.clickhouseDatabase}` }).catch(() => undefined);
    await ch.close();
  };

  const task = 'metrics-task';
  const lines = [
    { type: 'training_stats_scalar', task, iter: 1, metric: 'loss', variant: 'train', value: 0.5, timestamp: Date.now() },
    { type: 'training_stats_scalar', task, iter: 2, metric: 'loss', variant: 'train', value: 0.25, timestamp: Date.now() },
    { type: 'log', task, iter: 2, level: 'info', worker: 'w', msg: 'hello', timestamp: Date.now() },
    { type: 'training_stats_scalar', task, iter: 'not a number', metric: 'loss', variant: 'train', value: 1 },
  ];
  const add = await fetch(`${url}/events.add_batch`, { method: 'POST', headers: { 'content-type': 'application/json-lines' }, body: lines.map((l) => JSON.stringify(l)).join('\n') });
  assert.equal(add.status, 200);
  const post = (endpoint: string, body: unknown) => fetch(`${url}/${endpoint}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  // Stored once the writer's counters say so; then the read side answers from ClickHouse.
  await waitFor(async () => /writer_rows_written_total\{table="scalars"\} 2\b/.test(await (await fetch(`${url}/metrics`)).text()), { timeoutMs: 30_000, what: 'rows written' });
  assert.equal((await post('events.get_task_log', { task })).status, 200);
  assert.equal((await post('events.scalar_metrics_iter_histogram', { task })).status, 200);
  scrape = await (await fetch(`${url}/metrics`)).text();
});

after(async () => {
  await stop();
});

test('metric names are read from PromQL, and only metric names', () => {
  assert.deepEqual(metricNames('histogram_quantile(0.95, sum by (le, endpoint) (rate(query_http_request_duration_seconds_bucket{code=~"5.."}[$__rate_interval])))'), [
    'query_http_request_duration_seconds_bucket',
  ]);
  assert.deepEqual(metricNames('sum(a_total) / sum(rate(b_total[5m])) > 0.05 and deriv(sum(max by (partition) (c))[15m:1m]) > 0'), ['a_total', 'b_total', 'c']);
  assert.deepEqual(metricNames('up{job=~"gateway|writer"} == 0'), ['up']);
});

test('every metric of the dashboard and of the alert rules is exported by the pipeline', () => {
  const fams = families(scrape);
  const uses = [...dashboardExpressions(), ...alertExpressions()];
  assert.ok(uses.length >= 25, `the dashboard and the rules have expressions (${uses.length})`);
  const missing: string[] = [];
  const used = new Set<string>();
  for (const u of uses) {
    const names = metricNames(u.expr);
    assert.ok(names.length > 0, `${u.where} uses a metric: ${u.expr}`);
    for (const name of names) {
      if (PROMETHEUS_SERIES.has(name)) continue;
      const family = familyOf(name, fams);
      if (family === undefined) missing.push(`${u.where}: ${name}`);
      else used.add(family);
    }
  }
  assert.deepEqual(missing, [], 'names used but not exported');
  // What the brief of the dashboard and rules covers really is among them.
  for (const f of [
    'gateway_events_total',
    'gateway_produce_duration_seconds',
    'writer_consumer_lag_messages',
    'writer_freshness_seconds',
    'writer_insert_duration_seconds',
    'writer_insert_failures_total',
    'query_http_request_duration_seconds',
    'writer_dead_lettered_total',
    'gateway_http_requests_total',
    'query_http_requests_total',
  ]) {
    assert.ok(used.has(f), `${f} is on the dashboard or in a rule`);
  }
});

test('the traffic sent shows up in the series the dashboard plots', () => {
  const fams = families(scrape);
  const samples = (f: string): string[] => [...(fams.get(f)?.samples ?? [])];
  assert.ok(samples('gateway_events_total').some((s) => s.includes('outcome="accepted"') && s.includes('kind="training_stats_scalar"') && / 2$/.test(s)));
  assert.ok(samples('gateway_events_total').some((s) => s.includes('outcome="rejected"') && !s.includes('reason=""')), 'a rejection with its reason');
  assert.ok(samples('gateway_produce_duration_seconds').some((s) => /_count \d+$/.test(s) && !/_count 0$/.test(s)));
  assert.ok(samples('writer_freshness_seconds').some((s) => /_count [1-9]/.test(s)));
  assert.ok(samples('writer_insert_duration_seconds').some((s) => s.includes('table="scalars"')));
  assert.ok(samples('writer_consumer_lag_messages').length > 0, 'lag per partition');
  assert.ok(samples('query_http_request_duration_seconds').some((s) => s.includes('endpoint="events.get_task_log"')));
  assert.ok(samples('process_cpu_seconds_total').length > 0);
});
