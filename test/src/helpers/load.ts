/**
 * A steady SDK-like load for fault tests: batches of scalars and logs with unique identities,
 * sent as json-lines events.add_batch over HTTP, recording exactly which events the gateway
 * acknowledged.
 *
 * With `retry`, each client behaves like the ClearML SDK (urllib3's Retry): a batch answered
 * 500/502/503/504, or lost to a connection error or a timeout, is sent again with the very same
 * body (503 after its Retry-After, connection errors after an exponential back-off, shortened
 * here), until it is answered 200. Without it, a batch that fails is counted as refused.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface LoadResult {
  /** Events in batches answered 200. */
  acked: number;
  ackedScalars: number;
  ackedLogs: number;
  /** Batches answered 200. */
  ackedBatches: number;
  /** Batches given up (answered otherwise, or retries exhausted): their events count as not added. */
  refused: number;
  /** 503 answers received (retried or not). */
  unavailable: number;
  /** Of those, answered without a Retry-After header. */
  unavailableWithoutRetryAfter: number;
  /** Answers other than 200 and 503 (a 500, say): each one a bug under a fault. */
  otherErrors: number;
  /** Requests lost to a connection error or a timeout. */
  connectionErrors: number;
  /** Requests sent again after a failure. */
  retries: number;
  /** 200 answers whose `added` was not the batch's event count (must stay 0). */
  partial: number;
  /** Epoch ms of every 200 answer, in order. */
  ackTimes: number[];
  /** Epoch ms of every failed attempt (non-200 answer or connection error). */
  failureTimes: number[];
}

export interface Load {
  /** What has happened so far (the live figures). */
  readonly progress: Readonly<LoadResult>;
  /** Stops sending new batches, waits for the batches in flight (and their retries), and reports. */
  stop(): Promise<LoadResult>;
}

export interface LoadOptions {
  tasks?: number;
  scalarsPerBatch?: number;
  logsPerBatch?: number;
  /** Pause of each client between two batches. */
  intervalMs?: number;
  taskPrefix?: string;
  /** Concurrent clients (default 1). */
  clients?: number;
  /** Retry like the SDK (default false). */
  retry?: boolean;
  /** With retry: give a batch up after this long (default 180 s). */
  giveUpAfterMs?: number;
  /** Longest wait for one answer (default 30 s). */
  requestTimeoutMs?: number;
}

const RETRIED_STATUSES = new Set([500, 502, 503, 504]);

/**
 * Each client sends a batch of `scalarsPerBatch` scalars and `logsPerBatch` logs, pauses
 * `intervalMs`, and so on; batch n goes to task `<prefix>-<n % tasks>`. Every scalar has its own
 * (task, metric, variant, iter) (iter = batch number) and every log line its own (task, msg), so
 * after an exact store the tables hold precisely the acknowledged ones.
 */
export function startLoad(target: { url: string }, o: LoadOptions = {}): Load {
  const tasks = o.tasks ?? 4;
  const nScalars = o.scalarsPerBatch ?? 50;
  const nLogs = o.logsPerBatch ?? 10;
  const clients = o.clients ?? 1;
  const giveUpAfterMs = o.giveUpAfterMs ?? 180_000;
  const requestTimeoutMs = o.requestTimeoutMs ?? 30_000;
  const result: LoadResult = {
    acked: 0,
    ackedScalars: 0,
    ackedLogs: 0,
    ackedBatches: 0,
    refused: 0,
    unavailable: 0,
    unavailableWithoutRetryAfter: 0,
    otherErrors: 0,
    connectionErrors: 0,
    retries: 0,
    partial: 0,
    ackTimes: [],
    failureTimes: [],
  };
  let running = true;
  let seq = 0;

  const body = (batch: number): { text: string; events: number } => {
    const task = `${o.taskPrefix ?? 'load'}-${batch % tasks}`;
    const lines: string[] = [];
    for (let i = 0; i < nScalars; i++) {
      lines.push(JSON.stringify({ type: 'training_stats_scalar', task, metric: 'm', variant: `v${i}`, iter: batch, value: batch + i / 1000, timestamp: Date.now() }));
    }
    for (let i = 0; i < nLogs; i++) lines.push(JSON.stringify({ type: 'log', task, msg: `batch ${batch} line ${i}`, level: 'info', timestamp: Date.now() }));
    return { text: lines.join('\n'), events: lines.length };
  };

  /** One attempt: the HTTP status and the `added` count, or 0 for a connection error. */
  const post = async (text: string): Promise<{ status: number; added?: number; retryAfterSec?: number }> => {
    try {
      const res = await fetch(`${target.url}/events.add_batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json-lines' },
        body: text,
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
      const json = (await res.json()) as { data?: { added?: number } };
      const retryAfter = Number(res.headers.get('retry-after'));
      return { status: res.status, ...(json.data?.added !== undefined ? { added: json.data.added } : {}), ...(retryAfter > 0 ? { retryAfterSec: retryAfter } : {}) };
    } catch {
      return { status: 0 };
    }
  };

  const send = async (batch: number): Promise<void> => {
    const { text, events } = body(batch);
    const deadline = Date.now() + giveUpAfterMs;
    let backoffMs = 100;
    for (;;) {
      const r = await post(text);
      if (r.status === 200) {
        if (r.added !== events) result.partial++;
        result.acked += events;
        result.ackedScalars += nScalars;
        result.ackedLogs += nLogs;
        result.ackedBatches++;
        result.ackTimes.push(Date.now());
        return;
      }
      result.failureTimes.push(Date.now());
      if (r.status === 503) result.unavailable++;
      if (r.status === 503 && r.retryAfterSec === undefined) result.unavailableWithoutRetryAfter++;
      if (r.status === 0) result.connectionErrors++;
      else if (r.status !== 503) result.otherErrors++;
      if (!o.retry || !(r.status === 0 || RETRIED_STATUSES.has(r.status)) || Date.now() > deadline) {
        result.refused++;
        return;
      }
      // Retry-After as urllib3 honours it (capped to keep tests short); else exponential back-off.
      const waitMs = r.retryAfterSec !== undefined ? Math.min(r.retryAfterSec * 1000, 2000) : backoffMs;
      backoffMs = Math.min(backoffMs * 2, 2000);
      await sleep(waitMs);
      result.retries++;
    }
  };

  const loops = Array.from({ length: clients }, async () => {
    while (running) {
      await send(seq++);
      await sleep(o.intervalMs ?? 50);
    }
  });

  return {
    progress: result,
    async stop() {
      running = false;
      await Promise.all(loops);
      return result;
    },
  };
}
