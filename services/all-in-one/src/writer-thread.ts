/**
 * The writer on a worker thread of the all-in-one process. The gateway and the writer each keep
 * a core busy under load; on one event loop they would take turns, and the writer, whose work
 * arrives in big batches, falls behind. Its own thread gives it its own event loop (and clients);
 * the main thread sees a Component whose calls are messages, and its metrics as data to merge.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createRegistry, runHealthChecks, type HealthReport, type MetricsSnapshot } from '@trackstream/metrics';
import { createLogger, type Component, type Logger } from '@trackstream/runtime';
import { createWriter } from '@trackstream/writer';
import type { AllInOneConfig } from './config';

const ROLE = 'trackstream-writer';

type Op = 'start' | 'stop' | 'metrics' | 'health';
interface Call {
  id: number;
  op: Op;
}
type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export interface ThreadedComponent extends Component {
  /** The thread's metrics, to merge into the process's /metrics. */
  metrics(): Promise<MetricsSnapshot>;
}

/** Starts the writer's thread; its start() runs the writer's (migrations, topics, group join). */
export function writerInThread(config: AllInOneConfig, logger: Logger): ThreadedComponent {
  const worker = new Worker(__filename, { workerData: { role: ROLE, config } });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let stopped = false;
  worker.on('message', (r: Reply) => {
    const p = pending.get(r.id);
    pending.delete(r.id);
    if (r.ok) p?.resolve(r.value);
    else p?.reject(new Error(r.error));
  });
  const failAll = (e: Error): void => {
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  worker.on('error', (e) => {
    logger.fatal({ err: e }, 'the writer thread failed; exiting so that a supervisor restarts the process');
    failAll(e);
    process.exitCode = 1;
    process.kill(process.pid, 'SIGTERM');
  });
  worker.on('exit', (code) => {
    failAll(new Error(`the writer thread exited (${code})`));
    if (!stopped) {
      logger.fatal({ code }, 'the writer thread exited unexpectedly');
      process.exitCode = 1;
      process.kill(process.pid, 'SIGTERM');
    }
  });
  const call = <T>(op: Op): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ id, op } satisfies Call);
    });

  return {
    name: 'writer',
    start: () => call<void>('start'),
    async stop() {
      stopped = true;
      try {
        await call<void>('stop');
      } finally {
        await worker.terminate();
      }
    },
    health: () => [{ name: 'writer', check: async () => !stopped && (await call<HealthReport>('health')).status === 'ok' }],
    metrics: () => (stopped ? Promise.resolve([]) : call<MetricsSnapshot>('metrics')),
  };
}

/** The thread's side: one writer, answering the main thread's calls. */
function serveWriterThread(config: AllInOneConfig): void {
  const port = parentPort;
  if (!port) return;
  const logger = createLogger({ service: 'trackstream', level: config.logLevel }).child({ thread: 'writer' });
  // Process-wide default metrics come from the main thread's registry.
  const registry = createRegistry({ defaultMetrics: false });
  const writer = createWriter({ logger, registry, config });
  port.on('message', (c: Call) => {
    const run = async (): Promise<unknown> => {
      switch (c.op) {
        case 'start':
          return writer.start();
        case 'stop':
          return writer.stop();
        case 'metrics':
          return registry.getMetricsAsJSON();
        case 'health':
          return runHealthChecks(writer.health());
      }
    };
    run().then(
      (value) => port.postMessage({ id: c.id, ok: true, value } satisfies Reply),
      (e: unknown) => port.postMessage({ id: c.id, ok: false, error: e instanceof Error ? e.message : String(e) } satisfies Reply),
    );
  });
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === ROLE) {
  serveWriterThread((workerData as { config: AllInOneConfig }).config);
}
