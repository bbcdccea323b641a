import { Readable } from 'node:stream';
import { classifyClickHouseError, ClickHouseError, isDiskFull, TSV_COLUMNS, type ClickHouseClient, type TableName } from '@trackstream/clickhouse';
import { retry, type Logger } from '@trackstream/runtime';
import type { WriterMetrics } from './metrics';

/** An insert ClickHouse refused for its rows' content. */
export class RowsRejected extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface InsertGuard {
  isActive: () => boolean;
  whileWaiting: () => Promise<void>;
  /** Aborted when the writer gives up (isActive turned false). */
  stopped?: AbortSignal;
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
  private full = false;

  constructor(
    private readonly client: ClickHouseClient,
    private readonly database: string,
    private readonly metrics: WriterMetrics,
    private readonly logger: Logger,
    private readonly backoff: RetryPolicy,
  ) {}

  /** ClickHouse refused the latest insert attempt for lack of disk space. */
  get diskFull(): boolean {
    return this.full;
  }

  private setDiskFull(full: boolean): void {
    if (full !== this.full) this.logger[full ? 'error' : 'info']({ diskFull: full }, full ? 'ClickHouse is out of disk space: inserts retried, nothing committed' : 'ClickHouse takes inserts again');
    this.full = full;
    this.metrics.diskFull.set(full ? 1 : 0);
  }

  /** Inserts `chunks` of TSV lines (in TSV_COLUMNS order), `count` lines in all, as one TabSeparated insert. */
  async insert(table: TableName, chunks: readonly Buffer[], count: number, opts: InsertGuard): Promise<void> {
    // One body, encoded once for every attempt: a batch is bounded (WRITER_BATCH_BYTES), and one
    // piece costs ClickHouse's HTTP reader less than many.
    const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    const insertOnce = async (): Promise<void> => {
      const end = this.metrics.insertDuration.startTimer({ table });
      try {
        await this.client.insert({
          table: `${this.database}.${table}`,
          // A fresh stream per attempt: a failed one may have been read.
          values: Readable.from([body], { objectMode: false }),
          format: 'TabSeparated',
          columns: TSV_COLUMNS[table] as [string, ...string[]],
        });
      } catch (e) {
        const code = e instanceof ClickHouseError ? e.code : 'unreachable';
        this.metrics.insertFailures.inc({ table, code });
        if (isDiskFull(e)) this.setDiskFull(true);
        // Sending rows ClickHouse can't read again can't help; every other failure is retried.
        if (classifyClickHouseError(e) === 'bad-rows') throw new RowsRejected(code, (e as Error).message.slice(0, 500));
        throw e;
      }
      end();
      this.setDiskFull(false);
      this.metrics.rowsWritten.inc({ table }, count);
    };
    await retry(insertOnce, {
      ...this.backoff,
      retriable: (e) => !(e instanceof RowsRejected),
      onRetry: async ({ attempt, error, delayMs }) => {
        if (!opts.isActive()) throw new Error(`insert into ${table} abandoned: writer stopping`, { cause: error });
        this.logger.error({ err: error, table, rows: count, attempt, retryInMs: delayMs }, 'insert failed; retrying');
        await opts.whileWaiting().catch(() => undefined);
      },
    });
  }
}
