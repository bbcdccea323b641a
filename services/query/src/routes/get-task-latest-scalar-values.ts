import { objectEndpoint, type RequestContext } from '@trackstream/api';
import { SCALAR_BUCKETS } from '@trackstream/clickhouse';
import type { RouteDeps } from '../deps';
import { byteOrder, float } from '../events';
import { checkTask, requestSchema } from '../requests';

const LAST = 100;

/** A curve's size and iteration range from the `curve_stats` projection (no point read); n is an upper bound. */
interface CurveStats {
  metric: string;
  variant: string;
  n: string;
  first_iter: string;
  last_iter: string;
  last_ms: string;
}

interface Latest {
  metric: string;
  variant: string;
  last_value: number | string;
  last_100_value: number | string;
  n: string;
}

/**
 * events.get_task_latest_scalar_values: per metric and variant (sorted), `last_value` = the value
 * at the highest iteration and `last_100_value` = the mean of the values at the 100 highest
 * iterations (every value counts: negative, zero, NaN, which makes the mean NaN). `last_iter`
 * and `last_timestamp` are the highest iteration and the newest event timestamp (epoch ms) the
 * task's scalars were reported with; 0 when it has none.
 *
 * Only each curve's tail is read. Where its 100 highest iterations start comes from the widest
 * scalar buckets: each bucket's mask holds the iterations reported in it, so counting them
 * from the top gives the exact first iteration of the tail (re-reports counted once). A curve
 * without buckets yet (its rows are being inserted) starts from an estimate made from the
 * projection's range and count, and is read whole if that leaves fewer than 100 points.
 */
export function getTaskLatestScalarValuesEndpoint(deps: RouteDeps) {
  return objectEndpoint<{ task: string }>({
    name: 'events.get_task_latest_scalar_values',
    versions: [
      {
        version: '2.1',
        schema: requestSchema('get_task_latest_scalar_values', '2.1'),
        async handle(ctx, body) {
          const task = checkTask(body.task);
          const [stats, starts] = await Promise.all([
            deps.db.rows<CurveStats>(
              ctx,
              `SELECT metric, variant, count() AS n, min(iter) AS first_iter, max(iter) AS last_iter, toUnixTimestamp64Milli(max(timestamp)) AS last_ms
               FROM scalars WHERE tenant = {tenant:String} AND task = {task:String} GROUP BY metric, variant`,
              { task },
            ),
            deps.db.rows<{ metric: string; variant: string; start: string }>(ctx, TAIL_STARTS_SQL, { task }),
          ]);
          if (stats.length === 0) return { metrics: [], last_iter: 0, last_timestamp: 0 };

          const exactStart = new Map(starts.map((s) => [curveId(s), BigInt(s.start)]));
          const from = new Map(stats.map((s) => [curveId(s), exactStart.get(curveId(s)) ?? tailStart(s)]));
          const latest = new Map<string, Latest>();
          for (const r of await readTails(deps, ctx, task, stats, from, true)) latest.set(curveId(r), r);
          // Fewer than 100 points from where the estimate started, and the curve goes on below it: read it whole.
          const short = stats.filter((s) => {
            const got = latest.get(curveId(s));
            return (got === undefined || Number(got.n) < LAST) && (from.get(curveId(s)) as bigint) > BigInt(s.first_iter);
          });
          if (short.length > 0) {
            const whole = new Map(short.map((s) => [curveId(s), BigInt(s.first_iter)]));
            for (const r of await readTails(deps, ctx, task, short, whole, false)) latest.set(curveId(r), r);
          }

          const metrics: Array<{ name: string; variants: Array<{ name: string; last_value: number; last_100_value: number }> }> = [];
          const sorted = [...latest.values()].sort((a, b) => byteOrder(a.metric, b.metric) || byteOrder(a.variant, b.variant));
          for (const r of sorted) {
            const variant = { name: r.variant, last_value: float(r.last_value), last_100_value: float(r.last_100_value) };
            const prev = metrics.at(-1);
            if (prev?.name === r.metric) prev.variants.push(variant);
            else metrics.push({ name: r.metric, variants: [variant] });
          }
          const lastIter = stats.reduce((m, s) => (BigInt(s.last_iter) > m ? BigInt(s.last_iter) : m), BigInt(stats[0]!.last_iter));
          const lastMs = stats.reduce((m, s) => Math.max(m, Number(s.last_ms)), 0);
          return { metrics, last_iter: Number(lastIter), last_timestamp: lastMs };
        },
      },
    ],
  });
}

const TAIL_WIDTH = 256;

/**
 * Per curve, the first of its 100 highest iterations (its lowest, if it has fewer): buckets from
 * the top until their masks hold 100 iterations, then the right bit of the last one.
 */
