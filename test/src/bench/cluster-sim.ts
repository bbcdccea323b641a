/**
 * A simulated training cluster: N tasks, each reporting as the ClearML SDK does. Per task, every
 * "iteration" reports 8-20 scalar series, plus every 10th iteration a vector, every 5th a console
 * line, every 100th two debug images, every 300th a plot of a few KB. Events are queued and sent
 * by events.add_batch (json-lines, HTTP keep-alive) when 100 are queued or ~5 s (jittered) after
 * the last flush; console lines have their own queue flushed every ~2 s. One request in flight
 * per queue (the SDK's reporter thread sends one batch after another); a 503 or a network error
 * is retried with backoff, the same body, as the SDK's session retries.
 *
 * Iterations advance so that the cluster offers `ratePerSec` events/s in total, ramping up
 * linearly over `rampMs`, paced by a 20 ms tick (a steady stream, not bursts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { taskId } from './data';
import type { HttpClient } from './http-client';

export const KINDS = ['scalars', 'vectors', 'images', 'plots', 'logs'] as const;
export type Kind = (typeof KINDS)[number];
export type KindCounts = Record<Kind, number>;

export function zeroCounts(): KindCounts {
  return { scalars: 0, vectors: 0, images: 0, plots: 0, logs: 0 };
}

export function addCounts(to: KindCounts, from: KindCounts): void {
  for (const k of KINDS) to[k] += from[k];
}

export function totalOf(c: KindCounts): number {
  return KINDS.reduce((s, k) => s + c[k], 0);
}

const FLUSH_EVENTS = 100;
const FLUSH_MS = 5000;
const LOG_FLUSH_MS = 2000;
/** The most one request carries when a queue fell behind. */
const MAX_BATCH = 2000;
const TICK_MS = 20;
const SCALAR_NAMES = ['loss', 'accuracy', 'grad_norm', 'learning_rate', 'perplexity', ':monitor:gpu', ':monitor:machine'];
const VARIANTS = ['train', 'validation', 'test'];
const LOG_LINES = [
  'Epoch 3: 100%|##########| 1563/1563 [01:12<00:00, 21.6it/s, loss=0.4312]',
  'INFO:root:saving checkpoint to /mnt/checkpoints/model_step.pt',
  'WARNING: gradient overflow, reducing loss scale to 32768.0',
  'train: [1200/50000] lr=0.000100 loss=0.5231 acc=0.8123 time=0.231s',
];

/** Events one iteration of a task with `series` scalar series reports on average. */
function eventsPerIteration(series: number): number {
  return series + 1 / 10 + 1 / 5 + 2 / 100 + 1 / 300;
}

/** A Plotly figure of a few KB, as Logger.report_scatter2d / report_histogram send. */
function plotStr(iter: number): string {
  const n = 120;
  const x = Array.from({ length: n }, (_, i) => i);
  const y = x.map((i) => Number(Math.sin(i / 7 + iter).toFixed(5)));
  return JSON.stringify({
    data: [{ type: 'scatter', mode: 'lines', name: 'series', x, y }],
    layout: { title: `confusion at ${iter}`, xaxis: { title: 'x' }, yaxis: { title: 'y' } },
  });
}

interface Queue {
  lines: string[];
  counts: KindCounts;
  /** The highest scalar iteration queued (freshness marker). */
  maxScalarIter: number;
  nextFlushAt: number;
  busy: boolean;
}

function newQueue(nextFlushAt: number): Queue {
  return { lines: [], counts: zeroCounts(), maxScalarIter: -1, nextFlushAt, busy: false };
}

