import { Counter, Gauge, Histogram, LATENCY_BUCKETS, type Registry } from '@trackstream/metrics';

export type WriterMetrics = ReturnType<typeof createWriterMetrics>;

export function createWriterMetrics(registry: Registry) {
  return {
    rowsWritten: new Counter({ name: 'writer_rows_written_total', help: 'Rows inserted into ClickHouse, by table', labelNames: ['table'], registers: [registry] }),
    insertDuration: new Histogram({ name: 'writer_insert_duration_seconds', help: 'Duration of one table insert', labelNames: ['table'], buckets: LATENCY_BUCKETS, registers: [registry] }),
    insertFailures: new Counter({ name: 'writer_insert_failures_total', help: 'Failed insert attempts (retried), by table and ClickHouse error code', labelNames: ['table', 'code'], registers: [registry] }),
    batchRows: new Histogram({ name: 'writer_batch_rows', help: 'Rows per flushed batch', buckets: [10, 100, 1000, 5000, 10_000, 25_000, 50_000, 100_000], registers: [registry] }),
    flushDuration: new Histogram({ name: 'writer_flush_duration_seconds', help: 'Duration of a flush: every insert of the batch and the offset commit', buckets: LATENCY_BUCKETS, registers: [registry] }),
    consumerLag: new Gauge({ name: 'writer_consumer_lag_messages', help: 'Messages in Kafka beyond the last stored and committed offset, by partition (high watermark as of the last fetch)', labelNames: ['partition'], registers: [registry] }),
    diskFull: new Gauge({
      name: 'writer_clickhouse_disk_full',
      help: "1 while ClickHouse refuses the writer's inserts for lack of disk space (the writer retries and commits nothing meanwhile), else 0",
      registers: [registry],
    }),
    deadLettered: new Counter({ name: 'writer_dead_lettered_total', help: 'Messages sent to the dead-letter topic, by reason', labelNames: ['reason'], registers: [registry] }),
    freshness: new Histogram({
      name: 'writer_freshness_seconds',
      help: 'Time from gateway receipt to the row being inserted',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    deletions: new Counter({ name: 'writer_task_deletions_total', help: 'delete_for_task requests carried out', registers: [registry] }),
  };
}
