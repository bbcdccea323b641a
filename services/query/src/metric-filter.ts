import { validation, type JsonSchema } from '@trackstream/api';
import { props } from './requests';

/** One entry of a request's `metrics: [{metric, variants}]` (null variants: all of them). */
export interface MetricVariants {
  metric: string;
  variants?: readonly string[] | null;
}

/** The request property `metrics` (and `metric` of scalar_metrics_iter_raw): names bounded as every name we bind. */
export const metricVariantsSchema = {
  type: 'object',
  required: ['metric'],
  properties: { metric: props.name, variants: { type: ['array', 'null'], items: props.name } },
} as const satisfies JsonSchema;

/** null, like an empty list, filters nothing. */
export const metricsSchema = { type: ['array', 'null'], items: metricVariantsSchema } as const satisfies JsonSchema;

/** A condition on `metric`/`variant` for a WHERE clause, and the parameters it binds. */
export interface MetricFilter {
  /** `AND (...)`, or '' when nothing is filtered. */
  readonly sql: string;
  readonly params: Readonly<Record<string, string[]>>;
  /** What the filter selects, canonical (for a cursor's scope): '' when nothing is filtered. */
  readonly key: string;
  /**
   * Whether log lines pass. They carry no metric or variant (the reference stores `""` for both
   * when none is sent, which is all the logs table holds), so only a filter asking for the metric
   * `""` (whole, or its variant `""`) lets them through.
   */
  readonly logs: boolean;
}

export const NO_METRIC_FILTER: MetricFilter = { sql: '', params: {}, key: '', logs: true };

/**
 * What ClickHouse takes as one query parameter (http_max_field_value_size, 128 KiB by default),
 * less room for the array's own syntax. An escaped name is at most twice its UTF-8 bytes.
 */
const MAX_PARAM_BYTES = 120 * 1024;

/**
 * The reference's metric filter: an entry with variants selects those variants of its metric, an
 * entry without (or with none) the whole metric; a metric named twice keeps its last entry. No
 * entries (or no `metrics`) filter nothing. Parameters are named `{prefix}_m` (whole metrics),
 * `{prefix}_vm` / `{prefix}_vv` (metric and variant of each chosen variant). A filter too long to
 * bind is 400/12.
 */
export function metricFilter(entries: readonly MetricVariants[] | null | undefined, prefix = 'mf'): MetricFilter {
  if (!entries || entries.length === 0) return NO_METRIC_FILTER;
  const byMetric = new Map<string, readonly string[]>();
  for (const e of entries) byMetric.set(e.metric, [...new Set(e.variants ?? [])]);
  const whole: string[] = [];
  const pairMetrics: string[] = [];
  const pairVariants: string[] = [];
  for (const [metric, variants] of [...byMetric].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (variants.length === 0) {
      whole.push(metric);
      continue;
    }
    for (const v of [...variants].sort()) {
      pairMetrics.push(metric);
      pairVariants.push(v);
    }
  }
  const params: Record<string, string[]> = {};
  const terms: string[] = [];
  if (whole.length > 0) {
    params[`${prefix}_m`] = whole;
    terms.push(`metric IN {${prefix}_m:Array(String)}`);
  }
  if (pairMetrics.length > 0) {
    params[`${prefix}_vm`] = pairMetrics;
    params[`${prefix}_vv`] = pairVariants;
    terms.push(`(metric, variant) IN arrayZip({${prefix}_vm:Array(String)}, {${prefix}_vv:Array(String)})`);
  }
  for (const values of Object.values(params)) {
    const bytes = values.reduce((sum, v) => sum + 2 * Buffer.byteLength(v) + 3, 0);
    if (bytes > MAX_PARAM_BYTES) throw validation('metrics: too many or too long metric and variant names');
  }
  const logVariants = byMetric.get('');
  const logs = logVariants !== undefined && (logVariants.length === 0 || logVariants.includes(''));
  return { sql: `AND (${terms.join(' OR ')})`, params, key: JSON.stringify([whole, pairMetrics, pairVariants]), logs };
}
