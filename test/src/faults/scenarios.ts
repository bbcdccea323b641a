/**
 * The fault scenarios, each on its own pipeline (topics, writer group, database) under a steady
 * load of SDK-like clients that retry like the ClearML SDK, each ending with an exact count.
 * `npm run test:faults` runs them in full; `npm test` runs short versions of the Kafka ones
 * (faults/quick.integration.test.ts).
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { testStack, waitFor, type LocalStack } from '@trackstream/local-stack';
import { startLoad, type LoadOptions, type LoadResult } from '../helpers/load';
import { startPipeline, type Pipeline } from '../helpers/pipeline';
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process';
import { SmallDisk } from './small-disk';
import { seededRandom } from '../helpers/random';
import { assertExactlyOnce, faultSeed, firstAckAfter, KafkaWatch, longestGap, type FaultFigures, type Offsets } from './harness';

/** The load every scenario runs: two SDK-like clients, about 2,000 events/s between them on 2 cores. */
const LOAD: LoadOptions = { clients: 2, tasks: 8, scalarsPerBatch: 50, logsPerBatch: 10, intervalMs: 50, retry: true };

interface Rig {
  p: Pipeline;
  watch: KafkaWatch;
  writers: ServiceProcess[];
}

/** A pipeline without an in-process writer, and `writers` writer processes in one group. */
async function withRig<T>(opts: { writers?: number; env?: Record<string, string> }, body: (rig: Rig) => Promise<T>): Promise<T> {
  // The in-process gateway's log stays quiet: the faults make it log errors on purpose.
  const p = await startPipeline({ writer: false, env: { WRITER_BATCH_MS: '150', LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'fatal', ...opts.env } });
  const writers: ServiceProcess[] = [];
  try {
    for (let i = 0; i < (opts.writers ?? 1); i++) writers.push(await startServiceProcess('writer', p.config));
    return await body({ p, watch: new KafkaWatch(p), writers });
  } finally {
    await Promise.all(writers.map((w) => w.kill('SIGKILL')));
    await p.stop();
  }
}

/**
 * Tracks several catch-up targets with one poll of the committed offsets: each mark resolves to
 * the seconds from its `since` until the group committed past its target offsets.
 */
function catchUpTracker(watch: KafkaWatch): { mark(since: number, target: Offsets): Promise<number> } {
  const pending: Array<{ since: number; target: Offsets; resolve(sec: number): void; reject(e: Error): void }> = [];
  let polling = false;
  const poll = async (): Promise<void> => {
    polling = true;
    const deadline = Date.now() + 300_000;
    while (pending.length > 0) {
      try {
        const committed = await watch.committed();
        for (let i = pending.length - 1; i >= 0; i--) {
          const m = pending[i]!;
          if ([...m.target].every(([partition, end]) => (committed.get(partition) ?? 0) >= end)) {
            m.resolve((Date.now() - m.since) / 1000);
            pending.splice(i, 1);
          }
        }
      } catch {
        // The broker is briefly unreachable: poll again.
      }
      if (Date.now() > deadline) pending.splice(0).forEach((m) => m.reject(new Error('the writer group never caught up')));
      await sleep(200);
    }
    polling = false;
  };
  return {
    mark(since, target) {
      const done = new Promise<number>((resolve, reject) => pending.push({ since, target, resolve, reject }));
      if (!polling) void poll();
      return done;
    },
  };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : (s[Math.floor((s.length - 1) / 2)] as number);
};

/** Acknowledgements recorded within [from, to] (epoch ms). */
const acksBetween = (r: LoadResult, from: number, to: number): number => r.ackTimes.filter((t) => t >= from && t <= to).length;

/**
 * A killed writer's recovery is measured up to what the topic held this long after the kill: by
 * then its partitions hold messages it never saw, which only its successor can commit.
 */
const AFTER_KILL_MS = 1000;

