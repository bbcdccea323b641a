import { clickhouseConfigSpec, schemaConfigSpec } from '@trackstream/clickhouse';
import { field, parseConfig, serviceSpec, type ConfigOf, type Env } from '@trackstream/config';
import { kafkaConfigSpec } from '@trackstream/kafka';

export const writerOwnConfigSpec = {
  writerGroupId: field({ env: 'WRITER_GROUP_ID', type: 'string', default: 'trackstream-writer', description: 'Kafka consumer group of the writers' }),
  writerSessionTimeoutMs: field({ env: 'WRITER_SESSION_TIMEOUT_MS', type: 'integer', default: 30_000, minimum: 6000, description: 'Kafka group session timeout: how soon a dead writer\'s partitions move to the others' }),
  writerBatchRows: field({ env: 'WRITER_BATCH_ROWS', type: 'integer', default: 50_000, minimum: 1, description: 'Flush when this many rows are buffered' }),
  writerBatchBytes: field({ env: 'WRITER_BATCH_BYTES', type: 'integer', default: 16 * 1024 * 1024, minimum: 1024, description: 'Flush when the buffered rows reach about this many bytes' }),
  writerBatchMs: field({ env: 'WRITER_BATCH_MS', type: 'integer', default: 1000, minimum: 10, description: 'Flush rows at the latest this long after the first was buffered' }),
  writerRetryInitialMs: field({ env: 'WRITER_RETRY_INITIAL_MS', type: 'integer', default: 200, minimum: 10, description: 'First back-off after a failed insert (doubles up to the maximum)' }),
  clickhouseCluster: schemaConfigSpec.clickhouseCluster,
  writerRetryMaxMs: field({ env: 'WRITER_RETRY_MAX_MS', type: 'integer', default: 5000, minimum: 10, description: 'Longest back-off between insert attempts' }),
} as const;

export const writerConfigSpec = {
  ...serviceSpec(8082, 'HTTP port (health, metrics)'),
  ...kafkaConfigSpec,
  ...clickhouseConfigSpec,
  ...writerOwnConfigSpec,
} as const;

export type WriterConfig = ConfigOf<typeof writerConfigSpec>;

export function readWriterConfig(env: Env): WriterConfig {
  return parseConfig(writerConfigSpec, env);
}
