import { field, parseConfig, type ConfigOf, type Env } from '@trackstream/config';

export const gatewayConfigSpec = {
  port: field({ env: 'PORT', type: 'integer', default: 8081, minimum: 0, maximum: 65535, description: 'HTTP port (health, metrics, API)' }),
  logLevel: field({ env: 'LOG_LEVEL', type: 'string', default: 'info', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace'], description: 'Log level' }),
} as const;

export type GatewayConfig = ConfigOf<typeof gatewayConfigSpec>;

export function readGatewayConfig(env: Env): GatewayConfig {
  return parseConfig(gatewayConfigSpec, env);
}