/**
 * The writer SIGKILLed `kills` times at random moments (0.3 to 3 s after the previous one was
 * consuming again, so anywhere in its fetch, decode, insert and commit cycle, which takes
 * WRITER_BATCH_MS = 150 ms) and started again. Recovery: seconds from a kill until the group had
 * committed everything the topic held 1 s after it (the median and the longest of all kills).
 */
export async function writerKills(o: { fault: string; kills: number }): Promise<FaultFigures> {
  const seed = faultSeed();
  const random = seededRandom(seed);
  return withRig({}, async ({ p, watch, writers }) => {
    const writer = writers[0]!;
    const prefix = 'kill';
    const tracker = catchUpTracker(watch);
    const t0 = Date.now();
    const load = startLoad(p, { ...LOAD, taskPrefix: prefix });
    await sleep(1000);
    const recoveries: Array<Promise<number>> = [];
    for (let i = 0; i < o.kills; i++) {
      await sleep(300 + random() * 2700);
      const at = Date.now();
      await writer.kill('SIGKILL');
      recoveries.push(sleep(AFTER_KILL_MS).then(async () => tracker.mark(at, await watch.ends())));
      await sleep(random() * 500);
      await writer.start();
    }
    await sleep(1000);
    const result = await load.stop();
    const times = await Promise.all(recoveries);
    return assertExactlyOnce(p, watch, o.fault, prefix, result, {
      recoverySec: Math.max(...times),
      medianRecoverySec: median(times),
      kills: o.kills,
      seed,
      durationSec: (Date.now() - t0) / 1000,
    });
  });
}

/**
 * The Kafka broker stopped (`kill`: SIGKILLed, as a crash) for `downMs` mid-load, then started again. Meanwhile the gateway
 * answers 503 (never a 200: no acknowledgement is recorded while the broker is down) and the
 * clients retry; afterwards everything arrives. Recovery: seconds from the broker being back
 * until the group had committed everything the topic held then; gatewaySec: until the first 200.
 */
export async function kafkaRestart(o: { fault: string; downMs: number; kill?: boolean }): Promise<FaultFigures> {
  return withRig({}, async ({ p, watch }) => {
    const prefix = 'kafka';
    const t0 = Date.now();
    const load = startLoad(p, { ...LOAD, taskPrefix: prefix });
    await sleep(2000);
    await p.stack.stop('kafka', { kill: o.kill === true });
    const stoppedAt = Date.now();
    let restartingAt = stoppedAt;
    try {
      await sleep(o.downMs);
    } finally {
      restartingAt = Date.now();
      await p.stack.start('kafka');
    }
    const backAt = Date.now();
    const target = await watch.ends();
    const caughtUp = watch.caughtUpAfter(backAt, target);
    await sleep(2000);
    const result = await load.stop();
    const recoverySec = await caughtUp;
    assert.ok(result.unavailable > 0, 'the gateway answered 503 while Kafka was down');
    assert.equal(result.otherErrors, 0, 'no answer but 200 or 503 (never a 500)');
    // An answer already on its way when the broker stopped may land just after: 1 s of margin.
    assert.equal(acksBetween(result, stoppedAt + 1000, restartingAt), 0, 'no 200 while the broker was down');
    return assertExactlyOnce(p, watch, o.fault, prefix, result, {
      recoverySec,
      gatewaySec: firstAckAfter(result, backAt),
      downSec: (backAt - stoppedAt) / 1000,
      durationSec: (Date.now() - t0) / 1000,
    });
  });
}

/**
 * The broker frozen (SIGSTOP) for `frozenMs`, longer than the gateway's produce timeout (1 s
 * here): the gateway answers 503 for requests Kafka has not refused, and appends them when it
 * resumes (SIGCONT), while the clients send them again. Those copies must collapse: every event,
 * log lines included, stored once. `kafkaCopies` counts the messages appended beyond one per
 * acknowledged batch (each batch is one message): it must be above 0, or the fault did not happen.
 */
