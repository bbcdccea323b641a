import { Counter, Gauge, Histogram, LATENCY_BUCKETS, type Registry } from '@trackstream/metrics';

/** Label of requests that named no endpoint (malformed path, unknown endpoint). */
export const UNKNOWN_ENDPOINT_LABEL = 'unknown';

export interface HttpMetrics {
  readonly requests: Counter<'endpoint' | 'code'>;
  readonly duration: Histogram<'endpoint'>;
  readonly inFlight: Gauge;
}

const SERVICE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * `<service>_http_requests_total{endpoint,code}`, `<service>_http_request_duration_seconds{endpoint}`
 * and `<service>_http_requests_in_flight` on `registry`. Routers of one service sharing a registry
 * (the all-in-one process) share the same metrics.
 */
export function httpMetrics(registry: Registry, service: string): HttpMetrics {
  if (!SERVICE.test(service)) throw new Error(`metrics: invalid service prefix "${service}"`);
  const existing = <T>(name: string): T | undefined => registry.getSingleMetric(name) as T | undefined;
  const requestsName = `${service}_http_requests_total`;
  const durationName = `${service}_http_request_duration_seconds`;
  const inFlightName = `${service}_http_requests_in_flight`;
  return {
    requests:
      existing<Counter<'endpoint' | 'code'>>(requestsName) ??
      new Counter({ name: requestsName, help: 'API requests answered, by endpoint and HTTP status', labelNames: ['endpoint', 'code'], registers: [registry] }),
    duration:
      existing<Histogram<'endpoint'>>(durationName) ??
      new Histogram({ name: durationName, help: 'API request duration in seconds, by endpoint', labelNames: ['endpoint'], buckets: LATENCY_BUCKETS, registers: [registry] }),
    inFlight: existing<Gauge>(inFlightName) ?? new Gauge({ name: inFlightName, help: 'API requests being served', registers: [registry] }),
  };
}
