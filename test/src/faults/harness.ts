/**
 * What every fault test shares: watching the events topic and the writer group's committed
 * offsets, counting what ClickHouse stored against what the load had acknowledged, and
 * reporting the figures (one log line, and a JSON file under bench-results/faults/).
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { repoRoot, waitFor } from '@trackstream/local-stack';
import type { LoadResult } from '../helpers/load';
import type { Pipeline } from '../helpers/pipeline';

/** Offset per partition. */
export type Offsets = Map<number, number>;

/**
 * The pipeline's events topic and writer group, seen through a Kafka admin client. Each call
 * connects afresh, so it works across broker restarts; it retries for up to 30 s while the
 * broker is unreachable or its partitions have no leader yet.
 */
export class KafkaWatch {
  private readonly kafka: Kafka;
  readonly topic: string;

  constructor(private readonly p: Pipeline) {
    this.kafka = new Kafka({ clientId: 'fault-watch', brokers: [p.stack.kafkaBrokers], logLevel: logLevel.NOTHING, connectionTimeout: 2000, requestTimeout: 10_000, retry: { retries: 2 } });
    this.topic = `${p.config.kafkaTopicPrefix}.events`;
  }

  private withAdmin<T>(work: (admin: Admin) => Promise<T>): Promise<T> {
    return waitFor(
      async () => {
        const admin = this.kafka.admin();
        await admin.connect();
        try {
          return { value: await work(admin) };
        } finally {
          await admin.disconnect().catch(() => undefined);
        }
      },
      { timeoutMs: 30_000, intervalMs: 250, what: 'an answer from Kafka' },
    ).then((r) => r.value);
  }

  /** The end (next) offset of every partition. */
  ends(): Promise<Offsets> {
    return this.withAdmin(async (a) => new Map((await a.fetchTopicOffsets(this.topic)).map((e) => [e.partition, Number(e.high)])));
  }

  /** Messages the topic holds (nothing is deleted during a test). */
  async messages(): Promise<number> {
    return this.withAdmin(async (a) => (await a.fetchTopicOffsets(this.topic)).reduce((n, e) => n + Number(e.high) - Number(e.low), 0));
  }

  /** The writer group's committed offset of every partition (0 when none). */
  committed(): Promise<Offsets> {
    return this.withAdmin(async (a) => {
      const [t] = await a.fetchOffsets({ groupId: this.p.config.writerGroupId, topics: [this.topic] });
      return new Map((t?.partitions ?? []).map((x) => [x.partition, Math.max(0, Number(x.offset))]));
    });
  }

  /** Messages not yet stored and committed by the writer group. */
  async lag(): Promise<number> {
    const [ends, committed] = await Promise.all([this.ends(), this.committed()]);
    let lag = 0;
    for (const [partition, end] of ends) lag += Math.max(0, end - (committed.get(partition) ?? 0));
    return lag;
  }

  /** Members of the writer group (empty while it rebalances or has none). */
  members(): Promise<number> {
    return this.withAdmin(async (a) => {
      const { groups } = await a.describeGroups([this.p.config.writerGroupId]);
      return groups[0]?.state === 'Stable' ? groups[0].members.length : 0;
    });
  }

  /**
   * Seconds from `since` (epoch ms) until the group has committed past `target` on every
   * partition: everything the topic held at that moment is stored.
   */
  async caughtUpAfter(since: number, target: Offsets, timeoutMs = 180_000): Promise<number> {
    await waitFor(
      async () => {
        const committed = await this.committed();
        for (const [partition, end] of target) if ((committed.get(partition) ?? 0) < end) return false;
        return true;
      },
      { timeoutMs, intervalMs: 200, what: 'the writer group to commit everything the topic held' },
    );
    return (Date.now() - since) / 1000;
  }
}

export function faultSeed(): number {
  const env = process.env['FAULT_SEED'];
  return env ? Number(env) : Math.floor(Math.random() * 2 ** 31);
}

/** Seconds from `since` to the first acknowledgement after it (how long clients saw no 200). */
export function firstAckAfter(result: LoadResult, since: number): number {
  const t = result.ackTimes.find((x) => x >= since);
  assert.ok(t !== undefined, 'a batch was acknowledged after the fault');
  return (t - since) / 1000;
}

/**
 * The longest stretch without a success (epoch ms `times`, in order) that overlaps [from, to]:
 * how long clients went unanswered around a fault, in seconds.
 */
