import { EVENT_TABLES, renderForCluster, SCALAR_DERIVED_TABLES, toCHDateTime64, tsvLine, tsvString, type ClickHouseClient, type EventTable } from '@trackstream/clickhouse';
import type { Logger } from '@trackstream/runtime';
import type { WriterMetrics } from './metrics';
import type { Sink } from './sink';

export interface DeleteRequest {
  tenant: string;
  task: string;
  requestId: string;
  /** events.clear_task_log: only log lines older than this (epoch ms). */
  logsBefore?: number;
}

/**
 * Carries out events.delete_for_task when its marker comes out of the task's partition: every
 * event of the task that was in Kafka before the marker is stored by then (the consumer flushed),
 * so deleting now removes exactly what was acknowledged before the request, and nothing after.
 * The count and the request id go to `task_deletions`, where the caller waits for them.
 */
export class Deleter {
  constructor(
    private readonly client: ClickHouseClient,
    private readonly database: string,
    private readonly sink: Sink,
    private readonly metrics: WriterMetrics,
    private readonly logger: Logger,
    /** The ClickHouse cluster the schema was made on (CLICKHOUSE_CLUSTER), if any. */
    private readonly cluster?: string,
  ) {}

  async execute(req: DeleteRequest, guard: { isActive: () => boolean; whileWaiting: () => Promise<void> }): Promise<void> {
    const params = { tenant: req.tenant, task: req.task, before: req.logsBefore ?? 0 };
    const clearLog = req.logsBefore !== undefined;
    const where = `tenant = {tenant:String} AND task = {task:String}${clearLog ? ' AND toUnixTimestamp64Milli(timestamp) < {before:Int64}' : ''}`;
    const tables: readonly EventTable[] = clearLog ? ['logs'] : EVENT_TABLES;
    const counts = await Promise.all(
      tables.map(async (table) => {
        const rs = await this.client.query({
          query: `SELECT count() AS n FROM ${this.database}.${table} FINAL WHERE ${where}`,
          query_params: params,
          format: 'JSONEachRow',
        });
        const [row] = await rs.json<{ n: string }>();
        return Number(row?.n ?? 0);
      }),
    );
    // The scalar buckets go with the points they aggregate (after them: a crash in between is
    // replayed, and a bucket without points is never read, as a chart starts from the points' range).
    for (const table of clearLog ? tables : [...tables, ...SCALAR_DERIVED_TABLES]) {
      // Lightweight DELETE: rows vanish from reads at once, parts are rewritten by merges.
      if (this.cluster) await this.client.command({ query: deleteOnCluster(this.database, table, req, this.cluster) });
      else await this.client.command({ query: `DELETE FROM ${this.database}.${table} WHERE ${where}`, query_params: params });
    }
    const deleted = counts.reduce((a, b) => a + b, 0);
    await this.sink.insert(
      'task_deletions',
      [Buffer.from(tsvLine([tsvString(req.tenant), tsvString(req.task), tsvString(req.requestId), String(deleted), toCHDateTime64(Date.now())]), 'utf8')],
      1,
      guard,
    );
    this.metrics.deletions.inc();
    this.logger.info({ requestId: req.requestId, deleted, logsBefore: req.logsBefore }, clearLog ? 'task log cleared' : 'task events deleted');
  }
}

/** A ClickHouse string literal. */
function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * On a cluster the event tables are Distributed tables, which refuse DELETE: the statement goes
 * to each server's local table, ON CLUSTER. Distributed DDL travels as text to every server, so
 * the values are literals rather than query parameters.
 */
export function deleteOnCluster(database: string, table: string, req: { tenant: string; task: string; logsBefore?: number }, cluster: string): string {
  const sharded = { sharded: new Set([...EVENT_TABLES, ...SCALAR_DERIVED_TABLES].map((t) => `${database}.${t}`)) };
  const before = req.logsBefore === undefined ? '' : ` AND toUnixTimestamp64Milli(timestamp) < ${Math.trunc(req.logsBefore)}`;
  const [statement] = renderForCluster(`DELETE FROM ${database}.${table} WHERE tenant = ${sqlString(req.tenant)} AND task = ${sqlString(req.task)}${before}`, { cluster }, sharded);
  return statement as string;
}
