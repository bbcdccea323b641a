import { field, parseConfig, type ConfigOf, type Env } from '@trackstream/config';

export const writerConfigSpec = {
  port: field({ env: 'PORT', type: 'integer', default: 8082, minimum: 0, maximum: 65535, description: 'HTTP port (health, metrics)' }),
  logLevel: field({ env: 'LOG_LEVEL', type: 'string', default: 'info', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace'], description: 'Log level' }),
} as const;

export type WriterConfig = ConfigOf<typeof writerConfigSpec>;

export function readWriterConfig(env: Env): WriterConfig {
  return parseConfig(writerConfigSpec, env);
}
