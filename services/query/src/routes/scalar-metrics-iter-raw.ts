import { chainChunks, objectEndpoint, streamedEnvelope, type JsonSchema, type RequestContext } from '@trackstream/api';
import type { RouteDeps } from '../deps';
import { byteOrder } from '../events';
import { histogramKey, type HistogramKey, type ScalarKey } from '../histogram';
import { chunkJoin, ColumnsWriter, valueToken } from '../json-columns';
import { metricFilter, metricVariantsSchema, type MetricVariants } from '../metric-filter';
import { checkTask, props, requestSchema, readOwner } from '../requests';

interface Body {
  task: string;
  metric: MetricVariants;
  key: ScalarKey;
  /** 0 or absent: the scroll's size (first page: 10,000). */
  batch_size?: number;
  count_total: boolean;
  scroll_id?: string | null;
}

/** The last point returned: key value, iteration, variant. */
type Position = [k: string, iter: string, variant: string];

interface State {
  at: Position | null;
  /** Counted by the first page when it asked (count_total), kept for the scroll; null otherwise. */
  total: number | null;
  batch: number;
}

export const DEFAULT_RAW_BATCH = 10_000;
/** The reference's cap (services.events.events_retrieval.max_raw_scalars_size): larger sizes are cut to it. */
export const MAX_RAW_BATCH = 200_000;

const KEY_SQL = { iter: 'iter', timestamp: 'toUnixTimestamp64Milli(timestamp)' } as const;

interface Row {
  variant: string;
  col: number;
  s: string;
  /** The variant's first chunk carries its point count and its last point in the page. */
  first: number;
  n: string;
  last_k: string;
  last_iter: string;
}

const rawWhere = (filterSql: string): string => `tenant = {tenant:String} AND task = {task:String} ${filterSql}`;

/**
 * One page as chunk rows: the first {limit:UInt32} points of the task's filtered points in
 * (key, iteration, variant) order, after the position ({ak:Int64}, {ai:Int64}, {av:String}) when
 * `resume`, grouped per variant: its y tokens then its key tokens, in chunks. Exported for the
 * query benchmark, which runs it straight in ClickHouse.
 */
export function rawPageStatement(key: HistogramKey, filterSql: string, resume: boolean): string {
  const chunks = chunkJoin('cols');
  // The first term lets the primary key skip what lies before the position.
  const after = resume ? 'AND k >= {ak:Int64} AND (k, iter, variant) > ({ak:Int64}, {ai:Int64}, {av:String})' : '';
  return `SELECT variant, ${chunks.col} AS col, ${chunks.s} AS s, column_number = 1 AND part = 0 AS first, n, last_k, last_iter
    FROM (
      SELECT variant, count() AS n, arraySort(groupArray((k, iter, value))) AS pts,
             [arrayMap(p -> ${valueToken('p.3')}, pts), arrayMap(p -> toString(p.1), pts)] AS cols,
             pts[-1].1 AS last_k, pts[-1].2 AS last_iter
      FROM (
        SELECT variant, iter, ${KEY_SQL[key]} AS k, value FROM scalars FINAL
        WHERE ${rawWhere(filterSql)} ${after}
        ORDER BY k, iter, variant LIMIT {limit:UInt32}
      )
      GROUP BY variant
    )
    ${chunks.clauses}
    ORDER BY variant, col, part`;
}

/** Later in the page's order (key, iteration, variant). */
function after(a: Position, b: Position | null): boolean {
  if (b === null) return true;
  const [ka, kb, ia, ib] = [BigInt(a[0]), BigInt(b[0]), BigInt(a[1]), BigInt(b[1])];
  return ka !== kb ? ka > kb : ia !== ib ? ia > ib : byteOrder(a[2], b[2]) > 0;
}

/** The reference's batch_size has a default of 10,000; here an absent one means "the scroll's". */
function rawSchema(version: string): JsonSchema {
  const schema = requestSchema('scalar_metrics_iter_raw', version, {
    metric: metricVariantsSchema,
    key: props.keyCurrent,
    batch_size: { type: 'integer', minimum: 0 },
    scroll_id: props.scrollId,
  });
  const properties = { ...(schema['properties'] as Record<string, JsonSchema>) };
  const { default: _default, ...batchSize } = properties['batch_size'] as Record<string, unknown>;
  properties['batch_size'] = batchSize;
  return { ...schema, properties };
}

/**
 * events.scalar_metrics_iter_raw (2.16 on): every point of one metric's variants (all of them
 * when `metric.variants` is empty), exact under the dedup rule, in pages ordered by the key
 * (then iteration, then variant): `{variants: {<variant>: {y: [...], <key>: [...]}}, returned,
 * total, scroll_id}`. The iteration -2147483648 (the SDK's single values) is a point here, as in
 * the reference. For key iso_time the x values are epoch milliseconds under "iso_time", as the
 * reference returns them. The answer is streamed: ClickHouse renders the tokens, the service
 * strings them together, so a 200,000-point page is never held as objects.
 */
export function scalarMetricsIterRawEndpoint(deps: RouteDeps) {
  async function answer(ctx: RequestContext, body: Body) {
    const task = checkTask(body.task, readOwner(ctx, body));
    const filter = metricFilter([body.metric]);
    const scope = { endpoint: ctx.endpoint, tenant: ctx.tenant, task, params: { metric: filter.key, key: body.key } };
    const state = await deps.cursors.decode<State>(body.scroll_id, scope);
    const batch = Math.min(body.batch_size || state?.batch || DEFAULT_RAW_BATCH, MAX_RAW_BATCH);
    const params: Record<string, unknown> = { task, limit: batch, ...filter.params };

    let total: number | null = state ? state.total : null;
    if (!state && body.count_total) {
      const counted = await deps.db.rows<{ n: string }>(ctx, `SELECT count() AS n FROM scalars FINAL WHERE ${rawWhere(filter.sql)}`, params);
      total = Number(counted[0]?.n ?? 0);
    }

    const at = state?.at ?? null;
    if (at) Object.assign(params, { ak: at[0], ai: at[1], av: at[2] });
    const writer = new ColumnsWriter({ columns: ['y', body.key] });
    let returned = 0;
    let last: Position | null = at;
    const blocks = await deps.db.stream<Row, string>(
      ctx,
      rawPageStatement(histogramKey(body.key), filter.sql, at !== null),
      params,
      (rows) => {
        let out = '';
        for (const r of rows) {
          if (Number(r.first) === 1) {
            returned += Number(r.n);
            const end: Position = [String(r.last_k), String(r.last_iter), r.variant];
            if (after(end, last)) last = end;
          }
          out += writer.write({ path: [r.variant], col: Number(r.col), s: r.s });
        }
        return out;
      },
    );
    const tail = async (): Promise<string> => {
      const next: State = { at: last, total, batch };
      const scrollId = await deps.cursors.encode(scope, next);
      return `${writer.end()}},"returned":${returned},"total":${total === null ? 'null' : total},"scroll_id":${JSON.stringify(scrollId)}}`;
    };
    return streamedEnvelope(ctx, chainChunks('{"variants":{', blocks, tail));
  }
  return objectEndpoint<Body>({
    name: 'events.scalar_metrics_iter_raw',
    versions: [
      { version: '2.16', schema: rawSchema('2.16'), handle: answer },
      { version: '2.22', schema: rawSchema('2.22'), handle: answer },
    ],
  });
}
