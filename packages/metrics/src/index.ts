import { Router, type Request, type Response } from 'express';
import { AggregatorRegistry, Registry, collectDefaultMetrics, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { parseWatchedFolders, registerDiskUsage } from './disk-usage';

/** A registry's metrics as data (`registry.getMetricsAsJSON()`), which can cross a worker thread. */
export type MetricsSnapshot = Array<MetricObjectWithValues<MetricValue<string>>>;

export { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
export { parseWatchedFolders, registerDiskUsage, type WatchedFolder } from './disk-usage';

/** A named readiness probe of one dependency (Kafka, ClickHouse, a consumer...). */
export interface HealthCheck {
  readonly name: string;
  check(): Promise<boolean> | boolean;
}

/**
 * A registry for one process, with Node's default metrics (CPU, memory, event-loop lag) once,
 * and the disk usage of the data folders named in `diskUsagePaths` (DISK_USAGE_PATHS).
 * Components register their own metrics on it, where they emit them.
 */
export function createRegistry(opts: { defaultMetrics?: boolean; diskUsagePaths?: string } = {}): Registry {
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  registerDiskUsage(registry, parseWatchedFolders(opts.diskUsagePaths ?? ''));
  return registry;
}

/** Latency buckets (seconds) for HTTP and storage calls: 1 ms to 30 s. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface HealthReport {
  status: 'ok' | 'unavailable';
  checks: Record<string, boolean>;
}

export async function runHealthChecks(checks: readonly HealthCheck[]): Promise<HealthReport> {
  const results = await Promise.all(
    checks.map(async (c) => {
      try {
        return [c.name, await c.check()] as const;
      } catch {
        return [c.name, false] as const;
      }
    }),
  );
  const byName = Object.fromEntries(results);
  return { status: results.every(([, ok]) => ok) ? 'ok' : 'unavailable', checks: byName };
}

/**
 * `GET /metrics` (Prometheus text format) and `GET /health` (200 when every check passes,
 * 503 otherwise). `/healthz` is an alias, the name Kubernetes users reach for.
 */
export function observabilityRouter(deps: {
  registry: Registry;
  health: () => readonly HealthCheck[];
  /** Metrics of other threads of the process, summed with the registry's series of the same name and labels. */
  more?: () => Promise<MetricsSnapshot[]>;
}): Router {
  const router = Router();
  router.get('/metrics', async (_req: Request, res: Response) => {
    res.setHeader('Content-Type', deps.registry.contentType);
    if (!deps.more) {
      res.end(await deps.registry.metrics());
      return;
    }
    const all = [await deps.registry.getMetricsAsJSON(), ...(await deps.more())];
    res.end(await AggregatorRegistry.aggregate(all).metrics());
  });
  const health = async (_req: Request, res: Response): Promise<void> => {
    const report = await runHealthChecks(deps.health());
    res.status(report.status === 'ok' ? 200 : 503).json(report);
  };
  router.get('/health', health);
  router.get('/healthz', health);
  return router;
}
