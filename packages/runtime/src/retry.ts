import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from './logger';

/** A failed attempt that will be retried, as `onRetry` sees it. */
export interface RetryAttempt {
  /** 1 for the first attempt. */
  readonly attempt: number;
  readonly error: unknown;
  /** The wait before the next attempt. */
  readonly delayMs: number;
}

export interface RetryOptions {
  /** The first wait after a failure (default 250 ms); it doubles after each further failure. */
  initialDelayMs?: number;
  /** The longest wait between attempts (default 5 s). */
  maxDelayMs?: number;
  /** Give up, throwing the last error, rather than start an attempt this long after the first (default: never). */
  timeoutMs?: number;
  /** Aborting gives up at once (a wait is cut short), throwing the last error. */
  signal?: AbortSignal;
  /** Errors it returns false for are not worth another attempt: thrown at once. Default: every error is retried. */
  retriable?: (error: unknown) => boolean;
  /**
   * Runs after each failure that will be retried, before the wait: logs, metrics, heartbeats.
   * An error it throws ends the retrying with that error.
   */
  onRetry?: (attempt: RetryAttempt) => void | Promise<void>;
}

/**
 * Runs `fn` until it succeeds, waiting after each failure with exponential back-off, until an
 * error is not retriable, the timeout passes or the signal aborts. Without a timeout or signal it
 * retries for as long as it takes: what waits on Kafka or ClickHouse waits for them to be back.
 */
export async function retry<T>(fn: () => Promise<T>, o: RetryOptions = {}): Promise<T> {
  const maxDelayMs = o.maxDelayMs ?? 5000;
  const deadline = o.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + o.timeoutMs;
  let delayMs = Math.min(o.initialDelayMs ?? 250, maxDelayMs);
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (o.retriable?.(error) === false || o.signal?.aborted || Date.now() + delayMs > deadline) throw error;
      await o.onRetry?.({ attempt, error, delayMs });
      const waited = await sleep(delayMs, true, o.signal ? { signal: o.signal } : {}).catch(() => false);
      if (!waited) throw error;
      delayMs = Math.min(delayMs * 2, maxDelayMs);
    }
  }
}

/** An `onRetry` that logs each failure at warn: "<what> failed; retrying". */
export function logRetries(logger: Logger, what: string): (a: RetryAttempt) => void {
  return ({ attempt, error, delayMs }) => logger.warn({ err: error, attempt, retryInMs: delayMs }, `${what} failed; retrying`);
}
