import { messageKey, packEvents, type Event } from '@trackstream/event-schema';
import { ProduceUnavailableError, type MessageProducer, type OutgoingMessage } from '@trackstream/kafka';
import type { GatewayMetrics } from './metrics';

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

  async send(messages: readonly OutgoingMessage[]): Promise<void> {
    const end = this.metrics.produceDuration.startTimer();
    try {
      await this.producer.send(this.topic, messages);
      end();
    } catch (e) {
      this.metrics.produceFailures.inc();
      throw e instanceof ProduceUnavailableError ? e : new ProduceUnavailableError(String(e), { cause: e });
    }
  }
}
