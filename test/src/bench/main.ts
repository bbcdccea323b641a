/**
 * `npm run bench -- <name> [--quick]`: runs one benchmark on its own isolated stack and writes
 * bench-results/<name>-<timestamp>.{json,md}. See each benchmark's file for what it measures.
 */
import { gatewayBenchmark } from './gateway';
import { runBenchmark, type Benchmark } from './harness';
import { writerBenchmark } from './writer';

const BENCHMARKS: readonly Benchmark[] = [gatewayBenchmark, writerBenchmark];

function usage(): string {
  return [
    'usage: npm run bench -- <name> [--quick]',
    '',
    ...BENCHMARKS.map((b) => `  ${b.name.padEnd(10)} ${b.description}`),
    '',
    '  --quick    shorter runs and fewer events (to check that it works; numbers are noisier)',
    '  BENCH_CPU_PROF_DIR=<dir>  child processes (gateway, writer) write V8 CPU profiles there',
  ].join('\n');
}

const args = process.argv.slice(2);
const names = args.filter((a) => !a.startsWith('--'));
const unknownFlags = args.filter((a) => a.startsWith('--') && a !== '--quick');
const bench = BENCHMARKS.find((b) => b.name === names[0]);
if (!bench || names.length !== 1 || unknownFlags.length > 0) {
  console.error(usage());
  process.exit(2);
}
runBenchmark(bench, args.includes('--quick')).then(
  // Kafka and ClickHouse clients may keep sockets open: the run is over.
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
