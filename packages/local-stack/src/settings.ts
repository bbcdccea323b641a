import { field, parseConfig, type ConfigOf, type Env } from '@trackstream/config';

/** The local stack's settings, from the environment (see README, "Configuration"). */
export const stackSpec = {
  port: field({ env: 'PORT', type: 'integer', default: 8008, minimum: 1, maximum: 65535, description: 'HTTP port of the all-in-one process (the API)' }),
  dataDir: field({ env: 'TRACKSTREAM_DATA_DIR', type: 'string', default: '', description: 'Where the stack writes data, logs and pid files (default: .local/stack in the repo)' }),
  cacheDir: field({ env: 'TRACKSTREAM_CACHE_DIR', type: 'string', default: '', description: 'Where downloads are cached (default: $XDG_CACHE_HOME/trackstream or ~/.cache/trackstream)' }),
  kafkaPort: field({ env: 'TRACKSTREAM_KAFKA_PORT', type: 'integer', default: 9092, minimum: 1, maximum: 65535, description: 'Kafka broker port' }),
  kafkaControllerPort: field({ env: 'TRACKSTREAM_KAFKA_CONTROLLER_PORT', type: 'integer', default: 9093, minimum: 1, maximum: 65535, description: 'Kafka KRaft controller port' }),
  kafkaHeapMb: field({ env: 'TRACKSTREAM_KAFKA_HEAP_MB', type: 'integer', default: 512, minimum: 128, maximum: 512, description: 'Kafka JVM heap (MiB)' }),
  clickhousePort: field({ env: 'TRACKSTREAM_CLICKHOUSE_PORT', type: 'integer', default: 8123, minimum: 1, maximum: 65535, description: 'ClickHouse HTTP port' }),
  clickhouseTcpPort: field({ env: 'TRACKSTREAM_CLICKHOUSE_TCP_PORT', type: 'integer', default: 9000, minimum: 1, maximum: 65535, description: 'ClickHouse native port (real server only)' }),
} as const;

export type StackSettings = ConfigOf<typeof stackSpec>;

export function readStackSettings(env: Env): StackSettings {
  return parseConfig(stackSpec, env);
}
