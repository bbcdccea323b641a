/**
 * Throughput of validateEvent, packEvents/encodeMessage and decodeMessage on one core.
 * Run after a build: node packages/event-schema/dist/bench.js [events]
 */
import { decodeMessage, encodeMessage, packEvents } from './codec';
import { prepareValidators, validateEvent, type Event } from './events';

const N = Number(process.argv[2] ?? 200_000);
const TASK = '0123456789abcdef0123456789abcdef';

/** What the gateway holds after parsing a body: plain objects as the SDK sends them. */
function rawEvents(n: number): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const ts = 1_700_000_000_000 + i;
    switch (i % 10) {
      case 8:
        out.push({ type: 'log', task: TASK, timestamp: ts, level: 'info', worker: 'host-1', msg: `step ${i}: loss=${Math.sin(i).toFixed(4)} lr=0.001 elapsed=12.3s` });
        break;
      case 9:
        out.push({ type: 'training_debug_image', task: TASK, timestamp: ts, iter: i, metric: 'samples', variant: 'val', key: `samples/val_${i % 5}.jpg`, url: `https://files.example.com/p/t/samples/val_${i % 5}.jpg`, model_event: false, allow_locked: true });
        break;
      default:
        out.push({ type: 'training_stats_scalar', task: TASK, timestamp: ts, iter: i, metric: `metric_${i % 8}`, variant: 'train', value: i % 1000 === 0 ? NaN : Math.sin(i), model_event: false, allow_locked: true });
    }
  }
  return out;
}

function rate(label: string, count: number, ms: number, extra = ''): void {
  console.log(`${label.padEnd(34)} ${Math.round((count / ms) * 1000).toLocaleString('en-US').padStart(12)} events/s  (${ms.toFixed(1)} ms for ${count.toLocaleString('en-US')})${extra}`);
}

function time(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

function best(runs: number, fn: () => void): number {
  let min = Infinity;
  for (let i = 0; i < runs; i++) min = Math.min(min, time(fn));
  return min;
}

prepareValidators();
const raws = rawEvents(N);
const ctx = { tenant: 'default', worker: 'host-1', now: Date.now() };
let valid: Event[] = [];

const tValidate = best(7, () => {
  valid = [];
  for (const r of raws) {
    const res = validateEvent(r, ctx);
    if (res.ok) valid.push(res.event);
  }
});
rate('validateEvent (mixed kinds)', N, tValidate);

const bad = raws.map((r, i) => (i % 2 ? { ...(r as object), value: 'x', level: 1 } : { ...(r as object), task: '' }));
rate('validateEvent (all rejected)', N, best(7, () => { for (const r of bad) validateEvent(r, ctx); }));

// As the gateway does it: groups of one (tenant, task), e.g. 1000 events per request.
const GROUP = 1000;
let bufs: Buffer[] = [];
const tPack = best(7, () => {
  bufs = [];
  for (let i = 0; i < valid.length; i += GROUP) bufs.push(...packEvents('default', TASK, valid.slice(i, i + GROUP)));
});
const bytes = bufs.reduce((n, b) => n + b.length, 0);
rate(`packEvents (groups of ${GROUP})`, valid.length, tPack, `  ${((bytes / tPack) * 1000 / 1e6).toFixed(0)} MB/s, ${(bytes / valid.length).toFixed(1)} B/event`);

const tEncode = best(7, () => { encodeMessage({ tenant: 'default', task: TASK, receivedAt: 1, events: valid }); });
rate('encodeMessage (one message)', valid.length, tEncode);

const tDecode = best(7, () => { for (const b of bufs) decodeMessage(b); });
rate(`decodeMessage (groups of ${GROUP})`, valid.length, tDecode, `  ${((bytes / tDecode) * 1000 / 1e6).toFixed(0)} MB/s`);

const plain = JSON.stringify(valid.slice(0, GROUP));
console.log(`(for scale: plain JSON.stringify of the same events ${(plain.length / GROUP).toFixed(1)} B/event)`);
