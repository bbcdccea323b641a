/**
 * Scalar events as the ClearML SDK reports them (a training script's loss, accuracy, learning
 * rate and the resource monitor's GPU series), deterministic so that every benchmark and its
 * ceiling send the same bytes, and Kafka messages of them exactly as the gateway makes them.
 */
import { createHash } from 'node:crypto';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  messageKey,
  packEvents,
  prepareValidators,
  validateEvent,
  type Event,
} from '@trackstream/event-schema';

/** With authentication off (the local stack) every request is tenant `default`. */
export const TENANT = 'default';

/** A task id like ClearML's: 32 hex digits. */
export function taskId(n: number, salt = 'bench'): string {
  return createHash('md5').update(`${salt}-${n}`).digest('hex');
}

/** A deterministic value in [0, 1) for (i, j): the noise of a curve. */
function noise(i: number, j: number): number {
  const x = Math.sin(i * 12.9898 + j * 78.233) * 43758.5453;
  return x - Math.floor(x);
}

/**
 * The series a training task reports, and how each value evolves with the iteration; `n` is the
 * noise of this task at this iteration. Values a framework computes in float32 (loss, accuracy,
 * gradient norm: PyTorch's `tensor.item()`) carry float32 precision, as the SDK reports them;
 * the learning rate is a Python float, the resource monitor's figures are whole numbers.
 */
const SERIES: ReadonlyArray<{ metric: string; variant: string; value(iter: number, n: number): number }> = [
  { metric: 'loss', variant: 'train', value: (i, n) => Math.fround(2.3 * Math.exp(-i / 3000) + 0.1 + 0.05 * (n - 0.5)) },
  { metric: 'loss', variant: 'validation', value: (i, n) => Math.fround(2.3 * Math.exp(-i / 3000) + 0.15 + 0.02 * (n - 0.5)) },
  { metric: 'accuracy', variant: 'train', value: (i, n) => Math.fround(1 - 0.9 * Math.exp(-i / 2000) - 0.02 * n) },
  { metric: 'accuracy', variant: 'validation', value: (i, n) => Math.fround(0.97 - 0.9 * Math.exp(-i / 2000) - 0.01 * n) },
  { metric: 'learning_rate', variant: 'lr', value: (i) => 0.1 * 0.1 ** Math.floor(i / 10_000) },
  { metric: 'grad_norm', variant: 'total', value: (_i, n) => Math.fround(0.5 + 2 * n) },
  { metric: ':monitor:gpu', variant: 'gpu_0_utilization', value: (_i, n) => Math.round(80 + 20 * n) },
  { metric: ':monitor:gpu', variant: 'gpu_0_mem_usage', value: (_i, n) => 14_000 + Math.round(50 * n) },
];

/** Each task's own noise (tasks that reported identical values would compress unrealistically well). */
function taskSeed(task: string): number {
  return parseInt(task.slice(0, 6), 16) / 997;
}

/** Start of every task's run; one iteration every 250 ms. */
const RUN_START_MS = 1_767_225_600_000;

export interface SdkScalar {
  type: 'training_stats_scalar';
  task: string;
  iter: number;
  metric: string;
  variant: string;
  value: number;
  timestamp: number;
  allow_locked: boolean;
  model_event: boolean;
}

/**
 * Reports number `from` .. `from + count - 1` of one task: report j is series j % 8 at
 * iteration floor(j / 8), so consecutive calls continue the same run.
 */
export function scalarReports(task: string, from: number, count: number): SdkScalar[] {
  const seed = taskSeed(task);
  const out: SdkScalar[] = [];
  for (let j = from; j < from + count; j++) {
    const s = j % SERIES.length;
    const iter = Math.floor(j / SERIES.length);
    const series = SERIES[s] as (typeof SERIES)[number];
    out.push({
      type: 'training_stats_scalar',
      task,
      iter,
      metric: series.metric,
      variant: series.variant,
      value: series.value(iter, noise(iter * SERIES.length + s, seed)),
      timestamp: RUN_START_MS + iter * 250 + s,
      allow_locked: true,
      model_event: false,
    });
  }
  return out;
}

/**
 * Request number `r` of a stream of batches of `size` reports spread over `tasks` tasks in
 * turn: what one SDK flush of one task sends. Consecutive requests of a task continue its run.
 */
export function batchReports(r: number, size: number, tasks: number, salt?: string): SdkScalar[] {
  return scalarReports(taskId(r % tasks, salt), Math.floor(r / tasks) * size, size);
}

/** The body of events.add_batch: one JSON event per line. */
export function jsonLines(events: readonly object[]): Buffer {
  return Buffer.from(events.map((e) => JSON.stringify(e)).join('\n'));
}

export interface KafkaMessage {
  key: string;
  value: Buffer;
}

/**
 * The Kafka messages the gateway publishes for one request of ONE task's events: validated as
 * it validates them, packed (packEvents) up to its default message bound, keyed by tenant+task.
 */
export function gatewayMessages(events: readonly SdkScalar[], receivedAt: number): KafkaMessage[] {
  prepareValidators();
  const ctx = { tenant: TENANT, worker: undefined, now: receivedAt };
  const valid: Event[] = events.map((raw) => {
    const r = validateEvent(raw, ctx);
    if (!r.ok) throw new Error(`bench bug: an invalid event (${r.reason}): ${JSON.stringify(raw)}`);
    return r.event;
  });
  const task = events[0]?.task ?? '';
  const key = messageKey(TENANT, task);
  return packEvents(TENANT, task, valid, DEFAULT_MAX_MESSAGE_BYTES, receivedAt).map((value) => ({ key, value }));
}
