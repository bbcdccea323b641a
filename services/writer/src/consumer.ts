import type { BatchConsumer, BatchContext, ConsumedMessage } from '@trackstream/kafka';
import { logRetries, retry, type Logger } from '@trackstream/runtime';
import type { TableName } from '@trackstream/clickhouse';
import { Batcher, type Batch, type BatchLimits, type TableRows } from './batcher';
import type { DeadLetter } from './dead-letter';
import type { Deleter } from './deleter';
import type { WriterMetrics } from './metrics';
import { MessageRejected, type DecodedMessage } from './rows';
import { RowsRejected, type InsertGuard, type Sink } from './sink';

export interface ConsumerLoopDeps {
  consumer: BatchConsumer;
  sink: Sink;
  deadLetter: DeadLetter;
  deleter: Deleter;
  decode: (m: ConsumedMessage) => DecodedMessage;
  limits: BatchLimits;
  metrics: WriterMetrics;
  logger: Logger;
}

/** Batches inserting at once: one fills ClickHouse's insert path while the next is sent. */
const INSERTS_IN_FLIGHT = 2;

/**
 * Kafka to ClickHouse: decodes each message into rows, buffers them, and flushes when the
 * batch is full or old. Up to INSERTS_IN_FLIGHT batches insert at once, but offsets are
 * committed in batch order, each only after its own insert and every earlier batch's commit:
 * a commit never covers a row that is not stored. After a failed batch no later one commits.
 */
export class ConsumerLoop {
  private readonly batcher: Batcher;
  /** Settles when the last flush started has committed (or failed). */
  private commitChain: Promise<void> = Promise.resolve();
  /** A flush failed: later batches must not commit past its messages. */
  private broken = false;
  private insertsRunning = 0;
  private readonly insertWaiters: Array<() => void> = [];
  /** Per partition, the high watermark seen at the last fetch: the lag is measured against it. */
  private readonly highWatermarks = new Map<number, bigint>();
  /** Flushes started and not yet committed. */
  private pendingFlushes = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** After stop(), a last flush may retry until this time; then `giveUp` aborts. */
  private stopDeadline = 0;
  private readonly giveUp = new AbortController();
  private heartbeat: () => Promise<void> = async () => undefined;
  private readonly log: Logger;

  constructor(private readonly deps: ConsumerLoopDeps) {
    this.batcher = new Batcher(deps.limits);
    this.log = deps.logger.child({ component: 'consumer-loop' });
  }

  /** False once a flush failed: nothing commits past it until the writer restarts and consumes it again. */
  get healthy(): boolean {
    return !this.broken;
  }

  async start(): Promise<void> {
    this.running = true;
    this.timer = setInterval(() => {
      // Not while inserts are busy: the buffer goes on filling meanwhile.
      if (this.pendingFlushes < INSERTS_IN_FLIGHT && this.batcher.due()) void this.flush().catch((e: unknown) => this.log.error({ err: e }, 'timed flush failed'));
    }, Math.max(20, Math.floor(this.deps.limits.maxAgeMs / 4)));
    await this.deps.consumer.start((messages, ctx) => this.handleBatch(messages, ctx));
  }

  /** Stop fetching, flush what is buffered, commit, close. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopDeadline = Date.now() + 15_000;
    setTimeout(() => this.giveUp.abort(), 15_000).unref();
    if (this.timer) clearInterval(this.timer);
    await this.deps.consumer.stop();
    await this.flush().catch((e: unknown) => this.log.error({ err: e }, 'final flush failed; the messages will be consumed again'));
  }

  private async handleBatch(messages: readonly ConsumedMessage[], ctx: BatchContext): Promise<void> {
    this.heartbeat = ctx.heartbeat;
    this.highWatermarks.set(ctx.partition, BigInt(ctx.highWatermark));
    for (const m of messages) {
      if (!ctx.isActive()) return;
      const next = (BigInt(m.offset) + 1n).toString();
      let decoded: DecodedMessage;
      try {
        decoded = this.deps.decode(m);
      } catch (e) {
        if (!(e instanceof MessageRejected)) throw e;
        this.log.warn({ partition: m.partition, offset: m.offset, reason: e.reason }, 'message dead-lettered');
        await this.deps.deadLetter.send(m, e.reason, e.message);
        this.batcher.cover(m.partition, next);
        continue;
      }
      if (decoded.kind === 'delete') {
        // Everything before the marker in this partition must be stored before it is deleted.
        this.batcher.cover(m.partition, (BigInt(m.offset)).toString());
        await this.flush();
        await this.deps.deleter.execute(decoded, { isActive: ctx.isActive, whileWaiting: ctx.heartbeat });
        this.batcher.cover(m.partition, next);
        await this.flush();
        continue;
      }
      for (const r of decoded.rows) this.batcher.add(r.table, r.data, r.count, m);
      this.batcher.cover(m.partition, next, decoded.receivedAt);
      await this.flushIfDue();
    }
    await this.flushIfDue();
  }

  /**
   * Starts a flush when the buffer is due and goes on decoding while it inserts; waits only when
   * INSERTS_IN_FLIGHT flushes are already pending, which bounds the memory held.
   */
  private async flushIfDue(): Promise<void> {
    if (!this.batcher.due()) return;
    const flushing = this.flush();
    if (this.pendingFlushes > INSERTS_IN_FLIGHT) await flushing;
    else flushing.catch((e: unknown) => this.log.error({ err: e }, 'flush failed; its messages will be consumed again'));
  }

