import { authConfigSpec, DEFAULT_BODY_LIMIT } from '@trackstream/api';
import { clickhouseConfigSpec } from '@trackstream/clickhouse';
import { field, parseConfig, serviceSpec, type ConfigOf, type Env } from '@trackstream/config';
import { DEFAULT_MAX_MESSAGE_BYTES } from '@trackstream/event-schema';
import { kafkaConfigSpec } from '@trackstream/kafka';

export const gatewayOwnConfigSpec = {
  gatewayBodyLimitBytes: field({ env: 'GATEWAY_BODY_LIMIT_BYTES', type: 'integer', default: DEFAULT_BODY_LIMIT, minimum: 1024, description: 'Largest request body, after decompression (413 above)' }),
  gatewayProduceTimeoutMs: field({ env: 'GATEWAY_PRODUCE_TIMEOUT_MS', type: 'integer', default: 5000, minimum: 100, description: 'Longest wait for Kafka to acknowledge a request\'s events; then 503 with Retry-After' }),
  gatewayMessageMaxBytes: field({ env: 'GATEWAY_MESSAGE_MAX_BYTES', type: 'integer', default: DEFAULT_MAX_MESSAGE_BYTES, minimum: 1024, description: 'Bound of one Kafka message (events of one task are packed up to it)' }),
  gatewayDeleteTimeoutMs: field({ env: 'GATEWAY_DELETE_TIMEOUT_MS', type: 'integer', default: 30_000, minimum: 1000, description: 'Longest wait for the writer to carry out delete_for_task; then 503' }),
  gatewayRequestTimeoutMs: field({ env: 'GATEWAY_REQUEST_TIMEOUT_MS', type: 'integer', default: 60_000, minimum: 1000, description: 'Longest time a request may take, body included' }),
  gatewayProduceLingerMs: field({ env: 'GATEWAY_PRODUCE_LINGER_MS', type: 'integer', default: 2, minimum: -1, maximum: 1000, description: 'Requests\' events sent to Kafka within this many ms of each other go in one produce request (0: those of one event-loop turn; -1: one produce request per request)' }),
  gatewayKafkaCompression: field({ env: 'GATEWAY_KAFKA_COMPRESSION', type: 'string', enum: ['none', 'gzip'], default: 'none', description: 'Compression of produced record batches (gzip: about 5x fewer bytes to Kafka, more CPU in the gateway, the broker and the writer; docs/scaling.md)' }),
  gatewayRetryAfterSec: field({ env: 'GATEWAY_RETRY_AFTER_SEC', type: 'integer', default: 2, minimum: 1, description: 'Retry-After of 503 answers' }),
} as const;

/** Beside a ClearML server (docs/clearml.md): its lifecycle calls pass through the gateway, and scalars' last values are forwarded to it. */
export const gatewayClearmlConfigSpec = {
  clearmlApiUrl: field({ env: 'CLEARML_API_URL', type: 'string', default: '', description: 'The ClearML API server (http://apiserver:8008); set, the gateway serves the lifecycle bridge and the last-values forward' }),
  clearmlApiTimeoutMs: field({ env: 'CLEARML_API_TIMEOUT_MS', type: 'integer', default: 60_000, minimum: 1000, description: 'Longest wait for the ClearML server to answer a call' }),
  clearmlLifecycleJournal: field({ env: 'CLEARML_LIFECYCLE_JOURNAL', type: 'string', default: '.local/clearml/lifecycle.jsonl', description: 'File of lifecycle calls not finished yet (on a persistent volume: a deletion is finished from it after a crash)' }),
  clearmlLifecycleRetryMs: field({ env: 'CLEARML_LIFECYCLE_RETRY_MS', type: 'integer', default: 5000, minimum: 100, description: 'How often unfinished lifecycle deletions are retried' }),
  clearmlLastValuesIntervalMs: field({ env: 'CLEARML_LAST_VALUES_INTERVAL_MS', type: 'integer', default: 5000, minimum: 0, description: 'Least time between two last-values forwards of one task (0: no forward)' }),
} as const;

export const gatewayConfigSpec = {
  ...serviceSpec(8081, 'HTTP port (API, health, metrics)'),
  ...kafkaConfigSpec,
  ...clickhouseConfigSpec,
  ...authConfigSpec,
  ...gatewayOwnConfigSpec,
  ...gatewayClearmlConfigSpec,
} as const;

export type GatewayConfig = ConfigOf<typeof gatewayConfigSpec>;

export function readGatewayConfig(env: Env): GatewayConfig {
  return parseConfig(gatewayConfigSpec, env);
}