export async function kafkaFreeze(o: { fault: string; frozenMs: number }): Promise<FaultFigures> {
  return withRig({ env: { GATEWAY_PRODUCE_TIMEOUT_MS: '1000' } }, async ({ p, watch }) => {
    const prefix = 'frozen';
    const t0 = Date.now();
    const load = startLoad(p, { ...LOAD, taskPrefix: prefix });
    await sleep(1500);
    const kafka = (await p.stack.status()).find((c) => c.name === 'kafka');
    assert.ok(kafka?.pid !== undefined, 'the broker runs');
    process.kill(kafka.pid, 'SIGSTOP');
    const frozenAt = Date.now();
    try {
      await sleep(o.frozenMs);
    } finally {
      process.kill(kafka.pid, 'SIGCONT');
    }
    const resumedAt = Date.now();
    const target = await watch.ends();
    const caughtUp = watch.caughtUpAfter(resumedAt, target);
    await sleep(2000);
    const result = await load.stop();
    const recoverySec = await caughtUp;
    const kafkaCopies = (await watch.messages()) - result.ackedBatches;
    assert.ok(result.unavailable > 0, 'the gateway answered 503 while the broker was frozen');
    assert.equal(acksBetween(result, frozenAt + 1000, resumedAt), 0, 'no 200 while the broker was frozen');
    const figures = await assertExactlyOnce(p, watch, o.fault, prefix, result, {
      recoverySec,
      gatewaySec: firstAckAfter(result, resumedAt),
      kafkaCopies,
      frozenSec: o.frozenMs / 1000,
      durationSec: (Date.now() - t0) / 1000,
    });
    assert.ok(kafkaCopies > 0, 'batches answered 503 were appended by the broker as well (the retries are copies)');
    return figures;
  });
}

/**
 * The ClickHouse process stopped (`kill`: SIGKILLed, mid-insert as likely as not) for `downMs` under the load, then started again: the gateway
 * keeps accepting (Kafka holds the events), the writer retries, the lag grows and then drains.
 * Recovery: seconds from ClickHouse being back until the group had committed everything the topic
 * held then (the backlog of the outage stored).
 */
export async function clickhouseOutage(o: { fault: string; downMs: number; kill?: boolean }): Promise<FaultFigures> {
  return withRig({}, async ({ p, watch }) => {
    const prefix = 'chdown';
    const t0 = Date.now();
    const load = startLoad(p, { ...LOAD, taskPrefix: prefix });
    await sleep(2000);
    await p.stack.stop('clickhouse', { kill: o.kill === true });
    const stoppedAt = Date.now();
    let lagAtRestart = 0;
    try {
      await sleep(o.downMs);
      lagAtRestart = await watch.lag();
    } finally {
      await p.stack.start('clickhouse');
    }
    const backAt = Date.now();
    const target = await watch.ends();
    const recoverySec = await watch.caughtUpAfter(backAt, target);
    await sleep(1000);
    const result = await load.stop();
    assert.ok(lagAtRestart > 0, 'messages waited in Kafka during the outage');
    assert.equal(result.unavailable, 0, 'the gateway kept accepting: Kafka holds the events');
    await waitFor(async () => (await watch.lag()) === 0, { timeoutMs: 60_000, what: 'the lag to drain' });
    return assertExactlyOnce(p, watch, o.fault, prefix, result, {
      recoverySec,
      lagAtRestart,
      downSec: (backAt - stoppedAt) / 1000,
      durationSec: (Date.now() - t0) / 1000,
    });
  });
}

