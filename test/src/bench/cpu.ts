/** CPU time of the processes a benchmark involves: this one, the stack's, a service's. */
import { readFileSync } from 'node:fs';
import type { LocalStack } from '@trackstream/local-stack';
import { fixed } from './progress';

/** CPU figures by process name (seconds, ms per 1,000 events, cores...). */
export type CpuByProcess = Record<string, number>;

/** Linux's clock ticks per second for /proc/<pid>/stat (USER_HZ; 100 on every mainstream kernel). */
const TICKS_PER_SEC = 100;

/** CPU seconds (user + system) of this process so far: process.cpuUsage(). */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** CPU seconds (user + system, all threads) of process `pid` so far, from /proc; NaN elsewhere. */
export function pidCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command (which may hold spaces) start after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SEC; // utime, stime
  } catch {
    return NaN;
  }
}

/** CPU seconds so far of the stack's Kafka and ClickHouse processes. */
export async function stackCpuSeconds(stack: LocalStack): Promise<CpuByProcess> {
  const out: CpuByProcess = {};
  for (const s of await stack.status()) out[s.name] = s.pid === undefined ? NaN : pidCpuSeconds(s.pid);
  return out;
}

/** CPU seconds each process used between two readings. */
export function cpuBetween(before: CpuByProcess, after: CpuByProcess): CpuByProcess {
  return Object.fromEntries(Object.entries(after).map(([name, s]) => [name, s - (before[name] ?? NaN)]));
}

/** CPU milliseconds per 1,000 items (events, rows), by process. */
export function msPerThousand(cpu: CpuByProcess, items: number): CpuByProcess {
  return Object.fromEntries(Object.entries(cpu).map(([name, s]) => [name, (s * 1000) / (items / 1000)]));
}

/** "gateway 3.3, kafka 0.6" */
export function describeCpu(cpu: CpuByProcess, digits = 1): string {
  return Object.entries(cpu)
    .map(([name, v]) => `${name} ${fixed(v, digits)}`)
    .join(', ');
}
