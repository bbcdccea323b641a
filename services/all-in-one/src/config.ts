import { field, parseConfig, type ConfigOf, type Env } from '@trackstream/config';

export const allInOneConfigSpec = {
  port: field({ env: 'PORT', type: 'integer', default: 8008, minimum: 0, maximum: 65535, description: 'HTTP port of the whole API (8008 is the ClearML SDK default)' }),
  logLevel: field({ env: 'LOG_LEVEL', type: 'string', default: 'info', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace'], description: 'Log level' }),
} as const;

export type AllInOneConfig = ConfigOf<typeof allInOneConfigSpec>;

export function readAllInOneConfig(env: Env): AllInOneConfig {
  return parseConfig(allInOneConfigSpec, env);
}
