/** Progress lines on stdout, stamped with the time since the benchmark started. */
const started = performance.now();

export function progress(message: string): void {
  const s = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
  console.log(`[${s} s] ${message}`);
}

/** Prints `line()` every `ms` until the returned function is called. */
export function every(ms: number, line: () => string): () => void {
  const timer = setInterval(() => progress(line()), ms);
  timer.unref();
  return () => clearInterval(timer);
}

/** 12345.6 -> "12,346" */
export function int(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A number with `digits` decimals (no grouping), for tables. */
export function fixed(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : String(n);
}

/** 0.437 -> "44%" */
export function pct(ratio: number): string {
  return `${(ratio * 100).toFixed(0)}%`;
}
