import { EVENT_KINDS, messageKey, packEvents, type Event } from '@trackstream/event-schema';
import { ProduceUnavailableError, type MessageProducer, type OutgoingMessage } from '@trackstream/kafka';
import type { GatewayMetrics } from './metrics';

/**
 * The most one produce request may carry: the brokers' `message.max.bytes` (16 MiB in every
 * deployment of this repo: deploy/local, docker-compose) bounds each partition's record batch,
 * and all of a request's messages for one partition form one batch. 64 KiB are left for the
 * batch's and its records' own framing.
 */
export const MAX_PRODUCE_BYTES = 16 * 1024 * 1024 - 64 * 1024;
/** Framing of one record in a batch (lengths, deltas, attributes), generously. */
const RECORD_OVERHEAD = 64;

function recordBytes(m: OutgoingMessage): number {
  return m.value.length + Buffer.byteLength(m.key) + RECORD_OVERHEAD;
}

/** Per kind, the fields whose size varies: strings (by UTF-16 unit) and float arrays (by element). */
const VARIABLE_FIELDS = new Map(
  EVENT_KINDS.map((k) => [
    k.type,
    {
      strings: k.fields.filter((f) => f.wire === 'string' || f.wire === 'level').map((f) => f.name),
      arrays: k.fields.filter((f) => f.wire === 'floats').map((f) => f.name),
    },
  ]),
);

/**
 * An upper bound of an event's encoded size (a UTF-16 unit takes at most 6 bytes, as a JSON
 * escape in the message header, and 3 in a UTF-8 line; a number at most 25 with its comma), so
 * that exact sizes are computed only for the rare event that might be too large.
 */
function sizeBound(tenant: string, e: Event): number {
  // The envelope, the kind, timestamp, iter and a scalar's value: well under 256 bytes.
  let bound = 256 + 6 * (tenant.length + e.task.length);
  const fields = e as unknown as Record<string, string | number[]>;
  const { strings, arrays } = VARIABLE_FIELDS.get(e.type) as { strings: string[]; arrays: string[] };
  for (const name of strings) bound += 6 * (fields[name] as string).length;
  for (const name of arrays) bound += 25 * (fields[name] as number[]).length;
  return bound;
}

/**
 * Turns one request's accepted events into Kafka messages, grouped by task (key = tenant + task,
 * so a task's events stay in order on one partition) and packed up to a size bound, and sends
 * them in one produce call. Resolves only once Kafka acknowledged every message (acks = all).
 */
export class Publisher {
  constructor(
    private readonly producer: MessageProducer,
    private readonly topic: string,
    private readonly maxMessageBytes: number,
    private readonly metrics: GatewayMetrics,
  ) {}

  /**
   * Whether Kafka could never take `e`: alone in its message it is over MAX_PRODUCE_BYTES (an
   * event under the body limit can encode larger: a value sent as `1e20` is written in full). Such an event is
   * a bad event, not a reason to answer 503 (the SDK would retry it forever).
   */
  tooLarge(tenant: string, e: Event, receivedAt: number): boolean {
    if (sizeBound(tenant, e) <= MAX_PRODUCE_BYTES) return false;
    const [value] = packEvents(tenant, e.task, [e], Number.MAX_SAFE_INTEGER, receivedAt);
    return value === undefined || recordBytes({ key: messageKey(tenant, e.task), value }) > MAX_PRODUCE_BYTES;
  }

  /** Throws ProduceUnavailableError when Kafka can't take them in time. */
  async publish(tenant: string, events: readonly Event[], receivedAt: number): Promise<void> {
    const byTask = new Map<string, Event[]>();
    for (const e of events) {
      const list = byTask.get(e.task);
      if (list) list.push(e);
      else byTask.set(e.task, [e]);
    }
    const messages: OutgoingMessage[] = [];
    for (const [task, list] of byTask) {
      const key = messageKey(tenant, task);
      for (const value of packEvents(tenant, task, list, this.maxMessageBytes, receivedAt)) {
        this.metrics.messageBytes.observe(value.length);
        messages.push({ key, value });
      }
    }
    await this.send(messages);
  }

  /**
   * Sends `messages` in order, in as few produce requests as MAX_PRODUCE_BYTES allows (one,
   * unless they add up to more: a request's messages for one partition must fit one batch).
   */
  async send(messages: readonly OutgoingMessage[]): Promise<void> {
    const end = this.metrics.produceDuration.startTimer();
    try {
      let from = 0;
      let bytes = 0;
      for (let i = 0; i < messages.length; i++) {
        const size = recordBytes(messages[i] as OutgoingMessage);
        if (i > from && bytes + size > MAX_PRODUCE_BYTES) {
          await this.producer.send(this.topic, messages.slice(from, i));
          from = i;
          bytes = 0;
        }
        bytes += size;
      }
      await this.producer.send(this.topic, from === 0 ? messages : messages.slice(from));
      end();
    } catch (e) {
      this.metrics.produceFailures.inc();
      throw e instanceof ProduceUnavailableError ? e : new ProduceUnavailableError(String(e), { cause: e });
    }
  }
}
