/** Sink's retry rules with a fake ClickHouse client (no ClickHouse). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClickHouseError, type ClickHouseClient } from '@trackstream/clickhouse';
import { Registry } from '@trackstream/metrics';
import { createLogger } from '@trackstream/runtime';
import { createWriterMetrics } from './metrics';
import { RowsRejected, Sink } from './sink';

const chError = (code: string) => new ClickHouseError({ message: `code ${code}`, code });

/** A client whose n-th insert (1-based) does what `outcome(n)` says: undefined succeeds. */
function fakeClient(outcome: (n: number) => Error | undefined): { client: ClickHouseClient; inserts: () => number } {
  let n = 0;
  const client = {
    async insert() {
      const e = outcome(++n);
      if (e) throw e;
      return {};
    },
  } as unknown as ClickHouseClient;
  return { client, inserts: () => n };
}

function sinkOver(client: ClickHouseClient): { sink: Sink; registry: Registry } {
  const registry = new Registry();
  const sink = new Sink(client, 'db', createWriterMetrics(registry), createLogger({ service: 'test', level: 'silent' }), { initialDelayMs: 1, maxDelayMs: 2 });
  return { sink, registry };
}

async function failureCounts(registry: Registry): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('writer_insert_failures_total')?.get();
  return Object.fromEntries((metric?.values ?? []).map((v) => [String(v.labels.code), v.value]));
}

const rows = [Buffer.from('a\n'), Buffer.from('b\n')];

test('fake client: an insert is retried, heartbeating between attempts, until it succeeds', async () => {
  const fake = fakeClient((n) => (n === 1 ? chError('210') : n === 2 ? new Error('ECONNREFUSED') : undefined));
  const { sink, registry } = sinkOver(fake.client);
  let heartbeats = 0;
  await sink.insert('scalars', rows, 2, { isActive: () => true, whileWaiting: async () => void heartbeats++ });
  assert.equal(fake.inserts(), 3);
  assert.equal(heartbeats, 2);
  assert.deepEqual(await failureCounts(registry), { '210': 1, unreachable: 1 });
});

test('fake client: rows ClickHouse cannot parse are refused at once, counted, not retried', async () => {
  const fake = fakeClient(() => chError('27'));
  const { sink, registry } = sinkOver(fake.client);
  await assert.rejects(sink.insert('logs', rows, 2, { isActive: () => true, whileWaiting: async () => undefined }), (e: unknown) => e instanceof RowsRejected && e.code === '27');
  assert.equal(fake.inserts(), 1);
  assert.deepEqual(await failureCounts(registry), { '27': 1 });
});

test('fake client: once the writer stops, a failing insert is abandoned', async () => {
  const fake = fakeClient(() => chError('241'));
  const { sink } = sinkOver(fake.client);
  let active = true;
  const guard = {
    isActive: () => active,
    whileWaiting: async () => {
      if (fake.inserts() === 3) active = false;
    },
  };
  await assert.rejects(sink.insert('scalars', rows, 2, guard), /insert into scalars abandoned: writer stopping/);
  assert.equal(fake.inserts(), 4);
});

test('fake client: a heartbeat that fails does not stop the retrying', async () => {
  const fake = fakeClient((n) => (n < 3 ? chError('159') : undefined));
  const { sink } = sinkOver(fake.client);
  await sink.insert('scalars', rows, 2, { isActive: () => true, whileWaiting: () => Promise.reject(new Error('rebalancing')) });
  assert.equal(fake.inserts(), 3);
});

test('fake client: a full disk (243) is retried like any outage, reported while it lasts and cleared by the first success', async () => {
  let sink: Sink | undefined;
  const seenWhileFailing: boolean[] = [];
  const fake = fakeClient((n) => (n <= 3 ? chError('243') : undefined));
  const made = sinkOver(fake.client);
  sink = made.sink;
  const gauge = async (): Promise<number> => (await made.registry.getSingleMetric('writer_clickhouse_disk_full')?.get())?.values[0]?.value ?? -1;
  await sink.insert('scalars', rows, 2, {
    isActive: () => true,
    whileWaiting: async () => void seenWhileFailing.push(sink?.diskFull === true),
  });
  assert.equal(fake.inserts(), 4);
  assert.deepEqual(seenWhileFailing, [true, true, true], 'reported full between the failed attempts');
  assert.equal(sink.diskFull, false, 'cleared once an insert succeeded');
  assert.equal(await gauge(), 0);
  assert.deepEqual(await failureCounts(made.registry), { '243': 3 });
});
