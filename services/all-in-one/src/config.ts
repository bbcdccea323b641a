import { parseConfig, serviceSpec, type ConfigOf, type Env } from '@trackstream/config';
import { gatewayConfigSpec } from '@trackstream/gateway';
import { queryOwnConfigSpec } from '@trackstream/query';
import { writerOwnConfigSpec } from '@trackstream/writer';

/** Every setting of the three services, with the API on 8008 (the ClearML SDK default). */
export const allInOneConfigSpec = {
  ...gatewayConfigSpec,
  ...writerOwnConfigSpec,
  ...queryOwnConfigSpec,
  ...serviceSpec(8008, 'HTTP port of the whole API (8008 is the ClearML SDK default)'),
} as const;

export type AllInOneConfig = ConfigOf<typeof allInOneConfigSpec>;

export function readAllInOneConfig(env: Env): AllInOneConfig {
  return parseConfig(allInOneConfigSpec, env);
}
