/** The writer as a child process (services/writer/dist/main.js), so a test can SIGKILL it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { AllInOneConfig } from '@trackstream/all-in-one';
import { freePort, repoRoot, waitFor } from '@trackstream/local-stack';

export interface WriterProcess {
  readonly port: number;
  readonly pid: number;
  /** Resolves when the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Text of the writer's /metrics. */
  metrics(): Promise<string>;
}

export async function startWriterProcess(config: AllInOneConfig, env: Record<string, string> = {}): Promise<WriterProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [join(repoRoot(), 'services', 'writer', 'dist', 'main.js')], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      PORT: String(port),
      LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'error',
      KAFKA_BROKERS: config.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: config.kafkaTopicPrefix,
      KAFKA_EVENTS_PARTITIONS: String(config.kafkaEventsPartitions),
      WRITER_GROUP_ID: config.writerGroupId,
      WRITER_BATCH_MS: String(config.writerBatchMs),
      WRITER_SESSION_TIMEOUT_MS: String(config.writerSessionTimeoutMs),
      CLICKHOUSE_URL: config.clickhouseUrl,
      CLICKHOUSE_DATABASE: config.clickhouseDatabase,
      ...env,
    },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`writer exited with ${child.exitCode}`);
      const res = await fetch(`${url}/health`);
      return res.ok;
    },
    { timeoutMs: 60_000, what: 'the writer process to be healthy' },
  );
  return {
    port,
    pid: child.pid ?? -1,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
    async metrics() {
      return (await fetch(`${url}/metrics`)).text();
    },
  };
}
