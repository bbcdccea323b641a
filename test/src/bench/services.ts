/**
 * The pipeline under test: its settings on the bench's stack, the gateway or writer as a child
 * process (so the load generator's CPU is not counted as theirs), or the all-in-one composition
 * in this process.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { composeAllInOne, readAllInOneConfig, type AllInOneConfig } from '@trackstream/all-in-one';
import type { ClickHouseClient } from '@trackstream/clickhouse';
import { freePort, repoRoot, waitFor, type LocalStack } from '@trackstream/local-stack';
import { createRegistry, type Registry } from '@trackstream/metrics';
import { createLogger, serveComponents } from '@trackstream/runtime';
import { metricSum } from './metrics-text';

export type Env = Record<string, string>;

/** A name for topics, a consumer group and a database: `<prefix>_<hex>`. */
export function uniqueId(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/**
 * Environment of a pipeline on `stack` with its own topics, group and database. Everything else
 * keeps the services' defaults (12 partitions, 50,000-row batches, 1 s flush), as deployed.
 */
export function pipelineEnv(stack: LocalStack, id: string, overrides: Env = {}): Env {
  return {
    LOG_LEVEL: 'error',
    KAFKA_BROKERS: stack.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: id,
    WRITER_GROUP_ID: `${id}-writer`,
    CLICKHOUSE_URL: stack.clickhouseUrl,
    CLICKHOUSE_DATABASE: id,
    ...overrides,
  };
}

export function pipelineConfig(env: Env): AllInOneConfig {
  return readAllInOneConfig({ ...env, PORT: '0' });
}

export interface ServiceProcess {
  readonly url: string;
  readonly pid: number;
  /** False once the process exited. */
  readonly running: boolean;
  /** Resolves once /health answers 200 (within 60 s); rejects if the process exits first. */
  healthy(): Promise<void>;
  /** Text of its /metrics. */
  metrics(): Promise<string>;
  /** SIGTERM (a graceful stop: the writer flushes) and wait for the exit. */
  stop(): Promise<void>;
}

/**
 * Runs services/<service>/dist/main.js with `env` (on a free port; all-in-one is gateway + writer
 * + query in one process, as `npm start` runs it). With BENCH_CPU_PROF_DIR set,
 * the child writes a V8 CPU profile there when it stops.
 */
export async function startService(service: 'gateway' | 'writer' | 'query' | 'all-in-one', env: Env): Promise<ServiceProcess> {
  const port = await freePort();
  const profDir = process.env['BENCH_CPU_PROF_DIR'];
  const flags = profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
  const child = spawn(process.execPath, [...flags, join(repoRoot(), 'services', service, 'dist', 'main.js')], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, ...env, PORT: String(port) },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    url,
    pid: child.pid ?? -1,
    get running() {
      return running();
    },
    async healthy() {
      await waitFor(
        async () => {
          if (!running()) throw new Error(`${service} exited with ${child.exitCode ?? child.signalCode}`);
          return (await fetch(`${url}/health`)).ok;
        },
        { timeoutMs: 60_000, what: `the ${service} process to be healthy` },
      );
    },
    metrics: async () => (await fetch(`${url}/metrics`)).text(),
    async stop() {
      if (running()) child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface InProcessPipeline {
  readonly url: string;
  readonly registry: Registry;
  stop(): Promise<void>;
}

/** Gateway, writer and query in this process, as `npm start` runs them (composeAllInOne). */
export async function startInProcess(config: AllInOneConfig): Promise<InProcessPipeline> {
  const logger = createLogger({ service: 'bench', level: config.logLevel });
  const registry = createRegistry({ defaultMetrics: false });
  const app = await composeAllInOne(config, logger, registry);
  let port = 0;
  const shutdown = await serveComponents({ port: 0, host: '127.0.0.1', components: app.components, registry, logger, onListening: (p) => (port = p) });
  return {
    url: `http://127.0.0.1:${port}`,
    registry,
    async stop() {
      await shutdown();
      await app.close();
    },
  };
}

/** CPU seconds of a service process, from its /metrics (its process.cpuUsage()), with that text. */
export async function serviceCpu(service: ServiceProcess): Promise<{ cpuSeconds: number; metrics: string }> {
  const metrics = await service.metrics();
  return { cpuSeconds: metricSum(metrics, 'process_cpu_seconds_total'), metrics };
}

/** count() of `table` (database.table). */
export async function countRows(clickhouse: ClickHouseClient, table: string): Promise<number> {
  const rs = await clickhouse.query({ query: `SELECT count() AS n FROM ${table}`, format: 'JSONEachRow' });
  const [row] = await rs.json<{ n: string }>();
  return Number(row?.n ?? 0);
}
