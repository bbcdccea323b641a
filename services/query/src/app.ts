import { createApiRouter, type Auth, type Endpoint } from '@trackstream/api';
import { clickhouseFromConfig, type ClickHouseClient } from '@trackstream/clickhouse';
import type { Registry } from '@trackstream/metrics';
import type { Component, Logger } from '@trackstream/runtime';
import type { QueryConfig } from './config';
import { createCursors } from './cursor';
import { createDb } from './db';
import type { RouteDeps } from './deps';
import { chartMetrics } from './histogram';
import { clearScrollEndpoint } from './routes/clear-scroll';
import { debugImagesEndpoint } from './routes/debug-images';
import { downloadTaskLogEndpoint } from './routes/download-task-log';
import { getDebugImageSampleEndpoint } from './routes/get-debug-image-sample';
import { getMultiTaskMetricsEndpoint } from './routes/get-multi-task-metrics';
import { getMultiTaskPlotsEndpoint } from './routes/get-multi-task-plots';
import { getPlotSampleEndpoint } from './routes/get-plot-sample';
import { getScalarMetricDataEndpoint } from './routes/get-scalar-metric-data';
import { getScalarMetricsAndVariantsEndpoint } from './routes/get-scalar-metrics-and-variants';
import { getTaskEventsEndpoint } from './routes/get-task-events';
import { getTaskLatestScalarValuesEndpoint } from './routes/get-task-latest-scalar-values';
import { getTaskLogEndpoint } from './routes/get-task-log';
import { getTaskSingleValueMetricsEndpoint } from './routes/get-task-single-value-metrics';
import { getTaskMetricsEndpoint } from './routes/get-task-metrics';
import { getTaskPlotsEndpoint } from './routes/get-task-plots';
import { getVectorMetricsAndVariantsEndpoint } from './routes/get-vector-metrics-and-variants';
import { multiTaskScalarMetricsIterHistogramEndpoint } from './routes/multi-task-scalar-metrics-iter-histogram';
import { nextDebugImageSampleEndpoint } from './routes/next-debug-image-sample';
import { nextPlotSampleEndpoint } from './routes/next-plot-sample';
import { plotsEndpoint } from './routes/plots';
import { scalarMetricsIterHistogramEndpoint } from './routes/scalar-metrics-iter-histogram';
import { scalarMetricsIterRawEndpoint } from './routes/scalar-metrics-iter-raw';
import { vectorMetricsIterHistogramEndpoint } from './routes/vector-metrics-iter-histogram';

export interface QueryDeps {
  logger: Logger;
  registry: Registry;
  config: QueryConfig;
  auth: Auth;
  clickhouse?: ClickHouseClient;
}

/** The query service: the read endpoints of the events API, answered from ClickHouse. */
export function createQuery(deps: QueryDeps): Component {
  const { config } = deps;
  const logger = deps.logger.child({ component: 'query' });
  const clickhouse = deps.clickhouse ?? clickhouseFromConfig(config);
  // Downloads (streamed for as long as their client reads) on connections of their own: see createDb.
  const streaming = clickhouseFromConfig(config);
  const routeDeps: RouteDeps = { db: createDb(clickhouse, deps.registry, streaming), cursors: createCursors({ secret: config.queryScrollSecret, ttlSec: config.queryScrollTtlSec }), charts: chartMetrics(deps.registry) };
  const endpoints: Endpoint[] = [
    debugImagesEndpoint(routeDeps),
    getTaskLogEndpoint(routeDeps),
    getTaskEventsEndpoint(routeDeps),
    downloadTaskLogEndpoint(routeDeps),
    getTaskPlotsEndpoint(routeDeps),
    getMultiTaskPlotsEndpoint(routeDeps),
    getVectorMetricsAndVariantsEndpoint(routeDeps),
    vectorMetricsIterHistogramEndpoint(routeDeps),
    scalarMetricsIterHistogramEndpoint(routeDeps),
    multiTaskScalarMetricsIterHistogramEndpoint(routeDeps),
    getTaskLatestScalarValuesEndpoint(routeDeps),
    getScalarMetricsAndVariantsEndpoint(routeDeps),
    getScalarMetricDataEndpoint(routeDeps),
    clearScrollEndpoint(),
    getTaskSingleValueMetricsEndpoint(routeDeps),
    scalarMetricsIterRawEndpoint(routeDeps),
    plotsEndpoint(routeDeps),
    getDebugImageSampleEndpoint(routeDeps),
    nextDebugImageSampleEndpoint(routeDeps),
    getPlotSampleEndpoint(routeDeps),
    nextPlotSampleEndpoint(routeDeps),
    getTaskMetricsEndpoint(routeDeps),
    getMultiTaskMetricsEndpoint(routeDeps),
  ];
  const routes = createApiRouter({
    service: 'query',
    registry: deps.registry,
    logger,
    auth: deps.auth,
    timeoutMs: config.queryRequestTimeoutMs,
    endpoints,
  });
  return {
    name: 'query',
    routes,
    async start() {},
    async stop() {
      await streaming.close();
      if (!deps.clickhouse) await clickhouse.close();
    },
    health: () => [{ name: 'clickhouse', check: async () => (await clickhouse.ping()).success }],
  };
}
