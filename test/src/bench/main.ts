/**
 * `npm run bench [-- <name>] [--quick]`: runs one benchmark on its own isolated stack and writes
 * bench-results/<name>-<timestamp>.{json,md}. Without a name: the end-to-end cluster simulation.
 * See each benchmark's file for what it measures.
 */
import { clusterBenchmark, parseClusterArgs } from './cluster';
import { gatewayBenchmark } from './gateway';
import { runBenchmark, type Benchmark } from './harness';
import { parseVariants } from './variants';
import { queryBenchmark } from './query';
import { writerBenchmark } from './writer';

const BENCHMARKS: readonly Benchmark[] = [clusterBenchmark, gatewayBenchmark, writerBenchmark, queryBenchmark];
const DEFAULT = clusterBenchmark;

function usage(): string {
  return [
    'usage: npm run bench [-- <name>] [--quick] [--tasks N] [--rate R [--rate R2]] [--variant name:KEY=V,... ...]',
    '',
    ...BENCHMARKS.map((b) => `  ${b.name.padEnd(10)} ${b.description}${b === DEFAULT ? ' (the default)' : ''}`),
    '',
    '  --quick    shorter runs and fewer events (to check that it works; numbers are noisier)',
    '  --tasks N  cluster: simulated SDK clients (default 200)',
    '  --rate R   cluster: events/s the cluster offers (default 104,000; full mode adds a phase at R/2; given twice: the two phases)',
    '  --variant name:KEY=V,...  gateway, cluster: also run the service(s) with these settings, side by side in the same run (repeatable;',
    '             e.g. --variant base:GATEWAY_PRODUCE_LINGER_MS=-1 --variant new:)',
    '  BENCH_CPU_PROF_DIR=<dir>  child processes (gateway, writer, all-in-one) write V8 CPU profiles there',
  ].join('\n');
}

const args = process.argv.slice(2);
const VALUE_FLAGS = ['--tasks', '--rate', '--variant'];
const names: string[] = [];
const unknownFlags: string[] = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i] as string;
  if (VALUE_FLAGS.includes(a)) i++;
  else if (VALUE_FLAGS.some((f) => a.startsWith(`${f}=`)) || a === '--quick') continue;
  else if (a.startsWith('--')) unknownFlags.push(a);
  else names.push(a);
}
const bench = names.length === 0 ? DEFAULT : BENCHMARKS.find((b) => b.name === names[0]);
let badArgs = false;
try {
  parseClusterArgs(args, args.includes('--quick'));
  parseVariants(args);
} catch (e) {
  console.error(String(e));
  badArgs = true;
}
if (!bench || names.length > 1 || unknownFlags.length > 0 || badArgs) {
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
