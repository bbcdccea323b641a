import { fieldsSizeBound, messageKey, packEvents, type Event } from '@trackstream/event-schema';
import { MAX_PRODUCE_BYTES, ProduceUnavailableError, recordBytes, type MessageProducer, type OutgoingMessage } from '@trackstream/kafka';
import type { GatewayMetrics } from './metrics';

/**
 * An upper bound of an event's encoded size (fieldsSizeBound, and the message's envelope), so
 * that exact sizes are computed only for the rare event that might be too large.
 */
function sizeBound(tenant: string, e: Event): number {
  // The envelope and the kind: well under 256 bytes; tenant and task escaped in the header.
  return 256 + 6 * (tenant.length + e.task.length) + fieldsSizeBound(e);
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
