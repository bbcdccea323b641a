import { eventsNotAdded, noEvents, unavailable, validation, type EventLine, type RequestContext } from '@trackstream/api';
import { EVENT_TYPES, MODEL_KEY_PREFIX, ownerOfKey, validateEvent, type Event } from '@trackstream/event-schema';
import { ProduceUnavailableError } from '@trackstream/kafka';
import type { GatewayMetrics } from './metrics';
import type { Publisher } from './publisher';

export interface IngestDeps {
  publisher: Publisher;
  metrics: GatewayMetrics;
  retryAfterSec: number;
  /** Told of the events of each request once Kafka holds them (the last-values forward). */
  onAccepted?: (ctx: RequestContext, events: readonly Event[]) => void;
}

export interface IngestResult {
  added: number;
  errors: number;
  errors_info: Record<string, number>;
}

const KNOWN_KINDS = new Set<string>(EVENT_TYPES);
/** The reason of an event Kafka could never take (Publisher.tooLarge). */
export const TOO_LARGE = 'Validation error: event too large for the event log';

function kindOf(raw: unknown): string {
  const t = typeof raw === 'object' && raw !== null ? (raw as { type?: unknown }).type : undefined;
  return typeof t === 'string' && KNOWN_KINDS.has(t) ? t : 'unknown';
}

/**
 * events.add and events.add_batch: validates each event, counts the bad ones under their reason
 * (they never fail the request), and answers once Kafka holds the good ones. Nothing is counted
 * as added unless Kafka acknowledged it.
 */
export async function ingest(ctx: RequestContext, lines: readonly EventLine[], deps: IngestDeps): Promise<IngestResult> {
  if (lines.length === 0) throw noEvents();
  const now = Date.now();
  const vctx = { tenant: ctx.tenant, worker: ctx.worker, now };
  const accepted: Event[] = [];
  const errorsInfo: Record<string, number> = {};
  let errors = 0;
  for (const line of lines) {
    if (!line.ok) {
      errors++;
      errorsInfo[line.error] = (errorsInfo[line.error] ?? 0) + 1;
      deps.metrics.events.inc({ kind: 'unknown', outcome: 'rejected', reason: 'parse' });
      continue;
    }
    const r = validateEvent(line.value, vctx);
    if (r.ok && deps.publisher.tooLarge(ctx.tenant, r.event, now)) {
      errors++;
      errorsInfo[TOO_LARGE] = (errorsInfo[TOO_LARGE] ?? 0) + 1;
      deps.metrics.events.inc({ kind: r.event.type, outcome: 'rejected', reason: 'too-large' });
    } else if (r.ok) {
      accepted.push(r.event);
    } else {
      errors++;
      errorsInfo[r.reason] = (errorsInfo[r.reason] ?? 0) + 1;
      deps.metrics.events.inc({ kind: kindOf(line.value), outcome: 'rejected', reason: r.code });
    }
  }
  if (accepted.length === 0) throw eventsNotAdded(errorsInfo);
  checkOwnersConsistent(accepted);
  try {
    await deps.publisher.publish(ctx.tenant, accepted, now);
  } catch (e) {
    if (!(e instanceof ProduceUnavailableError)) throw e;
    for (const ev of accepted) deps.metrics.events.inc({ kind: ev.type, outcome: 'unavailable', reason: '' });
    ctx.log.error({ err: e }, 'Kafka did not take the events');
    throw unavailable('the event log (Kafka) is unavailable; nothing was added, retry later', deps.retryAfterSec, e);
  }
  countAccepted(accepted, deps.metrics);
  deps.onAccepted?.(ctx, accepted);
  return { added: accepted.length, errors, errors_info: errorsInfo };
}

/** As the reference: one id can't be both a task and a model within one request (400, nothing added). */
function checkOwnersConsistent(events: readonly Event[]): void {
  let models: Set<string> | undefined;
  for (const e of events) if (e.task.startsWith(MODEL_KEY_PREFIX)) (models ??= new Set()).add(ownerOfKey(e.task).id);
  if (!models) return;
  const both = [...new Set(events.map((e) => e.task))].filter((key) => models.has(key));
  if (both.length > 0) throw validation(`Inconsistent model_event setting in the passed events (ids: ${both.slice(0, 10).join(', ')})`);
}

function countAccepted(events: readonly Event[], metrics: GatewayMetrics): void {
  const byKind = new Map<string, number>();
  for (const e of events) byKind.set(e.type, (byKind.get(e.type) ?? 0) + 1);
  for (const [kind, n] of byKind) metrics.events.inc({ kind, outcome: 'accepted', reason: '' }, n);
}