/** events.get_task_log 1.7 (the version with cursors) through the query service: status and, on 200, the page. */
async function readLog(url: string, body: Record<string, unknown>): Promise<{ status: number; data?: { events: Array<{ timestamp: number; msg: string }>; total: number; scroll_id: string } }> {
  try {
    const res = await fetch(`${url}/v1.7/events.get_task_log`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
    const json = (await res.json()) as { data: { events: Array<{ timestamp: number; msg: string }>; total: number; scroll_id: string } };
    return { status: res.status, data: json.data };
  } catch {
    return { status: 0 };
  }
}

/**
 * The gateway and the query service as processes, restarted mid-load: the gateway SIGKILLed and
 * started again, then restarted gracefully (SIGTERM), then the query service SIGKILLed and started
 * again while a reader polls it and a scroll is open across the restart. Clients retry through
 * the gap; nothing stored is affected; the open scroll continues. Recovery: the longest time
 * clients went without a 200 around a restart (writers: acknowledgements; reader: answered reads).
 */
export async function serviceRestarts(o: { fault: string }): Promise<FaultFigures> {
  return withRig({ env: { QUERY_SCROLL_SECRET: 'fault-tests-scroll-secret-0123456789' } }, async ({ p, watch }) => {
    const gateway = await startServiceProcess('gateway', p.config);
    const query = await startServiceProcess('query', p.config);
    try {
      const prefix = 'svc';
      const t0 = Date.now();
      const load = startLoad(gateway, { ...LOAD, taskPrefix: prefix });
      let reading = true;
      const reads: Array<{ at: number; ok: boolean }> = [];
      const reader = (async () => {
        while (reading) {
          const r = await readLog(query.url, { task: `${prefix}-0`, batch_size: 100 });
          reads.push({ at: Date.now(), ok: r.status === 200 });
          await sleep(100);
        }
      })();
      await sleep(2000);

      const crashAt = Date.now();
      await gateway.restart('SIGKILL');
      const crashedUntil = Date.now();
      await sleep(2000);
      const deployAt = Date.now();
      await gateway.restart('SIGTERM');
      const deployedUntil = Date.now();
      await sleep(2000);

      const first = await readLog(query.url, { task: `${prefix}-1`, batch_size: 20 });
      assert.equal(first.status, 200);
      assert.equal(first.data?.events.length, 20, 'the first page is full');
      const queryAt = Date.now();
      await query.restart('SIGKILL');
      const queryUntil = Date.now();
      const second = await readLog(query.url, { task: `${prefix}-1`, batch_size: 20, scroll_id: first.data?.scroll_id });
      assert.equal(second.status, 200, 'a scroll opened before the restart continues after it');
      const seen = new Set(first.data?.events.map((e) => e.msg));
      const lastBefore = first.data?.events.at(-1);
      const firstAfter = second.data?.events[0];
      assert.ok(lastBefore && firstAfter && firstAfter.timestamp >= lastBefore.timestamp, 'the second page starts where the first ended');
      assert.ok(second.data?.events.every((e) => !seen.has(e.msg)), 'no line of the first page again');
      await sleep(2000);

      const result = await load.stop();
      reading = false;
      await reader;
      const readFailures = reads.filter((r) => !r.ok).length;
      assert.ok(reads.some((r) => r.ok && r.at >= queryUntil), 'reads answered after the query restart');
      assert.ok(reads.some((r) => !r.ok && r.at >= queryAt), 'the reader saw the query service go away');
      assert.ok(result.ackTimes.some((t) => t >= deployedUntil), 'batches acknowledged after the restarts');
      const gatewayCrashSec = longestGap(result.ackTimes, crashAt, crashedUntil);
      const gatewayDeploySec = longestGap(result.ackTimes, deployAt, deployedUntil);
      const querySec = longestGap(reads.filter((r) => r.ok).map((r) => r.at), queryAt, queryUntil);
      assert.ok(result.connectionErrors > 0, 'clients saw the gateway go away');

      // Read back through the query service too: every acknowledged log line is in a task log.
      await waitFor(
        async () => {
          let total = 0;
          for (let t = 0; t < (LOAD.tasks ?? 1); t++) total += (await readLog(query.url, { task: `${prefix}-${t}`, batch_size: 1 })).data?.total ?? 0;
          return total === result.ackedLogs;
        },
        { timeoutMs: 60_000, what: 'the task logs to hold every acknowledged line' },
      );
      return await assertExactlyOnce(p, watch, o.fault, prefix, result, {
        recoverySec: Math.max(gatewayCrashSec, gatewayDeploySec, querySec),
        gatewayCrashSec,
        gatewayDeploySec,
        querySec,
        reads: reads.length,
        readFailures,
        durationSec: (Date.now() - t0) / 1000,
      });
    } finally {
      await Promise.all([gateway.kill('SIGKILL'), query.kill('SIGKILL')]);
    }
  });
}

/**
 * A writer group of two processes; one SIGKILLed under the load. After the session timeout
 * (6 s here) its partitions move to the other member, which resumes from their last commits.
 * Recovery: seconds from the kill until the group had committed everything the topic held 1 s
 * after it.
 */
export async function writerGroupKill(o: { fault: string }): Promise<FaultFigures> {
  return withRig({ writers: 2 }, async ({ p, watch, writers }) => {
    const prefix = 'group';
    await waitFor(async () => (await watch.members()) === 2, { timeoutMs: 60_000, what: 'both writers in the group' });
    const t0 = Date.now();
    const load = startLoad(p, { ...LOAD, taskPrefix: prefix });
    await sleep(3000);
    assert.equal(await watch.members(), 2, 'both members hold partitions before the kill');
    const killedAt = Date.now();
    await writers[0]!.kill('SIGKILL');
    await sleep(AFTER_KILL_MS);
    const recoverySec = await watch.caughtUpAfter(killedAt, await watch.ends());
    await waitFor(async () => (await watch.members()) === 1, { timeoutMs: 15_000, what: 'the survivor alone in the group' });
    await sleep(2000);
    const result = await load.stop();
    return assertExactlyOnce(p, watch, o.fault, prefix, result, {
      recoverySec,
      durationSec: (Date.now() - t0) / 1000,
    });
  });
}

/** A service's /health: its status code and the outcome of each check. */
async function health(url: string): Promise<{ status: number; checks: Record<string, boolean> }> {
  const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, checks: ((await res.json()) as { checks: Record<string, boolean> }).checks };
}

