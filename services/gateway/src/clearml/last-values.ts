import { stringifyJson } from '@trackstream/api';
import { ownerOfKey, type Event } from '@trackstream/event-schema';
import { Counter, type Registry } from '@trackstream/metrics';
import type { Logger } from '@trackstream/runtime';
import { ApiserverError, type Apiserver } from './apiserver';

/**
 * The last-values forward: the ClearML server keeps each task's `last_metrics`,
 * `last_iteration` and `last_update` from the scalars it is sent, and its UI and SDK read them
 * there. Here, each curve's points that change those values (its latest point, and any new
 * first, lowest or highest value) are collected as Kafka acknowledges them and sent on to the
 * ClearML server's events.add_batch: at most one call per task per interval, holding only the
 * curves that changed since the last one. A few points per curve per interval is what reaches
 * Elasticsearch, not the stream. The mean (`count`, `total`) ClearML derives is of those points only.
 */

interface Point {
  iter: number;
  timestamp: number;
  value: number;
}

type Role = 'latest' | 'first' | 'min' | 'max';

interface Curve {
  metric: string;
  variant: string;
  latest?: Point;
  first?: Point;
  min?: Point;
  max?: Point;
  /** What changed since the last forward, to send. */
  outbox: Partial<Record<Role, Point>>;
}

interface TaskState {
  /** The `task` column value (ownerKey). */
  key: string;
  tenant: string;
  task: string;
  model: boolean;
  /** The latest caller's credentials, which the ClearML server accepts for this task. */
  auth: Record<string, string>;
  curves: Map<string, Curve>;
  dirty: boolean;
  lastSentAt: number;
  sending: boolean;
}

export interface LastValuesOptions {
  api: Apiserver;
  intervalMs: number;
  logger: Logger;
  registry: Registry;
  /** Tasks followed at once; the least recently reported is dropped past it. */
  maxTasks?: number;
  now?: () => number;
}

const later = (a: Point, b: Point | undefined): boolean => !b || a.iter > b.iter || (a.iter === b.iter && a.timestamp >= b.timestamp);

/** `p` is now the curve's `role` point: sent with the next forward. */
function changed(t: TaskState, c: Curve, role: Role, p: Point): void {
  c[role] = p;
  c.outbox[role] = p;
  t.dirty = true;
}

export class LastValuesForward {
  private readonly tasks = new Map<string, TaskState>();
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly maxTasks: number;
  private readonly forwarded: Counter<'outcome'>;
  private readonly log: Logger;

  constructor(private readonly opts: LastValuesOptions) {
    this.now = opts.now ?? Date.now;
    this.maxTasks = opts.maxTasks ?? 100_000;
    this.log = opts.logger.child({ component: 'clearml-last-values' });
    this.forwarded = new Counter({ name: 'gateway_clearml_last_values_forwards_total', help: 'events.add_batch calls of the last-values forward to the ClearML server, by outcome', labelNames: ['outcome'], registers: [opts.registry] });
  }

  /** Scalars Kafka acknowledged, with the credentials of the request that sent them. */
  note(tenant: string, auth: Record<string, string>, events: readonly Event[]): void {
    // A request's events come grouped by task: its state is looked up once per run of them.
    let t: TaskState | undefined;
    for (const e of events) {
      if (e.type !== 'training_stats_scalar') continue;
      if (t?.key !== e.task) t = this.taskState(tenant, e.task, auth);
      const ck = `${e.metric}\u0000${e.variant}`;
      let c = t.curves.get(ck);
      if (!c) t.curves.set(ck, (c = { metric: e.metric, variant: e.variant, outbox: {} }));
      const p: Point = { iter: e.iter, timestamp: e.timestamp, value: e.value };
      if (later(p, c.latest)) changed(t, c, 'latest', p);
      if (!Number.isNaN(p.value)) {
        if (!c.first || p.iter < c.first.iter) changed(t, c, 'first', p);
        if (!c.min || p.value < c.min.value) changed(t, c, 'min', p);
        if (!c.max || p.value > c.max.value) changed(t, c, 'max', p);
      }
    }
  }

  /** The state of `key` (a `task` column value), made most recently reported (the first one is dropped past maxTasks). */
  private taskState(tenant: string, key: string, auth: Record<string, string>): TaskState {
    const mapKey = `${tenant}\u0000${key}`;
    let t = this.tasks.get(mapKey);
    if (t) {
      t.auth = auth;
      this.tasks.delete(mapKey);
    } else {
      if (this.tasks.size >= this.maxTasks) this.tasks.delete(this.tasks.keys().next().value as string);
      const owner = ownerOfKey(key);
      t = { key, tenant, task: owner.id, model: owner.owner === 'model', auth, curves: new Map(), dirty: false, lastSentAt: 0, sending: false };
    }
    this.tasks.set(mapKey, t);
    return t;
  }

  start(): void {
    this.timer = setInterval(() => this.flushDue(), Math.max(50, Math.min(1000, this.opts.intervalMs / 4)));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Sends every task whose interval has passed since its last forward. */
  private flushDue(): void {
    const now = this.now();
    for (const t of this.tasks.values()) {
      if (t.dirty && !t.sending && now - t.lastSentAt >= this.opts.intervalMs) void this.send(t, now);
    }
  }

  private async send(t: TaskState, now: number): Promise<void> {
    t.sending = true;
    t.dirty = false;
    t.lastSentAt = now;
    const taken: Array<[Curve, Curve['outbox']]> = [];
    const lines: string[] = [];
    for (const c of t.curves.values()) {
      const roles = c.outbox;
      if (Object.keys(roles).length === 0) continue;
      c.outbox = {};
      taken.push([c, roles]);
      // One line per distinct point (the latest is often the highest too).
      for (const p of new Set(Object.values(roles))) {
        lines.push(stringifyJson({ type: 'training_stats_scalar', task: t.task, ...(t.model ? { model_event: true } : {}), metric: c.metric, variant: c.variant, iter: p.iter, timestamp: p.timestamp, value: p.value }));
      }
    }
    try {
      await this.opts.api.call('events.add_batch', lines.join('\n'), t.auth);
      this.forwarded.inc({ outcome: 'sent' });
    } catch (err) {
      if (err instanceof ApiserverError && err.status !== undefined && err.status < 500) {
        // Refused (a task ClearML doesn't know, credentials it no longer takes): not retried;
        // the curves' next points go with the next request's credentials.
        this.forwarded.inc({ outcome: 'refused' });
        this.log.info({ err, task: t.task }, 'the ClearML server refused the last values');
        return;
      }
      // Put back for the next interval, where nothing newer took the role since.
      for (const [c, roles] of taken) c.outbox = { ...roles, ...c.outbox };
      t.dirty = true;
      this.forwarded.inc({ outcome: 'failed' });
      this.log.warn({ err, task: t.task }, 'the last values did not reach the ClearML server; retrying next interval');
    } finally {
      t.sending = false;
    }
  }
}