const TAIL_STARTS_SQL = `
  SELECT metric, variant, toString(edge.1 * ${TAIL_WIDTH} + bit) AS start
  FROM (
    SELECT metric, variant, arrayReverseSort(groupArray((bucket, mask))) AS t,
           arrayCumSum(arrayMap(e -> bitCount(e.2), t)) AS cum,
           arrayFirstIndex(c -> c >= ${LAST}, cum) AS k0, if(k0 = 0, length(t), k0) AS k,
           t[k] AS edge, arrayReverseSort(bitPositionsToArray(edge.2)) AS bits,
           bits[toUInt64(least(length(bits), ${LAST} - if(k = 1, 0, cum[k - 1])))] AS bit
    FROM ${SCALAR_BUCKETS} FINAL WHERE tenant = {tenant:String} AND task = {task:String} AND width = ${TAIL_WIDTH}
    GROUP BY metric, variant
  )`;

/**
 * Where a curve's 100 highest iterations likely start: its whole range when it may hold 100 points
 * or fewer, else twice the span its average spacing gives 100 points.
 */
function tailStart(s: CurveStats): bigint {
  const first = BigInt(s.first_iter);
  const last = BigInt(s.last_iter);
  const n = BigInt(s.n);
  if (n <= BigInt(LAST)) return first;
  const span = ((last - first + 1n) * BigInt(2 * LAST)) / n + 1n;
  return last - span > first ? last - span : first;
}

/** Statements a tail read is split into, run side by side. */
const TAIL_STATEMENTS = 4;

/**
 * The latest values of `curves`, reading each from its start iteration on. Curves sharing a start
 * are one group, read by one branch that computes their figures; a statement is a UNION ALL of
 * whole groups, and up to `TAIL_STATEMENTS` of them run side by side. Each branch lists its
 * curves, except the largest group's when `curves` are all the task's: a curve list costs a set
 * lookup per row read, and the rows that branch reads of other groups' curves (an upward-closed
 * range of iterations) only make rows of theirs that are dropped here. Rows are deduplicated by
 * identity, the newest version winning, instead of FINAL, which would merge whole granules.
 */
async function readTails(
  deps: RouteDeps,
  ctx: RequestContext,
  task: string,
  curves: readonly CurveStats[],
  from: ReadonlyMap<string, bigint>,
  everyCurve: boolean,
): Promise<Latest[]> {
  const groups = new Map<bigint, CurveStats[]>();
  for (const c of curves) {
    const start = from.get(curveId(c)) as bigint;
    const group = groups.get(start);
    if (group) group.push(c);
    else groups.set(start, [c]);
  }
  const ordered = [...groups.entries()].sort((a, b) => b[1].length - a[1].length);
  const branchOf = new Map<string, number>();
  const statements: Array<{ branches: string[]; params: Record<string, unknown> }> = Array.from({ length: Math.min(TAIL_STATEMENTS, ordered.length) }, () => ({
    branches: [],
    params: { task },
  }));
  ordered.forEach(([start, members], i) => {
    for (const m of members) branchOf.set(curveId(m), i);
    const { branches, params } = statements[i % statements.length] as (typeof statements)[number];
    params[`s${i}`] = start.toString();
    let only = '';
    if (i > 0 || !everyCurve) {
      params[`m${i}`] = members.map((m) => m.metric);
      params[`v${i}`] = members.map((m) => m.variant);
      only = `AND (metric, variant) IN arrayZip({m${i}:Array(String)}, {v${i}:Array(String)})`;
    }
    branches.push(`
      SELECT ${i} AS branch, metric, variant, argMax(value, iter) AS last_value, avg(value) AS last_100_value, count() AS n
      FROM (
        SELECT metric, variant, iter, argMax(value, version) AS value FROM scalars
        WHERE tenant = {tenant:String} AND task = {task:String} AND iter >= {s${i}:Int64} ${only}
        GROUP BY metric, variant, iter
        ORDER BY metric, variant, iter DESC LIMIT ${LAST} BY metric, variant
      )
      GROUP BY metric, variant`);
  });
  const rows = (await Promise.all(statements.map((st) => deps.db.rows<Latest & { branch: number }>(ctx, st.branches.join(' UNION ALL '), st.params)))).flat();
  const own = rows.filter((r) => branchOf.get(curveId(r)) === Number(r.branch));
  const seen = new Set<string>();
  for (const r of own) {
    // Two rows of one curve would leave its answer to the order the statements finish in.
    if (seen.has(curveId(r))) throw new Error(`latest values: curve ${curveId(r)} read by two branches`);
    seen.add(curveId(r));
  }
  return own;
}

function curveId(c: { metric: string; variant: string }): string {
  return JSON.stringify([c.metric, c.variant]);
}