class SimTask {
  readonly id: string;
  readonly series: Array<{ metric: string; variant: string }>;
  readonly iterPerSec: number;
  iter = 0;
  readonly events: Queue;
  readonly logs: Queue;
  constructor(n: number, salt: string, perTaskRate: number, now: number) {
    this.id = taskId(n, salt);
    const count = 8 + (n % 13); // 8..20 series
    this.series = Array.from({ length: count }, (_, s) => ({
      metric: SCALAR_NAMES[s % SCALAR_NAMES.length] as string,
      variant: `${VARIANTS[Math.floor(s / SCALAR_NAMES.length) % VARIANTS.length] as string}_${s}`,
    }));
    this.iterPerSec = perTaskRate / eventsPerIteration(count);
    this.events = newQueue(now + Math.random() * FLUSH_MS);
    this.logs = newQueue(now + Math.random() * LOG_FLUSH_MS);
  }

  /** Queues iteration `this.iter` and advances. */
  report(now: number): void {
    const it = this.iter++;
    const q = this.events;
    const t = `"task":"${this.id}","iter":${it},"timestamp":${now}`;
    for (const s of this.series) {
      const v = Math.fround(Math.exp(-it / 5000) + Math.random() * 0.01);
      q.lines.push(`{"type":"training_stats_scalar",${t},"metric":"${s.metric}","variant":"${s.variant}","value":${v}}`);
    }
    q.counts.scalars += this.series.length;
    q.maxScalarIter = it;
    if (it % 10 === 0) {
      const values = Array.from({ length: 16 }, (_, i) => Number((Math.random() + i).toFixed(4)));
      q.lines.push(`{"type":"training_stats_vector",${t},"metric":"weights","variant":"layer_0","values":${JSON.stringify(values)}}`);
      q.counts.vectors++;
    }
    if (it % 100 === 0) {
      for (const key of ['input', 'output']) {
        q.lines.push(`{"type":"training_debug_image",${t},"metric":"samples","variant":"${key}","key":"${key}","url":"https://files.example.com/${this.id}/samples/${key}_${it}.jpg"}`);
      }
      q.counts.images += 2;
    }
    if (it % 300 === 0) {
      q.lines.push(`{"type":"plot",${t},"metric":"confusion","variant":"matrix","plot_str":${JSON.stringify(plotStr(it))}}`);
      q.counts.plots++;
    }
    if (it % 5 === 0) {
      const msg = `${LOG_LINES[it % LOG_LINES.length] as string} (iteration ${it})`;
      this.logs.lines.push(`{"type":"log",${t},"level":"info","worker":"gpu-node-${this.id.slice(0, 4)}","msg":${JSON.stringify(msg)}}`);
      this.logs.counts.logs++;
    }
  }
}

export interface Attempt {
  status: number;
  ms: number;
  at: number;
}

/** What the cluster tells its observer about each batch. */
export interface ClusterHooks {
  /** A batch answered 200: its counts, the time of the reply, the first attempt's latency. */
  acked(counts: KindCounts, at: number, ms: number, events: number, added: number): void;
  /** Per 200 of an events batch carrying scalars: the task and its highest scalar iteration. */
  scalarsAcked(task: string, maxIter: number, at: number): void;
  retried(reason: string): void;
  failed(reason: string): void;
}

export interface ClusterOptions {
  tasks: number;
  ratePerSec: number;
  rampMs: number;
  salt: string;
  http: HttpClient;
  hooks: ClusterHooks;
}

export class Cluster {
  private readonly tasks: SimTask[];
  private readonly t0 = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;
  /** Events generated (offered), by kind. */
  readonly offered = zeroCounts();
  requests = 0;
  /** Events generated (queued by the simulated SDKs), all kinds. */
  generated = 0;

