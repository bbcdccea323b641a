/**
 * What the routers must do, shared by the structure test (routing.test.ts, the matcher of
 * nginx.ts) and the test that runs nginx itself (nginx.test.ts): the configurations, and a
 * table of request paths with the upstream and URI each must reach.
 */
import { authFromConfig } from '@trackstream/api';
import { createGateway, readGatewayConfig } from '@trackstream/gateway';
import { createRegistry } from '@trackstream/metrics';
import { createLogger } from '@trackstream/runtime';
import { readRepoFile } from './support';

export type Upstream = 'gateway' | 'query' | 'apiserver';

export interface RouterConfig {
  /** Repository path of the nginx configuration. */
  readonly file: string;
  /** Copies that must stay byte-identical (the Kubernetes ConfigMaps are generated from them). */
  readonly copies: readonly string[];
  readonly upstreams: readonly Upstream[];
  /** Where the gateway's endpoints go; auth.login is ClearML's where the apiserver is behind the router. */
  readonly authLogin: Upstream;
  /** [path, upstream, URI the upstream receives (default: the path)] */
  readonly cases: ReadonlyArray<readonly [string, Upstream, string?]>;
}

/** ClearML's lifecycle calls that the gateway forwards to the apiserver before deleting the events. */
export const LIFECYCLE_CALLS = ['tasks.delete', 'tasks.delete_many', 'tasks.reset', 'tasks.reset_many', 'projects.delete', 'models.delete', 'models.delete_many'] as const;

/** Versions each endpoint is tried at: none, old, current, and far beyond what exists. */
export const VERSION_PREFIXES = ['', '/v2.1', '/v2.23', '/v2.30', '/v999.0'] as const;

const WRITES = ['/events.add', '/events.add_batch', '/v2.23/events.add_batch', '/events.delete_for_task', '/v2.22/events.delete_for_model', '/v2.30/events.clear_task_log', '/v2.19/events.clear_task_log/'];
const READS = ['/events.get_task_log', '/v2.23/events.scalar_metrics_iter_histogram', '/v2.9/events.get_task_events', '/v999.0/events.x', '/events.download_task_log'];
/** Paths that look like a routed endpoint but are not one. */
const LOOKALIKES = ['/events.add_batchx', '/x/events.add', '/v2/events.add', '/v2.23/events.add/extra', '/tasks.delete_hyper_params', '/tasks.deletex', '/v2.23/tasks.reset_', '/projects.delete_many', '/models.delete_models'];

export const ROUTERS: readonly RouterConfig[] = [
  {
    file: 'deploy/docker/nginx.conf',
    copies: ['deploy/k8s/base/router/nginx.conf'],
    upstreams: ['gateway', 'query'],
    authLogin: 'gateway',
    cases: [
      ...WRITES.map((p) => [p, 'gateway'] as const),
      ['/auth.login', 'gateway'],
      ['/v2.1/auth.login/', 'gateway'],
      ...READS.map((p) => [p, 'query'] as const),
      ...LOOKALIKES.map((p) => [p, 'query'] as const),
      ['/health', 'query'],
      // Without ClearML's server the lifecycle calls are nobody's: the query service answers 404.
      ['/tasks.delete', 'query'],
    ],
  },
  {
    file: 'deploy/docker/nginx-clearml.conf',
    copies: ['deploy/k8s/overlays/clearml/router/nginx.conf'],
    upstreams: ['gateway', 'query', 'apiserver'],
    authLogin: 'apiserver',
    cases: [
      ...WRITES.map((p) => [p, 'gateway'] as const),
      ...READS.map((p) => [p, 'query'] as const),
      ['/events.x', 'query'],
      ['/v2.23/events.x/', 'query'],
      ...LIFECYCLE_CALLS.flatMap((c) => VERSION_PREFIXES.map((v) => [`${v}/${c}`, 'gateway'] as const)),
      ['/auth.login', 'apiserver'],
      ['/v2.23/auth.login', 'apiserver'],
      ['/tasks.get_all', 'apiserver'],
      ['/v2.23/tasks.get_all', 'apiserver'],
      ['/v2.23/projects.get_all_ex', 'apiserver'],
      ['/debug.ping', 'apiserver'],
      ['/login.supported_modes', 'apiserver'],
      ...LOOKALIKES.filter((p) => !p.includes('events.')).map((p) => [p, 'apiserver'] as const),
      ['/events.add_batchx', 'query'],
      ['/x/events.add', 'apiserver'],
      ['/v2/events.add', 'apiserver'],
      ['/v2.23/events.add/extra', 'apiserver'],
      ['/health', 'query'],
      // The web UI's prefix, stripped.
      ['/api/v2.23/events.add_batch', 'gateway', '/v2.23/events.add_batch'],
      ['/api/v2.23/events.get_task_log', 'query', '/v2.23/events.get_task_log'],
      ['/api/v2.31/events.scalar_metrics_iter_histogram', 'query', '/v2.31/events.scalar_metrics_iter_histogram'],
      ['/api/v2.23/tasks.delete', 'gateway', '/v2.23/tasks.delete'],
      ['/api/v2.23/projects.delete', 'gateway', '/v2.23/projects.delete'],
      ['/api/v2.23/tasks.get_all', 'apiserver', '/v2.23/tasks.get_all'],
      ['/api/v2.23/auth.login', 'apiserver', '/v2.23/auth.login'],
      ['/api/events.add', 'gateway', '/events.add'],
      ['/apix/events.add', 'apiserver'],
    ],
  },
];

export function routerText(r: RouterConfig): string {
  return readRepoFile(r.file);
}

/**
 * The names of the endpoints a gateway built with `env` serves (auth.login included), read off
 * the gateway itself: nothing connects, the clients it makes are closed again.
 */
export async function gatewayEndpointNames(env: Readonly<Record<string, string | undefined>> = {}): Promise<readonly string[]> {
  const config = readGatewayConfig(env);
  const gateway = createGateway({ logger: createLogger({ service: 'gateway-test', level: 'silent' }), registry: createRegistry(), config, auth: await authFromConfig(config) });
  try {
    return gateway.endpoints;
  } finally {
    await gateway.stop();
  }
}
