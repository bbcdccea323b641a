import type { Logger } from './logger';

/**
 * Runs a service's start-up, then waits for SIGINT/SIGTERM and runs its shutdown once.
 * A failure at start-up or shutdown exits non-zero with the reason logged.
 */
export function runMain(logger: Logger, startUp: () => Promise<() => Promise<void>>): void {
  let shutdown: (() => Promise<void>) | undefined;
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    const done = shutdown ? shutdown() : Promise.resolve();
    done.then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (e: unknown) => {
        logger.error({ err: e }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  startUp().then(
    (fn) => {
      shutdown = fn;
    },
    (e: unknown) => {
      logger.fatal({ err: e }, 'start-up failed');
      process.exit(1);
    },
  );
}
