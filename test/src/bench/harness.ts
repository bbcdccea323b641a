/**
 * One benchmark run: an isolated Kafka + ClickHouse stack (free ports, a temporary folder),
 * the benchmark, its result files, and the stack stopped and deleted at the end, Ctrl-C included.
 */
import { createClickHouse } from '@trackstream/clickhouse';
import { LocalStack } from '@trackstream/local-stack';
import { progress } from './progress';
import { machine, writeReport, type BenchResult } from './report';

export interface BenchContext {
  stack: LocalStack;
  quick: boolean;
  /** Registers a clean-up (stop a process, close a client); they run last-registered first. */
  defer(fn: () => unknown): void;
}

export interface Benchmark {
  name: string;
  /** One line for `npm run bench` without arguments. */
  description: string;
  run(ctx: BenchContext): Promise<BenchResult>;
}

export async function runBenchmark(b: Benchmark, quick: boolean): Promise<void> {
  const startedAt = new Date();
  progress(`${b.name}${quick ? ' (quick)' : ''}: starting an isolated Kafka + ClickHouse stack`);
  const stack = await LocalStack.isolated({ log: progress });
  const cleanups: Array<() => unknown> = [];
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> =>
    (cleaning ??= (async () => {
      for (const fn of cleanups.reverse()) {
        await Promise.resolve()
          .then(fn)
          .catch((e: unknown) => progress(`clean-up step failed: ${String(e)}`));
      }
      await stack.down();
      stack.destroy();
    })());
  const onSignal = (): void => {
    progress('interrupted: stopping the stack');
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await stack.up();
    const m = machine(stack, await clickhouseVersion(stack.clickhouseUrl));
    const result = await b.run({ stack, quick, defer: (fn) => cleanups.push(fn) });
    const files = writeReport(b.name, quick, startedAt, m, result);
    console.log(`\n${files.markdown}`);
    progress(`written: ${files.json}`);
    progress(`written: ${files.md}`);
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function clickhouseVersion(url: string): Promise<string> {
  const client = createClickHouse({ url, database: 'default' });
  try {
    const rs = await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' });
    const [row] = await rs.json<{ v: string }>();
    return row?.v ?? 'unknown';
  } finally {
    await client.close();
  }
}
