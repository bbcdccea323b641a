import express from 'express';
import { observabilityRouter, type MetricsSnapshot, type Registry } from '@trackstream/metrics';
import type { Component } from './component';
import { listen } from './http-server';
import type { Logger } from './logger';

/**
 * The body of every main: starts `components` in order, serves `/health`, `/metrics` and their
 * routes on `port`, and returns the shutdown that reverses it (HTTP first, so no new input
 * arrives while components flush).
 */
export async function serveComponents(opts: {
  port: number;
  host?: string;
  components: readonly Component[];
  registry: Registry;
  /** Metrics of components running in other threads (see observabilityRouter). */
  moreMetrics?: () => Promise<MetricsSnapshot[]>;
  logger: Logger;
  /** Told the bound port (useful with port 0). */
  onListening?: (port: number) => void;
}): Promise<() => Promise<void>> {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(
    observabilityRouter({
      registry: opts.registry,
      health: () => opts.components.flatMap((c) => c.health()),
      ...(opts.moreMetrics ? { more: opts.moreMetrics } : {}),
    }),
  );
  for (const c of opts.components) if (c.routes) app.use(c.routes);

  const started: Component[] = [];
  try {
    for (const c of opts.components) {
      await c.start();
      started.push(c);
    }
  } catch (e) {
    for (const c of started.reverse()) await c.stop().catch(() => undefined);
    throw e;
  }
  const server = await listen(app, { port: opts.port, ...(opts.host ? { host: opts.host } : {}) });
  opts.logger.info({ port: server.port, components: opts.components.map((c) => c.name) }, 'listening');
  opts.onListening?.(server.port);
  return async () => {
    await server.close();
    for (const c of [...opts.components].reverse()) {
      await c.stop().catch((e: unknown) => opts.logger.error({ err: e, component: c.name }, 'stop failed'));
    }
  };
}
