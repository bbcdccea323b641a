import type { PartitionOffset } from '@trackstream/kafka';
import type { TableName } from '@trackstream/clickhouse';

export interface BatchLimits {
  maxRows: number;
  maxBytes: number;
  maxAgeMs: number;
}

/** Rows of every table that cover a contiguous run of Kafka messages, ready for insert. */
export interface Batch {
  /** TSV lines per table. */
  rows: Map<TableName, string[]>;
  rowCount: number;
  bytes: number;
  /** Per partition, the offset to commit once every row above is inserted. */
  offsets: PartitionOffset[];
  /** Gateway receipt times (ms) of the messages, for the freshness histogram. */
  receivedAt: number[];
}

/**
 * Buffers rows per table until N rows, M bytes or T ms, whichever comes first. `take` hands
 * the whole buffer over and starts a new one, so a flush never mixes with rows added after it.
 */
export class Batcher {
  private current: Batch = Batcher.empty();
  private firstAddAt = 0;

  constructor(private readonly limits: BatchLimits) {}

  private static empty(): Batch {
    return { rows: new Map(), rowCount: 0, bytes: 0, offsets: [], receivedAt: [] };
  }

  add(table: TableName, line: string): void {
    if (this.current.rowCount === 0 && this.current.offsets.length === 0) this.firstAddAt = Date.now();
    let list = this.current.rows.get(table);
    if (!list) {
      list = [];
      this.current.rows.set(table, list);
    }
    list.push(line);
    this.current.rowCount += 1;
    this.current.bytes += line.length;
  }

  /** Records that every message of `partition` before `nextOffset` is in the buffer. */
  cover(partition: number, nextOffset: string, receivedAt?: number): void {
    if (this.current.rowCount === 0 && this.current.offsets.length === 0) this.firstAddAt = Date.now();
    const existing = this.current.offsets.find((o) => o.partition === partition);
    if (existing) existing.offset = nextOffset;
    else this.current.offsets.push({ partition, offset: nextOffset });
    if (receivedAt !== undefined) this.current.receivedAt.push(receivedAt);
  }

  get size(): { rows: number; bytes: number } {
    return { rows: this.current.rowCount, bytes: this.current.bytes };
  }

  get isEmpty(): boolean {
    return this.current.rowCount === 0 && this.current.offsets.length === 0;
  }

  /** Full by rows or bytes (flush now), or old enough (flush on the timer). */
  due(now: number = Date.now()): boolean {
    if (this.isEmpty) return false;
    return (
      this.current.rowCount >= this.limits.maxRows ||
      this.current.bytes >= this.limits.maxBytes ||
      now - this.firstAddAt >= this.limits.maxAgeMs
    );
  }

  take(): Batch {
    const b = this.current;
    this.current = Batcher.empty();
    return b;
  }
}
