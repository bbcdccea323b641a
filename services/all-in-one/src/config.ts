import { field, parseConfig, type ConfigOf, type Env } from '@trackstream/config';
import { gatewayConfigSpec } from '@trackstream/gateway';
import { queryOwnConfigSpec } from '@trackstream/query';
import { writerOwnConfigSpec } from '@trackstream/writer';

/** Every setting of the three services, with the API on 8008 (the ClearML SDK default). */
export const allInOneConfigSpec = {
  ...gatewayConfigSpec,
  ...writerOwnConfigSpec,
  ...queryOwnConfigSpec,
  port: field({ env: 'PORT', type: 'integer', default: 8008, minimum: 0, maximum: 65535, description: 'HTTP port of the whole API' }),
} as const;

export type AllInOneConfig = ConfigOf<typeof allInOneConfigSpec>;

export function readAllInOneConfig(env: Env): AllInOneConfig {
  return parseConfig(allInOneConfigSpec, env);
}
