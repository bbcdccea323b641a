/** CPU seconds and resident memory of named processes, sampled from /proc at an interval. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pidCpuSeconds } from './cpu';

/** VmRSS of `pid` in MiB; NaN when unreadable. */
export function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

export interface ProcWindow {
  cpuSec: number;
  coresBusy: number;
  rssPeakMiB: number;
  rssAvgMiB: number;
}

interface Sample {
  t: number;
  cpu: Record<string, number>;
  rss: Record<string, number>;
}

export class ProcMonitor {
  private readonly samples: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly pids: Record<string, number>) {}

  sample(): Sample {
    const s: Sample = { t: performance.now(), cpu: {}, rss: {} };
    for (const [name, pid] of Object.entries(this.pids)) {
      s.cpu[name] = pidCpuSeconds(pid);
      s.rss[name] = rssMiB(pid);
    }
    this.samples.push(s);
    return s;
  }

  start(everyMs = 1000): void {
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Figures between two samples taken at the window's edges (`sample()`). */
  window(from: Sample, to: Sample): Record<string, ProcWindow> {
    const seconds = (to.t - from.t) / 1000;
    const inside = this.samples.filter((s) => s.t >= from.t && s.t <= to.t);
    const out: Record<string, ProcWindow> = {};
    for (const name of Object.keys(this.pids)) {
      const rss = inside.map((s) => s.rss[name] ?? NaN).filter(Number.isFinite);
      const cpuSec = (to.cpu[name] ?? NaN) - (from.cpu[name] ?? NaN);
      out[name] = {
        cpuSec,
        coresBusy: cpuSec / seconds,
        rssPeakMiB: rss.length ? Math.max(...rss) : NaN,
        rssAvgMiB: rss.length ? rss.reduce((a, b) => a + b, 0) / rss.length : NaN,
      };
    }
    return out;
  }
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Top self-time functions of the newest V8 .cpuprofile in `dir` (share of all samples). */
export function topSelfTime(dir: string, top = 15): { file: string; rows: Array<{ fn: string; where: string; selfPct: number }> } | undefined {
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(dir, f))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  } catch {
    return undefined;
  }
  const file = files[0];
  if (!file) return undefined;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[] };
  const byFn = new Map<string, { fn: string; where: string; hits: number }>();
  let total = 0;
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    total += hits;
    const where = n.callFrame.url ? `${basename(n.callFrame.url)}:${n.callFrame.lineNumber + 1}` : '';
    const fn = n.callFrame.functionName || '(anonymous)';
    const key = `${fn}@${where}`;
    const e = byFn.get(key) ?? { fn, where, hits: 0 };
    e.hits += hits;
    byFn.set(key, e);
  }
  const rows = [...byFn.values()]
    .sort((a, b) => b.hits - a.hits)
    .slice(0, top)
    .map((e) => ({ fn: e.fn, where: e.where, selfPct: (100 * e.hits) / Math.max(1, total) }));
  return { file, rows };
}
