import { validation, type JsonSchema } from '@trackstream/api';
import { props } from './requests';

/**
 * The `metrics: [{metric, variants}]` of newer request versions (the current API's
 * metric_variants): events of those metrics only; `variants` narrows a metric to some of its
 * variants, none (or an empty list) means all of them. As on the reference server, an empty or
 * absent list asks for everything, and a metric named twice keeps its last entry.
 */
export interface MetricVariants {
  metric: string;
  variants?: string[] | null;
}

/** The request property. Each name is bounded like every name asked for (props.name). */
export const metricsProp = {
  type: ['array', 'null'],
  items: {
    type: 'object',
    required: ['metric'],
    properties: { metric: props.name, variants: { type: ['array', 'null'], items: props.name } },
  },
} as const satisfies JsonSchema;

/** A normalised filter: `variants[i]` are the variants asked for of `metrics[i]` (empty: all). */
export interface MetricFilter {
  readonly metrics: readonly string[];
  readonly variants: readonly (readonly string[])[];
}

/**
 * Bytes one array parameter may take as ClickHouse reads it: below http_max_field_value_size
 * (128 KiB by default), beyond which the statement would fail as a 500.
 */
export const FILTER_PARAM_BUDGET = 120_000;

/** What a string costs in a parameter at most: every byte escaped, plus quotes and a comma. */
const paramCost = (s: string): number => 2 * Buffer.byteLength(s, 'utf8') + 3;

/** The filter of `entries` (undefined: no filter); 400/12 when its names exceed what a parameter can carry. */
export function metricFilter(entries: readonly MetricVariants[] | null | undefined): MetricFilter | undefined {
  if (!entries || entries.length === 0) return undefined;
  const byMetric = new Map<string, string[]>();
  for (const e of entries) byMetric.set(e.metric, [...new Set(e.variants ?? [])]);
  const metrics = [...byMetric.keys()];
  const variants = [...byMetric.values()];
  const metricBytes = metrics.reduce((n, m) => n + paramCost(m), 2);
  const variantBytes = variants.reduce((n, vs) => vs.reduce((k, v) => k + paramCost(v), n + 3), 2);
  if (metricBytes > FILTER_PARAM_BUDGET || variantBytes > FILTER_PARAM_BUDGET) {
    throw validation(`metrics: the metric and variant names asked for are too long together (at most ${FILTER_PARAM_BUDGET} bytes of each)`);
  }
  return { metrics, variants };
}

/**
 * `AND <condition>` on a table with `metric` and `variant` columns, with its parameters; nothing
 * without a filter. The `metric IN` part lets ClickHouse skip by the sort key.
 */
export function metricCondition(filter: MetricFilter | undefined): { sql: string; params: Record<string, unknown> } {
  if (!filter) return { sql: '', params: {} };
  return {
    sql: `AND metric IN {filter_metrics:Array(String)}
      AND arrayExists((m, vs) -> m = metric AND (empty(vs) OR has(vs, variant)), {filter_metrics:Array(String)}, {filter_variants:Array(Array(String))})`,
    params: { filter_metrics: filter.metrics, filter_variants: filter.variants },
  };
}

/**
 * Whether log lines pass the filter. Stored log lines carry no metric or variant (the reference
 * stores `""` for both when none is sent, which is all the logs table can hold), so they pass
 * only a filter asking for the metric `""` (with all its variants, or the variant `""`).
 */
export function logsPass(filter: MetricFilter | undefined): boolean {
  if (!filter) return true;
  const i = filter.metrics.indexOf('');
  if (i < 0) return false;
  const variants = filter.variants[i] ?? [];
  return variants.length === 0 || variants.includes('');
}

/** The filter as one cursor-scope parameter: a cursor is valid only for the filter it was issued for. */
export function filterKey(filter: MetricFilter | undefined): string {
  return filter ? JSON.stringify([filter.metrics, filter.variants]) : '';
}
