/**
 * Freshness at a steady load, through gateway + writer composed in this process as `npm start`
 * runs them (default settings: the writer flushes at the latest 1 s after a batch's first row):
 *  - 200 reply -> row visible: every Nth request goes to a task of its own, whose rows are
 *    polled until all are visible to a query;
 *  - the writer's writer_freshness_seconds histogram (gateway receipt -> insert done).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClickHouseClient } from '@trackstream/clickhouse';
import type { LocalStack } from '@trackstream/local-stack';
import { batchReports, jsonLines, scalarReports, taskId } from './data';
import { HttpClient } from './http-client';
import { openLoop } from './load';
import { histogramBuckets } from './metrics-text';
import { every, int, progress } from './progress';
import type { Table } from './report';
import { pipelineConfig, pipelineEnv, startInProcess, uniqueId } from './services';
import { bucketDelta, bucketQuantile, summarize, type Summary } from './stats';

export interface FreshnessResults {
  samples: number;
  /** 200 reply -> the sample's rows visible to a query, polled. */
  replyToVisibleMs: Summary;
  /** writer_freshness_seconds (gateway receipt -> insert done), bucket-interpolated, in ms. */
  histogramMs: { count: number; p50: number; p99: number };
  requestErrors: number;
}

export async function measureFreshness(stack: LocalStack, clickhouse: ClickHouseClient, quick: boolean, defer: (fn: () => unknown) => void) {
  const params = { eventsPerSec: 2000, batch: 100, warmupMs: 3000, durationMs: quick ? 8000 : 20_000, sampleEvery: 5, pollMs: 50, tasks: 20 };
  const id = uniqueId('fr');
  progress('freshness: starting gateway + writer in this process');
  const pipeline = await startInProcess(pipelineConfig(pipelineEnv(stack, id)));
  defer(() => pipeline.stop());
  const http = new HttpClient(pipeline.url, 8);
  defer(() => http.close());

  const warmupOps = (params.warmupMs / 1000) * (params.eventsPerSec / params.batch);
  const pending = new Map<string, number>(); // sample task -> time of its 200 reply
  const freshness: number[] = [];
  /** Set when the load is over: the pending samples have until then to become visible. */
  let deadline = Infinity;
  const poller = (async () => {
    while (Date.now() < deadline && (deadline === Infinity || pending.size > 0)) {
      await sleep(params.pollMs);
      if (pending.size === 0) continue;
      const rs = await clickhouse.query({
        query: `SELECT task, count() AS n FROM ${id}.scalars WHERE task IN {tasks:Array(String)} GROUP BY task`,
        query_params: { tasks: [...pending.keys()] },
        format: 'JSONEachRow',
      });
      const rows = await rs.json<{ task: string; n: string }>();
      const now = performance.now();
      for (const r of rows) {
        const repliedAt = pending.get(r.task);
        if (repliedAt !== undefined && Number(r.n) >= params.batch) {
          freshness.push(now - repliedAt);
          pending.delete(r.task);
        }
      }
    }
  })();
  poller.catch(() => undefined); // awaited (and thrown) after the load
  const histogramBefore = sleep(params.warmupMs).then(() => pipeline.registry.metrics());
  const stopTicker = every(2000, () => `freshness: ${freshness.length} samples, ${pending.size} pending`);
  const load = await openLoop({
    ratePerSec: params.eventsPerSec / params.batch,
    durationMs: params.warmupMs + params.durationMs,
    async op(seq) {
      const sampled = seq >= warmupOps && seq % params.sampleEvery === 0;
      const events = sampled ? scalarReports(taskId(seq, `${id}-sample`), 0, params.batch) : batchReports(seq, params.batch, params.tasks, id);
      const reply = await http.post('/events.add_batch', jsonLines(events), 'application/json-lines');
      if (reply.status !== 200) throw new Error(`events.add_batch answered ${reply.status}: ${reply.body.slice(0, 300)}`);
      if (sampled) pending.set(events[0]?.task ?? '', performance.now());
    },
  });
  deadline = Date.now() + 60_000;
  await poller;
  stopTicker();
  if (pending.size > 0) throw new Error(`freshness: ${pending.size} samples not visible 60 s after the load`);
  const histogram = bucketDelta(histogramBuckets(await pipeline.registry.metrics(), 'writer_freshness_seconds'), histogramBuckets(await histogramBefore, 'writer_freshness_seconds'));
  const results: FreshnessResults = {
    samples: freshness.length,
    replyToVisibleMs: summarize(freshness),
    histogramMs: { count: histogram[histogram.length - 1]?.count ?? 0, p50: bucketQuantile(histogram, 0.5) * 1000, p99: bucketQuantile(histogram, 0.99) * 1000 },
    requestErrors: load.errors,
  };
  progress(`freshness: p50 ${int(results.replyToVisibleMs.p50)} ms, p99 ${int(results.replyToVisibleMs.p99)} ms over ${results.samples} samples${load.errors ? `; ${load.errors} failed requests (${load.firstError})` : ''}`);
  return { params, results };
}

export function freshnessTable(f: FreshnessResults): Table {
  return {
    title: 'Freshness at a steady load (ms)',
    columns: ['measure', 'p50', 'p99', 'max', 'samples'],
    rows: [
      ['200 reply -> row visible (polled)', int(f.replyToVisibleMs.p50), int(f.replyToVisibleMs.p99), int(f.replyToVisibleMs.max), f.samples],
      ['writer_freshness_seconds (receipt -> inserted; per Kafka message)', int(f.histogramMs.p50), int(f.histogramMs.p99), '-', f.histogramMs.count],
    ],
  };
}

