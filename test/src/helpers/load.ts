/**
 * A steady SDK-like load for fault tests: batches of scalars and logs with unique identities,
 * recording exactly which events the gateway acknowledged.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pipeline } from './pipeline';

export interface LoadResult {
  /** Events in batches answered 200. */
  acked: number;
  ackedScalars: number;
  ackedLogs: number;
  /** Batches refused (503 etc.): their events count as not added. */
  refused: number;
}

export interface Load {
  stop(): Promise<LoadResult>;
}

/**
 * Sends a batch of `scalarsPerBatch` scalars and `logsPerBatch` logs every `intervalMs` for
 * `tasks` tasks in turn. Every scalar has its own (task, metric, variant, iter), so after an
 * exact store the table holds precisely the acknowledged ones.
 */
export function startLoad(p: Pipeline, o: { tasks?: number; scalarsPerBatch?: number; logsPerBatch?: number; intervalMs?: number; taskPrefix?: string } = {}): Load {
  const tasks = o.tasks ?? 4;
  const nScalars = o.scalarsPerBatch ?? 50;
  const nLogs = o.logsPerBatch ?? 10;
  const result: LoadResult = { acked: 0, ackedScalars: 0, ackedLogs: 0, refused: 0 };
  let running = true;
  let seq = 0;
  const loop = (async () => {
    while (running) {
      const batch = seq++;
      const task = `${o.taskPrefix ?? 'load'}-${batch % tasks}`;
      const events: object[] = [];
      for (let i = 0; i < nScalars; i++) {
        events.push({ type: 'training_stats_scalar', task, metric: 'm', variant: `v${i}`, iter: batch, value: batch + i / 1000, timestamp: Date.now() });
      }
      for (let i = 0; i < nLogs; i++) events.push({ type: 'log', task, msg: `batch ${batch} line ${i}`, level: 'info', timestamp: Date.now() });
      try {
        const r = await p.addBatch(events);
        if (r.status === 200) {
          result.acked += events.length;
          result.ackedScalars += nScalars;
          result.ackedLogs += nLogs;
        } else {
          result.refused++;
        }
      } catch {
        result.refused++;
      }
      await sleep(o.intervalMs ?? 50);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return result;
    },
  };
}
