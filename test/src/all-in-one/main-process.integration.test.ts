/**
 * The all-in-one process as `npm start` runs it (services/all-in-one/dist/main.js): the writer on
 * its own thread, one port for the whole API, one /metrics holding every thread's series, and a
 * SIGTERM that flushes and exits.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createClickHouse, type ClickHouseClient } from '@trackstream/clickhouse';
import { waitFor } from '@trackstream/local-stack';
import { pipelineConfig } from '../helpers/pipeline';
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process';

let app: ServiceProcess;
let clickhouse: ClickHouseClient;

before(async () => {
  const { config } = await pipelineConfig();
  app = await startServiceProcess('all-in-one', config);
  clickhouse = createClickHouse({ url: config.clickhouseUrl, database: config.clickhouseDatabase });
});
after(async () => {
  await app?.kill('SIGKILL');
  await clickhouse?.close();
});

const post = async (endpoint: string, body: string, type = 'application/json'): Promise<{ status: number; data: Record<string, unknown> }> => {
  const res = await fetch(`${app.url}/${endpoint}`, { method: 'POST', headers: { 'content-type': type }, body });
  return { status: res.status, data: ((await res.json()) as { data: Record<string, unknown> }).data };
};

test('events written through the gateway are stored by the writer thread and read back on the same port', async () => {
  const lines = Array.from({ length: 500 }, (_, i) => JSON.stringify({ type: 'training_stats_scalar', task: 'aio', iter: i, metric: 'loss', variant: 'train', value: i / 2 }));
  const added = await post('events.add_batch', lines.join('\n'), 'application/json-lines');
  assert.equal(added.status, 200);
  assert.equal(added.data['added'], 500);
  await waitFor(
    async () => {
      const rs = await clickhouse.query({ query: "SELECT count() AS n FROM scalars FINAL WHERE task = 'aio'", format: 'JSONEachRow' });
      return Number((await rs.json<{ n: string }>())[0]?.n) === 500;
    },
    { timeoutMs: 30_000, what: '500 rows stored' },
  );
  const latest = await post('events.get_task_latest_scalar_values', JSON.stringify({ task: 'aio' }));
  assert.equal(latest.status, 200);
  assert.deepEqual(latest.data['metrics'], [{ name: 'loss', variants: [{ name: 'train', last_value: 249.5, last_100_value: (400 + 499) / 4 }] }]);
});

test('/metrics holds the writer thread series beside the main thread ones, each family once', async () => {
  const text = await app.metrics();
  const written = /^writer_rows_written_total\{table="scalars"\} (\d+)/m.exec(text);
  assert.ok(written && Number(written[1]) >= 500, 'the writer thread counted its rows');
  assert.match(text, /^gateway_events_total\{/m);
  assert.match(text, /^process_cpu_seconds_total /m);
  const types = text.split('\n').filter((l) => l.startsWith('# TYPE '));
  assert.equal(new Set(types).size, types.length, 'a metric family appears once');
  const health = (await (await fetch(`${app.url}/health`)).json()) as { status: string; checks: Record<string, boolean> };
  assert.deepEqual([health.status, health.checks['writer']], ['ok', true]);
});

test('SIGTERM: the process flushes and exits', async () => {
  await app.kill('SIGTERM');
  assert.equal(app.running, false);
});
