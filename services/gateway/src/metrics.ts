import { Counter, Histogram, LATENCY_BUCKETS, type Registry } from '@trackstream/metrics';

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;

export function createGatewayMetrics(registry: Registry) {
  return {
    /** outcome: accepted (durably in Kafka), rejected (bad event; `reason` is a bounded code), unavailable (Kafka failed). */
    events: new Counter({
      name: 'gateway_events_total',
      help: 'Events received, by kind, outcome and rejection reason',
      labelNames: ['kind', 'outcome', 'reason'],
      registers: [registry],
    }),
    produceDuration: new Histogram({ name: 'gateway_produce_duration_seconds', help: 'Time for Kafka to acknowledge one request\'s messages (acks=all)', buckets: LATENCY_BUCKETS, registers: [registry] }),
    produceFailures: new Counter({ name: 'gateway_produce_failures_total', help: 'Produce calls that failed or timed out (answered 503)', registers: [registry] }),
    messageBytes: new Histogram({ name: 'gateway_kafka_message_bytes', help: 'Size of produced Kafka messages', buckets: [1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216], registers: [registry] }),
  };
}
