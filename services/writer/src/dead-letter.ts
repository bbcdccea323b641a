import type { ConsumedMessage, MessageProducer } from '@trackstream/kafka';
import type { WriterMetrics } from './metrics';

/**
 * A message the writer cannot decode goes, unchanged, to the dead-letter topic with the reason
 * and its origin in headers; the partition then moves on past it.
 */
export class DeadLetter {
  constructor(
    private readonly producer: MessageProducer,
    private readonly topic: string,
    private readonly sourceTopic: string,
    private readonly metrics: WriterMetrics,
  ) {}

  async send(m: ConsumedMessage, reason: string, detail: string): Promise<void> {
    await this.producer.send(this.topic, [
      {
        key: m.key ?? '',
        value: m.value ?? Buffer.alloc(0),
        headers: {
          reason,
          detail: detail.slice(0, 500),
          'source-topic': this.sourceTopic,
          'source-partition': String(m.partition),
          'source-offset': m.offset,
        },
      },
    ]);
    this.metrics.deadLettered.inc({ reason });
  }
}