/** trackstream_filesystem_free_bytes of a data folder, as the pipeline's /metrics exports it. */
async function freeBytesExported(p: Pipeline, folder: string): Promise<number | undefined> {
  const text = await (await fetch(`${p.url}/metrics`)).text();
  const m = new RegExp(`^trackstream_filesystem_free_bytes\\{folder="${folder}"\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/** The value of an unlabelled gauge in a /metrics text. */
function gauge(metrics: string, name: string): number | undefined {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics);
  return m ? Number(m[1]) : undefined;
}

/**
 * ClickHouse's data folder on a small tmpfs, filled to the last byte under the load for `fullMs`,
 * then freed. Meanwhile every insert fails (NOT_ENOUGH_SPACE): the writer retries, commits
 * nothing (its committed offsets stay where they were), says so on /health (the
 * `clickhouse-disk` check) and in `writer_clickhouse_disk_full`, and the gateway goes on accepting
 * (Kafka has room). Recovery: seconds from the space coming back until the group had committed
 * everything the topic held then; reportedSec: from the disk filling up until /health said so.
 */
export async function clickhouseDiskFull(o: { fault: string; fullMs: number }): Promise<FaultFigures> {
  const stack = await testStack();
  const disk = await SmallDisk.mount(stack, 'clickhouse', 128 * 1024 * 1024);
  try {
    return await withRig({}, async ({ p, watch, writers }) => {
      const writer = writers[0]!;
      const prefix = 'chfull';
      const t0 = Date.now();
      const load = startLoad(p, { ...LOAD, taskPrefix: prefix });
      await sleep(2000);
      let freedAt = 0;
      let reportedSec = 0;
      let lagWhileFull = 0;
      disk.fill();
      const filledAt = Date.now();
      try {
        await waitFor(async () => (await health(writer.url)).checks['clickhouse-disk'] === false, { timeoutMs: 30_000, what: "the writer's /health to report the full disk" });
        reportedSec = (Date.now() - filledAt) / 1000;
        const h = await health(writer.url);
        assert.equal(h.status, 503, '/health answers 503 while ClickHouse is full');
        assert.equal(gauge(await writer.metrics(), 'writer_clickhouse_disk_full'), 1, 'writer_clickhouse_disk_full is 1');
        const placeBefore = await watch.committed();
        await sleep(o.fullMs);
        assert.deepEqual(await watch.committed(), placeBefore, 'nothing committed while the disk is full: the writer keeps its place');
        lagWhileFull = await watch.lag();
        assert.equal(disk.space().freeBytes, 0, 'the disk stayed full');
        assert.equal(await freeBytesExported(p, 'clickhouse'), 0, 'trackstream_filesystem_free_bytes shows the full disk');
      } finally {
        disk.free();
        freedAt = Date.now();
      }
      const target = await watch.ends();
      const recoverySec = await watch.caughtUpAfter(freedAt, target);
      await waitFor(async () => (await health(writer.url)).status === 200, { timeoutMs: 30_000, what: "the writer's /health to be ok again" });
      assert.equal(gauge(await writer.metrics(), 'writer_clickhouse_disk_full'), 0, 'writer_clickhouse_disk_full back to 0');
      await sleep(1000);
      const result = await load.stop();
      assert.ok(lagWhileFull > 0, 'messages waited in Kafka while ClickHouse was full');
      assert.equal(result.unavailable, 0, 'the gateway kept accepting: Kafka has room');
      return assertExactlyOnce(p, watch, o.fault, prefix, result, {
        recoverySec,
        reportedSec,
        lagWhileFull,
        fullSec: (freedAt - filledAt) / 1000,
        durationSec: (Date.now() - t0) / 1000,
      });
    });
  } finally {
    await disk.unmount();
  }
}

/**
 * Starts the broker again whenever it is not running, as a supervisor would (docker-compose's
 * `restart: unless-stopped`, a Kubernetes pod): a start that fails is tried again 1 s later.
 */
function superviseKafka(stack: LocalStack): { stop(): Promise<{ starts: number; failedStarts: number }> } {
  let running = true;
  let starts = 0;
  let failedStarts = 0;
  const loop = (async () => {
    while (running) {
      const kafka = (await stack.status()).find((c) => c.name === 'kafka');
      if (running && kafka && !kafka.running) {
        starts++;
        await stack.start('kafka').catch(() => void failedStarts++);
      }
      await sleep(1000);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { starts, failedStarts };
    },
  };
}

/**
 * Kafka's log folder on a small tmpfs, filled to the last byte under the load for `fullMs`, then
 * freed. The broker can't append: the gateway answers 503 with Retry-After (never a 200, never a
 * 500) and the clients retry. (Kafka stops itself when its only log folder fails; a supervisor
 * loop starts it again, as an orchestrator would, and starts fail until there is space.) Once
 * space is back, everything arrives with no step by hand. Recovery: seconds from the space coming
 * back until the group had committed everything the topic held at the first 200 after it;
 * gatewaySec: until that first 200.
 */
export async function kafkaDiskFull(o: { fault: string; fullMs: number }): Promise<FaultFigures> {
  const stack = await testStack();
  const disk = await SmallDisk.mount(stack, 'kafka', 256 * 1024 * 1024);
  try {
    return await withRig({}, async ({ p, watch }) => {
      const prefix = 'kfull';
      const t0 = Date.now();
      const load = startLoad(p, { ...LOAD, taskPrefix: prefix });
      await sleep(2000);
      const supervisor = superviseKafka(p.stack);
      disk.fill();
      const filledAt = Date.now();
      let freedAt = filledAt;
      let firstRefusalSec = 0;
      try {
        await waitFor(() => load.progress.unavailable > 0, { timeoutMs: 30_000, what: "a 503 once Kafka's disk is full" });
        firstRefusalSec = (Date.now() - filledAt) / 1000;
        assert.equal(await freeBytesExported(p, 'kafka'), 0, 'trackstream_filesystem_free_bytes shows the full disk');
        await sleep(o.fullMs);
      } finally {
        disk.free();
        freedAt = Date.now();
      }
      await waitFor(() => load.progress.ackTimes.some((t) => t > freedAt), { timeoutMs: 180_000, intervalMs: 100, what: 'a 200 once the space is back' });
      const gatewaySec = firstAckAfter(load.progress, freedAt);
      const target = await watch.ends();
      const recoverySec = await watch.caughtUpAfter(freedAt, target);
      const supervision = await supervisor.stop();
      await sleep(2000);
      const result = await load.stop();
      assert.ok(result.unavailable > 0, "the gateway answered 503 while Kafka's disk was full");
      assert.equal(result.unavailableWithoutRetryAfter, 0, 'every 503 carried Retry-After');
      assert.equal(result.otherErrors, 0, 'no answer but 200 or 503 (never a 500)');
      // An answer already on its way when the disk filled may land just after: 1 s of margin.
      assert.equal(acksBetween(result, filledAt + 1000, freedAt), 0, 'no 200 while the disk was full');
      return assertExactlyOnce(p, watch, o.fault, prefix, result, {
        recoverySec,
        gatewaySec,
        firstRefusalSec,
        brokerStarts: supervision.starts,
        failedBrokerStarts: supervision.failedStarts,
        fullSec: (freedAt - filledAt) / 1000,
        durationSec: (Date.now() - t0) / 1000,
      });
    });
  } finally {
    await disk.unmount();
  }
}

/**
 * The all-in-one process (gateway, writer thread, query) SIGKILLed `kills` times mid-insert and
 * started again, the load going through its own gateway. Mid-insert for certain: ClickHouse is
 * frozen (SIGSTOP) for 1 s first, so the writer's insert of that moment waits on it, then the
 * process is killed and ClickHouse resumed; an insert it had received may complete for a dead
 * writer (its offsets uncommitted: the replay collapses onto it). Recovery: seconds from a kill
 * until the group had committed everything the topic held 1 s after the restart (the longest).
 */
export async function allInOneKills(o: { fault: string; kills: number }): Promise<FaultFigures> {
  return withRig({ writers: 0 }, async ({ p, watch }) => {
    const app = await startServiceProcess('all-in-one', p.config, { env: { WRITER_BATCH_MS: '150' } });
    try {
      const prefix = 'aio';
      const tracker = catchUpTracker(watch);
      const t0 = Date.now();
      const load = startLoad(app, { ...LOAD, taskPrefix: prefix });
      await sleep(2000);
      const recoveries: Array<Promise<number>> = [];
      for (let i = 0; i < o.kills; i++) {
        const clickhouse = (await p.stack.status()).find((c) => c.name === 'clickhouse');
        assert.ok(clickhouse?.pid !== undefined, 'ClickHouse runs');
        const killedAt = Date.now();
        process.kill(clickhouse.pid, 'SIGSTOP');
        try {
          await sleep(1000);
          await app.kill('SIGKILL');
        } finally {
          process.kill(clickhouse.pid, 'SIGCONT');
        }
        await app.start();
        recoveries.push(sleep(AFTER_KILL_MS).then(async () => tracker.mark(killedAt, await watch.ends())));
        await sleep(3000);
      }
      const result = await load.stop();
      const times = await Promise.all(recoveries);
      assert.ok(result.connectionErrors > 0, "clients saw the process go away");
      assert.equal(result.otherErrors, 0, 'no answer but 200 or 503 (never a 500)');
      return await assertExactlyOnce(p, watch, o.fault, prefix, result, {
        recoverySec: Math.max(...times),
        medianRecoverySec: median(times),
        kills: o.kills,
        durationSec: (Date.now() - t0) / 1000,
      });
    } finally {
      await app.kill('SIGKILL');
    }
  });
}
