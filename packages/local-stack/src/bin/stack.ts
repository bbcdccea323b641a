#!/usr/bin/env node
/**
 * The local stack's command line: `up`, `down`, `status`, `start` (npm start), `reset`.
 * Only this file reads process.env.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '../paths';
import { readStackSettings, type StackSettings } from '../settings';
import { LocalStack, type ComponentName } from '../stack';

const log = (line: string): void => console.log(`[stack] ${line}`);

/** `withPorts`: the commands that start processes apply the configured ports; others only look. */
async function open(s: StackSettings, withPorts = false): Promise<LocalStack> {
  return LocalStack.open({
    ...(s.dataDir ? { dataDir: s.dataDir } : {}),
    ...(s.cacheDir ? { cacheDir: s.cacheDir } : {}),
    ...(withPorts
      ? { ports: { kafka: s.kafkaPort, kafkaController: s.kafkaControllerPort, clickhouse: s.clickhousePort, clickhouseTcp: s.clickhouseTcpPort } }
      : {}),
    kafkaHeapMb: s.kafkaHeapMb,
    log,
  });
}

async function printStatus(stack: LocalStack): Promise<boolean> {
  let allUp = true;
  for (const c of await stack.status()) {
    const state = c.running ? (c.healthy ? 'healthy' : 'running, not healthy') : 'stopped';
    allUp &&= c.healthy;
    console.log(`${c.name.padEnd(11)} ${state.padEnd(21)} ${c.endpoint.padEnd(24)} ${c.running ? `pid ${c.pid}` : ''}  log: ${c.logFile}`);
  }
  return allUp;
}

/** Kafka, ClickHouse and the all-in-one API process in the foreground; Ctrl-C stops it all. */
async function start(s: StackSettings): Promise<number> {
  const t0 = Date.now();
  const stack = await open(s, true);
  let started: ComponentName[] = [];
  let app: ReturnType<typeof spawn> | undefined;
  let stopping: Promise<number> | undefined;

  const shutdown = (code: number): Promise<number> => {
    stopping ??= (async () => {
      log('stopping...');
      if (app && app.exitCode === null && app.signalCode === null) {
        const exited = new Promise((r) => app!.once('exit', r));
        app.kill('SIGTERM');
        const timer = setTimeout(() => app!.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(timer);
      }
      for (const name of started) await stack.stop(name);
      if (started.length < 2) log('left running what was already running before this start ("npm run stack down" stops it)');
      return code;
    })();
    return stopping;
  };
  process.once('SIGINT', () => void shutdown(130).then((c) => process.exit(c)));
  process.once('SIGTERM', () => void shutdown(143).then((c) => process.exit(c)));

  try {
    started = await stack.up();
  } catch (e) {
    console.error(`[stack] ${(e as Error).message}`);
    return shutdown(1);
  }
  const main = join(repoRoot(), 'services', 'all-in-one', 'dist', 'main.js');
  app = spawn(process.execPath, [main], {
    stdio: 'inherit',
    env: {
      DISK_USAGE_PATHS: stack.diskUsagePaths,
      ...process.env,
      PORT: String(s.port),
      KAFKA_BROKERS: stack.kafkaBrokers,
      CLICKHOUSE_URL: stack.clickhouseUrl,
    },
  });
  const appExit = new Promise<number>((resolve) => app!.once('exit', (code) => resolve(code ?? 1)));
  const ready = await Promise.race([waitForHttp(`http://127.0.0.1:${s.port}/health`, 60_000), appExit.then(() => false)]);
  if (!ready) {
    console.error('[stack] the API process did not become healthy; see its output above');
    return shutdown(1);
  }
  console.log(
    [
      '',
      `Trackstream is up in ${((Date.now() - t0) / 1000).toFixed(1)} s. Press Ctrl-C to stop.`,
      `  API (ClearML events):  http://127.0.0.1:${s.port}   (SDK: api_server)`,
      `  health / metrics:      http://127.0.0.1:${s.port}/health   http://127.0.0.1:${s.port}/metrics`,
      `  Kafka:                 ${stack.kafkaBrokers}`,
      `  ClickHouse (HTTP):     ${stack.clickhouseUrl}`,
      `  data and logs:         ${stack.dataDir}`,
      '',
    ].join('\n'),
  );
  const code = await appExit;
  return shutdown(stopping ? 0 : code);
}

async function waitForHttp(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  return false;
}

const USAGE = `usage: npm run stack -- <command>
  up       start Kafka and ClickHouse (downloads them on first run) and wait until healthy
  down     stop them
  status   show each process, its endpoint and log file
  start    up, then the API on PORT (default 8008) in the foreground; Ctrl-C stops all (npm start)
  reset    down, then delete the data folder (every stored event)`;

async function main(): Promise<number> {
  const command = process.argv[2];
  const settings = readStackSettings(process.env);
  switch (command) {
    case 'up': {
      const stack = await open(settings, true);
      await stack.up();
      return (await printStatus(stack)) ? 0 : 1;
    }
    case 'down':
      await (await open(settings)).down();
      return 0;
    case 'status':
      return (await printStatus(await open(settings))) ? 0 : 3;
    case 'start':
      return start(settings);
    case 'reset': {
      const stack = await open(settings);
      await stack.down();
      stack.destroy();
      log(`deleted ${stack.dataDir}`);
      return 0;
    }
    default:
      console.error(USAGE);
      return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`[stack] ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
