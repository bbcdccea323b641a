/**
 * The whole pipeline (writer, gateway, query) in this test process, on the isolated stack that
 * `npm test` started. Each pipeline gets its own Kafka topics, consumer group and ClickHouse
 * database, so test files never see each other's events.
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { composeAllInOne, readAllInOneConfig, type AllInOneConfig } from '@trackstream/all-in-one';
import { createClickHouse, type ClickHouseClient } from '@trackstream/clickhouse';
import { createRegistry, type Registry } from '@trackstream/metrics';
import { createLogger, serveComponents } from '@trackstream/runtime';
import { testStack, waitFor, type LocalStack } from '@trackstream/local-stack';

export interface ApiReply<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  meta: { result_code: number; result_subcode: number; result_msg: string; trx: string; endpoint: Record<string, unknown> };
  data: T;
}

export interface Pipeline {
  url: string;
  config: AllInOneConfig;
  database: string;
  stack: LocalStack;
  /** A client on the pipeline's database, for checking stored rows. */
  clickhouse: ClickHouseClient;
  registry: Registry;
  /** POSTs (or GETs, like the SDK) a JSON body to /<endpoint>. */
  call<T = Record<string, unknown>>(endpoint: string, body?: unknown, opts?: CallOptions): Promise<ApiReply<T>>;
  /** events.add_batch with a json-lines body, as the SDK sends it. */
  addBatch(events: readonly unknown[], opts?: CallOptions): Promise<ApiReply<{ added: number; errors: number; errors_info: Record<string, number> }>>;
  /** Resolves once `sql` (a count query) returns at least `n`. */
  waitForCount(sql: string, n: number, params?: Record<string, unknown>, timeoutMs?: number): Promise<number>;
  count(sql: string, params?: Record<string, unknown>): Promise<number>;
  /** Stops the pipeline and drops its database (`keepData`: kept, for a pipeline started again on it). */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

export interface CallOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  gzip?: boolean;
  version?: string;
}

export interface PipelineOptions {
  /** Environment overrides (AUTH_ENABLED, WRITER_BATCH_MS, ...). */
  env?: Record<string, string>;
  /** Run without the writer (e.g. to run it as a child process). */
  writer?: boolean;
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** Settings of a pipeline on the test stack, with its own topics, group and database. */
export async function pipelineConfig(env: Record<string, string> = {}): Promise<{ stack: LocalStack; config: AllInOneConfig }> {
  const stack = await testStack();
  const id = uniqueName('t');
  const config = readAllInOneConfig({
    PORT: '0',
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'error',
    KAFKA_BROKERS: stack.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: id,
    KAFKA_EVENTS_PARTITIONS: '4',
    WRITER_GROUP_ID: `${id}-writer`,
    WRITER_BATCH_MS: '200',
    // A killed writer's partitions move on after 6 s (the broker's minimum), not 30.
    WRITER_SESSION_TIMEOUT_MS: '6000',
    CLICKHOUSE_URL: stack.clickhouseUrl,
    CLICKHOUSE_DATABASE: id,
    DISK_USAGE_PATHS: stack.diskUsagePaths,
    ...env,
  });
  return { stack, config };
}

export async function startPipeline(opts: PipelineOptions = {}): Promise<Pipeline> {
  const { stack, config } = await pipelineConfig(opts.env);
  const logger = createLogger({ service: 'test-pipeline', level: config.logLevel });
  const registry = createRegistry({ defaultMetrics: false, diskUsagePaths: config.diskUsagePaths });
  const app = await composeAllInOne(config, logger, registry, { writer: opts.writer === false ? 'none' : 'main-thread' });
  // Without a writer nobody runs the migrations: readers still need the tables.
  if (opts.writer === false) {
    const { migrate } = await import('@trackstream/clickhouse');
    await migrate({ url: config.clickhouseUrl, database: config.clickhouseDatabase }, { logger });
  }
  let port = 0;
  const shutdown = await serveComponents({ port: 0, host: '127.0.0.1', components: app.components, registry, logger, onListening: (p) => (port = p) });
  const url = `http://127.0.0.1:${port}`;
  const clickhouse = createClickHouse({ url: config.clickhouseUrl, database: config.clickhouseDatabase });

  const call = async <T>(endpoint: string, body?: unknown, o: CallOptions = {}): Promise<ApiReply<T>> => {
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    return send<T>(`${url}/${o.version ? `v${o.version}/` : ''}${endpoint}`, text, 'application/json', o);
  };
  const count = async (sql: string, params: Record<string, unknown> = {}): Promise<number> => {
    const rs = await clickhouse.query({ query: sql, query_params: params, format: 'JSONEachRow' });
    const rows = await rs.json<Record<string, string | number>>();
    const first = rows[0];
    return first ? Number(Object.values(first)[0]) : 0;
  };
  return {
    url,
    config,
    database: config.clickhouseDatabase,
    stack,
    clickhouse,
    registry,
    call,
    addBatch: (events, o = {}) =>
      send(`${url}/${o.version ? `v${o.version}/` : ''}events.add_batch`, events.map((e) => JSON.stringify(e)).join('\n'), 'application/json-lines', o),
    count,
    waitForCount: (sql, n, params = {}, timeoutMs = 30_000) =>
      waitFor(
        async () => {
          const c = await count(sql, params);
          return c >= n ? c : undefined;
        },
        { timeoutMs, what: `${n} rows from: ${sql}` },
      ),
    async stop(o = {}) {
      await shutdown();
      await app.close();
      if (!o.keepData) await clickhouse.command({ query: `DROP DATABASE IF EXISTS ${config.clickhouseDatabase}` }).catch(() => undefined);
      await clickhouse.close();
    },
  };
}

async function send<T>(url: string, text: string, contentType: string, o: CallOptions): Promise<ApiReply<T>> {
  const payload = o.gzip ? gzipSync(text) : Buffer.from(text);
  const res = await fetch(url, {
    // Node's fetch refuses a GET body; the SDK's GET-with-body is covered by the api package's tests.
    method: o.method ?? 'POST',
    headers: { 'content-type': contentType, ...(o.gzip ? { 'content-encoding': 'gzip' } : {}), ...o.headers },
    body: payload,
  });
  const json = (await res.json()) as { meta: ApiReply['meta']; data: T };
  return { status: res.status, headers: res.headers, meta: json.meta, data: json.data };
}
