/**
 * A service (gateway, writer or query) as a child process running its `dist/main.js`, configured
 * through the environment from a pipeline's settings, so a test can kill it (SIGKILL as a crash,
 * SIGTERM as a deploy) and start it again on the same port, as an orchestrator would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { allInOneConfigSpec, type AllInOneConfig } from '@trackstream/all-in-one';
import { freePort, repoRoot, waitFor } from '@trackstream/local-stack';

export type ServiceName = 'gateway' | 'writer' | 'query' | 'all-in-one';

export interface ServiceProcess {
  readonly name: ServiceName;
  /** The same across restarts: clients keep their address. */
  readonly port: number;
  readonly url: string;
  /** Of the current process. */
  readonly pid: number;
  /** Whether the current process is still running. */
  readonly running: boolean;
  /** Stops the current process with `signal` (SIGTERM by default); resolves when it is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the service again on its port (after kill); resolves once it is healthy. */
  start(): Promise<void>;
  /** kill(signal), then start(). */
  restart(signal?: NodeJS.Signals): Promise<void>;
  /** Text of the service's /metrics. */
  metrics(): Promise<string>;
}

export interface ServiceProcessOptions {
  /** Variables over the pipeline's settings (e.g. WRITER_BATCH_MS). */
  env?: Record<string, string>;
  /** Listen on this port (default: a free one). */
  port?: number;
  /** How long start() waits for /health (default 60 s). */
  healthTimeoutMs?: number;
}

/**
 * The environment giving a service the settings of `config`: every variable of the all-in-one
 * spec (a superset of each service's), so the child sees exactly what the in-process pipeline does.
 */
export function serviceEnv(config: AllInOneConfig, overrides: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, field] of Object.entries(allInOneConfigSpec)) {
    const value = (config as Record<string, unknown>)[key];
    if (value !== undefined && value !== '') env[field.env] = String(value);
  }
  return { ...env, ...overrides };
}

export async function startServiceProcess(name: ServiceName, config: AllInOneConfig, opts: ServiceProcessOptions = {}): Promise<ServiceProcess> {
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const main = join(repoRoot(), 'services', name, 'dist', 'main.js');
  const env = { ...process.env, ...serviceEnv(config, { LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'error', ...opts.env }), PORT: String(port) };
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const alive = (c: ChildProcess | undefined): c is ChildProcess => c !== undefined && c.exitCode === null && c.signalCode === null;

  const start = async (): Promise<void> => {
    if (alive(child)) throw new Error(`${name} is already running (pid ${child.pid})`);
    const c = spawn(process.execPath, [main], { stdio: ['ignore', 'ignore', 'inherit'], env });
    child = c;
    exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    await waitFor(
      async () => {
        if (c.exitCode !== null || c.signalCode !== null) throw new Error(`${name} exited with ${c.exitCode ?? c.signalCode}`);
        const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
        return res.ok;
      },
      { timeoutMs: opts.healthTimeoutMs ?? 60_000, what: `the ${name} process to be healthy` },
    );
  };

  const kill = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (alive(child)) child.kill(signal);
    await exited;
  };

  await start();
  return {
    name,
    port,
    url,
    get pid() {
      return child?.pid ?? -1;
    },
    get running() {
      return alive(child);
    },
    kill,
    start,
    async restart(signal: NodeJS.Signals = 'SIGTERM') {
      await kill(signal);
      await start();
    },
    async metrics() {
      return (await fetch(`${url}/metrics`)).text();
    },
  };
}