  /**
   * Takes the buffer and inserts it as soon as an insert slot is free; resolves once it is
   * committed. With an empty buffer, resolves once every earlier flush has committed (what a
   * delete marker and stop() wait for).
   */
  private flush(): Promise<void> {
    if (this.batcher.isEmpty) {
      return this.commitChain.then(() => {
        if (this.broken) throw new Error('an earlier flush failed');
      });
    }
    const batch = this.batcher.take();
    this.pendingFlushes++;
    const endFlush = this.deps.metrics.flushDuration.startTimer();
    const inserted = this.insertBatch(batch);
    // Its failure counts once the earlier batches have committed (handled here meanwhile).
    inserted.catch(() => undefined);
    const done = this.commitChain
      .then(() => inserted)
      .then(() => this.commitBatch(batch))
      .then(() => void endFlush())
      .finally(() => this.pendingFlushes--);
    this.commitChain = done.catch(() => {
      this.broken = true;
    });
    return done;
  }

  private async insertBatch(batch: Batch): Promise<void> {
    while (this.insertsRunning >= INSERTS_IN_FLIGHT) await new Promise<void>((resolve) => this.insertWaiters.push(resolve));
    this.insertsRunning++;
    const guard = { isActive: () => this.running || Date.now() < this.stopDeadline, whileWaiting: () => this.heartbeat(), stopped: this.giveUp.signal };
    // Heartbeats keep the group membership while a big insert runs.
    const beat = setInterval(() => void this.heartbeat().catch(() => undefined), 1000);
    try {
      await Promise.all([...batch.rows].map(([table, rows]) => this.insertTable(table, rows, guard)));
    } finally {
      clearInterval(beat);
      this.insertsRunning--;
      this.insertWaiters.shift()?.();
    }
  }

  private async commitBatch(batch: Batch): Promise<void> {
    if (this.broken) throw new Error('an earlier flush failed: not committing past its messages');
    const now = Date.now();
    for (const t of batch.receivedAt) this.deps.metrics.freshness.observe((now - t) / 1000);
    this.deps.metrics.batchRows.observe(batch.rowCount);
    await this.deps.consumer.commit(batch.offsets).catch((e: unknown) => {
      // The rows are stored; an uncommitted range is only consumed again and collapses.
      this.log.warn({ err: e }, 'offset commit failed');
    });
    // Lag = what Kafka holds beyond what is stored, not merely beyond what was fetched.
    for (const o of batch.offsets) {
      const hw = this.highWatermarks.get(o.partition);
      if (hw !== undefined) this.deps.metrics.consumerLag.set({ partition: String(o.partition) }, Number(hw > BigInt(o.offset) ? hw - BigInt(o.offset) : 0n));
    }
  }

  /**
   * One insert per table. Rows ClickHouse can't read (a well-formed message whose fields are
   * not, which only a producer other than the gateway writes) fail the whole insert: then each
   * message's rows go alone, and a message whose rows fail is dead-lettered.
   */
  private async insertTable(table: TableName, rows: TableRows, guard: InsertGuard): Promise<void> {
    try {
      await this.deps.sink.insert(table, rows.chunks, rows.count, guard);
      return;
    } catch (e) {
      if (!(e instanceof RowsRejected)) throw e;
      this.log.warn({ table, code: e.code }, 'ClickHouse refused a batch; inserting message by message');
    }
    for (let i = 0; i < rows.chunks.length; i++) {
      try {
        await this.deps.sink.insert(table, [rows.chunks[i] as Buffer], rows.counts[i] as number, guard);
      } catch (e) {
        if (!(e instanceof RowsRejected)) throw e;
        const m = rows.sources[i] as ConsumedMessage;
        this.log.warn({ partition: m.partition, offset: m.offset, table, code: e.code }, 'message dead-lettered: ClickHouse refused its rows');
        const reason = e.message;
        // Like an insert, retried until it succeeds or the writer stops: the batch can't commit without it.
        await retry(() => this.deps.deadLetter.send(m, 'rejected-by-clickhouse', reason), {
          onRetry: logRetries(this.log, 'dead-lettering a message'),
          signal: guard.stopped,
        });
      }
    }
  }
}
