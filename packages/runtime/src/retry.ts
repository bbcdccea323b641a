import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from './logger';

export interface RetryOptions {
  what: string;
  logger: Logger;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Give up after this long (default: never); stops early when `signal` aborts. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Runs `fn` until it succeeds, with exponential back-off: start-up steps that need Kafka or
 * ClickHouse wait for them instead of failing the process.
 */
export async function retryUntilDone<T>(fn: () => Promise<T>, o: RetryOptions): Promise<T> {
  let delay = o.initialDelayMs ?? 250;
  const deadline = o.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + o.timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (o.signal?.aborted || Date.now() + delay > deadline) throw e;
      o.logger.warn({ err: e, attempt, retryInMs: delay }, `${o.what} failed; retrying`);
      await sleep(delay, undefined, o.signal ? { signal: o.signal } : {}).catch(() => undefined);
      delay = Math.min(delay * 2, o.maxDelayMs ?? 5000);
    }
  }
}
