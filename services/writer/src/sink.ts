import { setTimeout as sleep } from 'node:timers/promises';
import { ClickHouseError, type ClickHouseClient, type TableName } from '@trackstream/clickhouse';
import type { Logger } from '@trackstream/runtime';
import type { WriterMetrics } from './metrics';

export interface RetryPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
}

/**
 * Inserts rows into ClickHouse, retrying until it succeeds or the writer stops: the rows stand
 * for Kafka offsets that are not committed yet, so giving up would only re-deliver them later.
 * `whileWaiting` runs between attempts (the consumer's heartbeat).
 */
export class Sink {
  constructor(
    private readonly client: ClickHouseClient,
    private readonly database: string,
    private readonly metrics: WriterMetrics,
    private readonly logger: Logger,
    private readonly retry: RetryPolicy,
  ) {}

  async insert(table: TableName, rows: readonly object[], opts: { isActive: () => boolean; whileWaiting: () => Promise<void> }): Promise<void> {
    let delay = this.retry.initialDelayMs;
    for (let attempt = 1; ; attempt++) {
      const end = this.metrics.insertDuration.startTimer({ table });
      try {
        await this.client.insert({ table: `${this.database}.${table}`, values: rows as object[], format: 'JSONEachRow' });
        end();
        this.metrics.rowsWritten.inc({ table }, rows.length);
        return;
      } catch (e) {
        const code = e instanceof ClickHouseError ? e.code : 'unreachable';
        this.metrics.insertFailures.inc({ table, code });
        if (!opts.isActive()) throw new Error(`insert into ${table} abandoned: writer stopping`, { cause: e });
        this.logger.error({ err: e, table, rows: rows.length, attempt, retryInMs: delay }, 'insert failed; retrying');
        await opts.whileWaiting().catch(() => undefined);
        await sleep(delay);
        delay = Math.min(delay * 2, this.retry.maxDelayMs);
      }
    }
  }
}
