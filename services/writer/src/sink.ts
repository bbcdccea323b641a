import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClickHouseError, TSV_COLUMNS, type ClickHouseClient, type TableName } from '@trackstream/clickhouse';
import type { Logger } from '@trackstream/runtime';
import type { WriterMetrics } from './metrics';

const CHUNK_CHARS = 1 << 20;

function* chunks(lines: readonly string[]): Generator<string> {
  let parts: string[] = [];
  let size = 0;
  for (const line of lines) {
    parts.push(line);
    size += line.length;
    if (size >= CHUNK_CHARS) {
      yield parts.join('');
      parts = [];
      size = 0;
    }
  }
  if (parts.length > 0) yield parts.join('');
}

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

  /** Inserts TSV `lines` (in TSV_COLUMNS order) as one TabSeparated insert. */
  async insert(table: TableName, lines: readonly string[], opts: { isActive: () => boolean; whileWaiting: () => Promise<void> }): Promise<void> {
    let delay = this.retry.initialDelayMs;
    for (let attempt = 1; ; attempt++) {
      const end = this.metrics.insertDuration.startTimer({ table });
      try {
        await this.client.insert({
          table: `${this.database}.${table}`,
          // A fresh stream per attempt (a failed one may have been read), in chunks of about
          // 1 MiB: neither a copy of the whole batch nor a socket write per line.
          values: Readable.from(chunks(lines), { objectMode: false }),
          format: 'TabSeparated',
          columns: TSV_COLUMNS[table] as [string, ...string[]],
        });
        end();
        this.metrics.rowsWritten.inc({ table }, lines.length);
        return;
      } catch (e) {
        const code = e instanceof ClickHouseError ? e.code : 'unreachable';
        this.metrics.insertFailures.inc({ table, code });
        if (!opts.isActive()) throw new Error(`insert into ${table} abandoned: writer stopping`, { cause: e });
        this.logger.error({ err: e, table, rows: lines.length, attempt, retryInMs: delay }, 'insert failed; retrying');
        await opts.whileWaiting().catch(() => undefined);
        await sleep(delay);
        delay = Math.min(delay * 2, this.retry.maxDelayMs);
      }
    }
  }
}
