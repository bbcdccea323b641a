import type { ConsumedMessage, PartitionOffset } from '@trackstream/kafka';
import type { TableName } from '@trackstream/clickhouse';

export interface BatchLimits {
  maxRows: number;
  maxBytes: number;
  maxAgeMs: number;
}

export interface TableRows {
  /** TSV lines, in pieces (one per message). */
  chunks: Buffer[];
  /** Lines in each piece. */
  counts: number[];
  /** The message of each piece. */
  sources: ConsumedMessage[];
  count: number;
}

/** Rows of every table that cover a contiguous run of Kafka messages, ready for insert. */
export interface Batch {
  /** Per table, TSV lines (one piece per message) and how many they are. */
  rows: Map<TableName, TableRows>;
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

  /** `data`: `count` TSV lines of the message `source`. */
  add(table: TableName, data: Buffer, count: number, source: ConsumedMessage): void {
    if (this.current.rowCount === 0 && this.current.offsets.length === 0) this.firstAddAt = Date.now();
    let rows = this.current.rows.get(table);
    if (!rows) {
      rows = { chunks: [], counts: [], sources: [], count: 0 };
      this.current.rows.set(table, rows);
    }
    rows.chunks.push(data);
    rows.counts.push(count);
    rows.sources.push(source);
    rows.count += count;
    this.current.rowCount += count;
    this.current.bytes += data.length;
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