  constructor(private readonly o: ClusterOptions) {
    const now = performance.now();
    this.tasks = Array.from({ length: o.tasks }, (_, n) => new SimTask(n, o.salt, o.ratePerSec / o.tasks, now));
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  /** Iterations a task should have reported by now: the rate integrated over a linear ramp. */
  private due(task: SimTask, now: number): number {
    const s = (now - this.t0) / 1000;
    const ramp = this.o.rampMs / 1000;
    const effective = s < ramp ? (s * s) / (2 * ramp) : s - ramp / 2;
    return Math.floor(task.iterPerSec * effective);
  }

  private tick(): void {
    const now = performance.now();
    const wall = Date.now();
    for (const task of this.tasks) {
      const due = this.due(task, now);
      const before = task.events.lines.length + task.logs.lines.length;
      while (task.iter < due) task.report(wall);
      this.generated += task.events.lines.length + task.logs.lines.length - before;
      for (const [q, every] of [
        [task.events, FLUSH_MS],
        [task.logs, LOG_FLUSH_MS],
      ] as const) {
        if (q.busy || q.lines.length === 0) continue;
        if (q.lines.length >= FLUSH_EVENTS || now >= q.nextFlushAt) this.flush(task, q, every * (0.8 + 0.4 * Math.random()));
      }
    }
  }

  private flush(task: SimTask, q: Queue, nextIn: number): void {
    const lines = q.lines.splice(0, MAX_BATCH);
    // Counts of what was taken: kinds in queue order are not tracked line by line, so take all
    // counts when the queue is emptied, else split scalars first (approximate only if > MAX_BATCH).
    let counts: KindCounts;
    if (q.lines.length === 0) {
      counts = q.counts;
      q.counts = zeroCounts();
    } else {
      counts = countKinds(lines);
      for (const k of KINDS) q.counts[k] -= counts[k];
    }
    addCounts(this.offered, counts);
    // The freshness marker only when the batch holds the queue's last scalar iteration.
    const maxIter = q.lines.length === 0 ? q.maxScalarIter : -1;
    q.busy = true;
    q.nextFlushAt = performance.now() + nextIn;
    const p = this.send(task.id, Buffer.from(lines.join('\n')), counts, lines.length, maxIter)
      .finally(() => {
        q.busy = false;
        this.inFlight.delete(p);
      });
    this.inFlight.add(p);
  }

  private async send(task: string, body: Buffer, counts: KindCounts, events: number, maxIter: number): Promise<void> {
    const h = this.o.hooks;
    this.requests++;
    for (let attempt = 0; ; attempt++) {
      const started = performance.now();
      let reason: string;
      try {
        const reply = await this.o.http.post('/events.add_batch', body, 'application/json-lines');
        const at = performance.now();
        if (reply.status === 200) {
          const added = (JSON.parse(reply.body) as { data: { added: number } }).data.added;
          h.acked(counts, at, at - started, events, added);
          if (counts.scalars > 0 && maxIter >= 0) h.scalarsAcked(task, maxIter, at);
          return;
        }
        if (reply.status !== 503) {
          h.failed(`HTTP ${reply.status}: ${reply.body.slice(0, 200)}`);
          return;
        }
        reason = 'HTTP 503';
      } catch (e) {
        reason = e instanceof Error ? e.message : String(e);
      }
      if (this.stopped && attempt >= 5) {
        h.failed(`gave up after ${attempt + 1} attempts: ${reason}`);
        return;
      }
      h.retried(reason);
      // The SDK's backoff: doubling from 0.5 s, at most 8 s, jittered.
      await sleep(Math.min(8000, 500 * 2 ** attempt) * (0.5 + Math.random() * 0.5));
    }
  }

  /** Stops generating; unsent queued events are dropped (never offered); waits for requests in flight. */
  async stop(): Promise<{ unsent: number }> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    let unsent = 0;
    for (const t of this.tasks) unsent += t.events.lines.length + t.logs.lines.length;
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    return { unsent };
  }

  /** Events queued, not yet sent (the clients' backlog). */
  backlog(): number {
    let n = 0;
    for (const t of this.tasks) n += t.events.lines.length + t.logs.lines.length;
    return n;
  }
}

function countKinds(lines: readonly string[]): KindCounts {
  const c = zeroCounts();
  for (const l of lines) {
    if (l.startsWith('{"type":"training_stats_scalar"')) c.scalars++;
    else if (l.startsWith('{"type":"training_stats_vector"')) c.vectors++;
    else if (l.startsWith('{"type":"training_debug_image"')) c.images++;
    else if (l.startsWith('{"type":"plot"')) c.plots++;
    else c.logs++;
  }
  return c;
}
