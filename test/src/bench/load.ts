/**
 * Load drivers. closedLoop: C clients, each sending its next request when the previous one is
 * answered (throughput); openLoop: requests at a fixed rate whatever the answers (freshness).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuBetween, describeCpu, msPerThousand, type CpuByProcess } from './cpu';
import { every, int, progress } from './progress';
import { summarize, type Summary } from './stats';

export interface ClosedLoopOptions {
  label: string;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Events one operation carries. */
  eventsPerOp: number;
  /** Operation number `seq` (0, 1, 2, ... across all clients); throws on failure. */
  op(seq: number): Promise<void>;
  /** The process under test's state, read at both edges of the window. */
  sample: () => Promise<Sample>;
}

export interface Sample {
  /** CPU seconds (user + system) used so far, by process: the one under test, Kafka, ... */
  cpuSeconds: CpuByProcess;
  /** The Prometheus text of the process under test, when it has any. */
  metrics?: string;
}

export interface ClosedLoopResult {
  /** Operations answered inside the measurement window. */
  ops: number;
  events: number;
  seconds: number;
  eventsPerSec: number;
  opsPerSec: number;
  latencyMs: Summary;
  /** CPU milliseconds per 1,000 events, by process (the keys of Sample.cpuSeconds). */
  cpuMsPer1000Events: CpuByProcess;
  /** CPU seconds per second of the window, by process: how many cores each kept busy. */
  coresBusy: CpuByProcess;
  /** The samples at the start and at the end of the window. */
  samples: [Sample, Sample];
  errors: number;
  firstError: string | undefined;
}

/**
 * Runs `concurrency` clients for a warm-up, then measures for `durationMs`: operations that
 * complete inside the window count, with their latency.
 */
export async function closedLoop(o: ClosedLoopOptions): Promise<ClosedLoopResult> {
  let running = true;
  let measuring = false;
  let seq = 0;
  let ops = 0;
  let errors = 0;
  let firstError: string | undefined;
  const latencies: number[] = [];

  const client = async (): Promise<void> => {
    while (running) {
      const started = performance.now();
      try {
        await o.op(seq++);
        if (measuring) {
          latencies.push(performance.now() - started);
          ops++;
        }
      } catch (e) {
        errors++;
        firstError ??= e instanceof Error ? e.message : String(e);
        await sleep(100); // no hot loop against a failing service
      }
    }
  };

  progress(`${o.label}: ${o.concurrency} clients, warm-up ${o.warmupMs / 1000} s`);
  const clients = Array.from({ length: o.concurrency }, client);
  await sleep(o.warmupMs);
  const before = await o.sample();
  measuring = true;
  const t0 = performance.now();
  const stopTicker = every(Math.min(5000, Math.max(1000, o.durationMs / 4)), () => {
    const s = (performance.now() - t0) / 1000;
    return `${o.label}: ${int((ops * o.eventsPerOp) / s)} events/s over ${s.toFixed(0)} s${errors ? `, ${errors} errors` : ''}`;
  });
  await sleep(o.durationMs);
  measuring = false;
  const seconds = (performance.now() - t0) / 1000;
  stopTicker();
  const after = await o.sample();
  running = false;
  await Promise.all(clients);

  const events = ops * o.eventsPerOp;
  const used = cpuBetween(before.cpuSeconds, after.cpuSeconds);
  const result: ClosedLoopResult = {
    ops,
    events,
    seconds,
    eventsPerSec: events / seconds,
    opsPerSec: ops / seconds,
    latencyMs: summarize(latencies),
    cpuMsPer1000Events: msPerThousand(used, events),
    coresBusy: Object.fromEntries(Object.entries(used).map(([name, s]) => [name, s / seconds])),
    samples: [before, after],
    errors,
    firstError,
  };
  progress(
    `${o.label}: ${int(result.eventsPerSec)} events/s, p50 ${result.latencyMs.p50.toFixed(1)} ms, p99 ${result.latencyMs.p99.toFixed(1)} ms` +
      `; CPU ms / 1,000 events: ${describeCpu(result.cpuMsPer1000Events)}` +
      (errors ? `, ${errors} errors (first: ${firstError})` : ''),
  );
  return result;
}

export interface OpenLoopOptions {
  ratePerSec: number;
  durationMs: number;
  /** Operation number `seq`, started on schedule; its failure is counted, not thrown. */
  op(seq: number): Promise<void>;
}

/** Starts op(0), op(1), ... at `ratePerSec` for `durationMs`, then waits for those in flight. */
export async function openLoop(o: OpenLoopOptions): Promise<{ sent: number; errors: number; firstError: string | undefined }> {
  const interval = 1000 / o.ratePerSec;
  const t0 = performance.now();
  const inFlight = new Set<Promise<void>>();
  let errors = 0;
  let firstError: string | undefined;
  let seq = 0;
  for (; seq * interval < o.durationMs; seq++) {
    const due = t0 + seq * interval;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const p: Promise<void> = o
      .op(seq)
      .catch((e: unknown) => {
        errors++;
        firstError ??= e instanceof Error ? e.message : String(e);
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  return { sent: seq, errors, firstError };
}