export function longestGap(times: readonly number[], from: number, to: number): number {
  let longest = 0;
  for (let i = 1; i < times.length; i++) {
    const a = times[i - 1] as number;
    const b = times[i] as number;
    if (b >= from && a <= to) longest = Math.max(longest, b - a);
  }
  return longest / 1000;
}

export interface StoredCounts {
  /** Rows read with FINAL (the dedup rule applied), scalars + logs. */
  stored: number;
  /** Distinct identities: (task, metric, variant, iter) of scalars, (task, msg) of logs. */
  distinct: number;
  scalars: number;
  logs: number;
}

export async function storedCounts(p: Pipeline, prefix: string): Promise<StoredCounts> {
  const params = { prefix };
  const where = 'WHERE startsWith(task, {prefix:String})';
  const [scalars, logs, scalarIds, logIds] = await Promise.all([
    p.count(`SELECT count() FROM scalars FINAL ${where}`, params),
    p.count(`SELECT count() FROM logs FINAL ${where}`, params),
    p.count(`SELECT uniqExact(task, metric, variant, iter) FROM scalars ${where}`, params),
    p.count(`SELECT uniqExact(task, msg) FROM logs ${where}`, params),
  ]);
  return { stored: scalars + logs, distinct: scalarIds + logIds, scalars, logs };
}

export interface FaultFigures {
  fault: string;
  /** Events in batches answered 200. */
  acked: number;
  /** Rows stored, counted with FINAL. */
  stored: number;
  /** Stored rows beyond distinct identities: an event stored twice. */
  duplicates: number;
  /** Acknowledged events missing from the store. */
  lost: number;
  /** Seconds from the repair until the pipeline caught up (each test says from what). */
  recoverySec: number;
  [detail: string]: unknown;
}

/** Logs the figures in one line and writes them to bench-results/faults/<fault>.json. */
export function reportFigures(f: FaultFigures): void {
  const extra = Object.entries(f)
    .filter(([k]) => !['fault', 'acked', 'stored', 'duplicates', 'lost', 'recoverySec'].includes(k))
    .map(([k, v]) => `${k} ${typeof v === 'number' ? round(v) : JSON.stringify(v)}`);
  console.log(
    `[fault] ${f.fault}: acknowledged ${f.acked}, stored ${f.stored}, duplicates ${f.duplicates}, lost ${f.lost}, recovered in ${round(f.recoverySec)} s; ${extra.join(', ')}`,
  );
  const dir = join(repoRoot(), 'bench-results', 'faults');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${f.fault}.json`), `${JSON.stringify({ ...f, at: new Date().toISOString() }, null, 2)}\n`);
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/**
 * The end of every fault test, once the load has stopped: waits (up to `timeoutMs`) until the
 * writer group has stored and committed everything the topic holds, copies included, reports
 * the figures, then asserts that every acknowledged event is stored exactly once and that nothing
 * else is: the load retried every batch to a 200, so nothing unacknowledged may appear either.
 */
export async function assertExactlyOnce(
  p: Pipeline,
  watch: KafkaWatch,
  fault: string,
  prefix: string,
  load: LoadResult,
  figures: { recoverySec: number } & Record<string, unknown>,
  timeoutMs = 120_000,
): Promise<FaultFigures> {
  const deadline = Date.now() + timeoutMs;
  while ((await watch.lag()) > 0 && Date.now() < deadline) await sleep(250);
  const counts = await storedCounts(p, prefix);
  const result: FaultFigures = {
    fault,
    acked: load.acked,
    stored: counts.stored,
    duplicates: counts.stored - counts.distinct,
    lost: Math.max(0, load.acked - counts.distinct),
    ...figures,
    unacknowledgedStored: Math.max(0, counts.distinct - load.acked),
    batches: load.ackedBatches,
    answers503: load.unavailable,
    otherErrors: load.otherErrors,
    connectionErrors: load.connectionErrors,
    retries: load.retries,
  };
  reportFigures(result);
  assert.equal(load.refused, 0, 'every batch was retried until it was acknowledged');
  assert.equal(load.partial, 0, 'every 200 counted the whole batch as added');
  assert.equal(counts.scalars, load.ackedScalars, 'scalars stored (FINAL) = scalars acknowledged');
  assert.equal(counts.logs, load.ackedLogs, 'log lines stored (FINAL) = log lines acknowledged');
  assert.equal(result.duplicates, 0, 'no event stored twice');
  assert.equal(result.lost, 0, 'no acknowledged event missing');
  assert.equal(counts.distinct, load.acked, 'nothing stored that was not acknowledged');
  return result;
}
