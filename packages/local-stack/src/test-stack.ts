import { setTimeout as sleep } from 'node:timers/promises';
import { LocalStack } from './stack';

/** The variable through which `npm test` tells integration tests where their stack is. */
export const STACK_ENV = 'TRACKSTREAM_TEST_STACK_DIR';

/**
 * The isolated stack `npm test` started, for integration tests: its addresses, and control of
 * its processes (a test may stop and restart Kafka or ClickHouse).
 */
export async function testStack(env: NodeJS.ProcessEnv = process.env): Promise<LocalStack> {
  const dir = env[STACK_ENV];
  if (!dir) throw new Error(`${STACK_ENV} is not set: run integration tests through 'npm test'`);
  return LocalStack.open({ dataDir: dir, log: () => undefined });
}

/** Polls `probe` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out waiting for ${opts.what ?? 'condition'}${why}`);
    }
    await sleep(opts.intervalMs ?? 100);
  }
}
