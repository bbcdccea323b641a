import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { clickhouseComponent, detectEngine, type ClickHouseEngine } from './clickhouse';
import type { Component, Log } from './component';
import { kafkaComponent } from './kafka';
import { defaultCacheDir, defaultDataDir, repoRoot } from './paths';
import { freePort, portInUse } from './ports';
import { isAlive, livePid, stopPid, tail } from './proc';

export type ComponentName = Component['name'];

export interface StackPorts {
  kafka: number;
  kafkaController: number;
  clickhouse: number;
  clickhouseTcp: number;
}

/** What `stack.json` in the data folder records, so every command and test finds the same stack. */
export interface StackState {
  dataDir: string;
  isolated: boolean;
  ports: StackPorts;
  clickhouseEngine: ClickHouseEngine;
  /** A Kafka version other than the pom's (a second broker of an older version, for tests). */
  kafkaVersion?: string;
}

export interface ComponentStatus {
  name: ComponentName;
  running: boolean;
  healthy: boolean;
  pid: number | undefined;
  endpoint: string;
  logFile: string;
}

export interface OpenOptions {
  dataDir?: string;
  cacheDir?: string;
  ports?: Partial<StackPorts>;
  kafkaHeapMb?: number;
  isolated?: boolean;
  kafkaVersion?: string;
  log?: Log;
}

export const DEFAULT_PORTS: StackPorts = { kafka: 9092, kafkaController: 9093, clickhouse: 8123, clickhouseTcp: 9000 };

/**
 * The local stack of one data folder: Apache Kafka and ClickHouse as processes of this machine.
 * Every operation is idempotent: `up` on a running stack only checks its health; a pid file
 * left by a crash is recognised as stale and replaced.
 */
export class LocalStack {
  private readonly components: Record<ComponentName, Component>;

  private constructor(
    readonly state: StackState,
    private readonly log: Log,
    cacheDir: string,
    kafkaHeapMb: number,
  ) {
    const root = repoRoot();
    this.components = {
      kafka: kafkaComponent({
        repoRoot: root,
        cacheDir,
        dataDir: state.dataDir,
        port: state.ports.kafka,
        controllerPort: state.ports.kafkaController,
        heapMb: kafkaHeapMb,
        ...(state.kafkaVersion ? { version: state.kafkaVersion } : {}),
        log,
      }),
      clickhouse: clickhouseComponent(
        { repoRoot: root, cacheDir, dataDir: state.dataDir, port: state.ports.clickhouse, tcpPort: state.ports.clickhouseTcp, log },
        state.clickhouseEngine,
      ),
    };
  }

  /**
   * Opens the stack of a data folder. A running stack keeps the ports it was started with;
   * otherwise the requested ports (or the defaults) are recorded for it.
   */
  static async open(opts: OpenOptions = {}): Promise<LocalStack> {
    const log = opts.log ?? ((line: string) => console.log(line));
    const dataDir = resolve(opts.dataDir ?? defaultDataDir());
    const cacheDir = opts.cacheDir ?? defaultCacheDir();
    const heap = Math.min(opts.kafkaHeapMb ?? 512, 512);
    const file = join(dataDir, 'stack.json');
    const requested: StackPorts = { ...DEFAULT_PORTS, ...opts.ports };
    if (existsSync(file)) {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as StackState;
      const stack = new LocalStack(saved, log, cacheDir, heap);
      const changing = opts.ports !== undefined && JSON.stringify(saved.ports) !== JSON.stringify(requested);
      if (!changing) return stack;
      if ((await stack.runningNames()).length > 0) {
        log(`The stack in ${dataDir} is already running on its recorded ports; run 'down' first to change them.`);
        return stack;
      }
    }
    mkdirSync(dataDir, { recursive: true });
    const state: StackState = {
      dataDir,
      isolated: opts.isolated ?? false,
      ports: requested,
      clickhouseEngine: await detectEngine(),
      ...(opts.kafkaVersion ? { kafkaVersion: opts.kafkaVersion } : {}),
    };
    writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`);
    return new LocalStack(state, log, cacheDir, heap);
  }

  /** A throwaway stack for tests: free ports, a temporary data folder; never touches a dev stack. */
  static async isolated(opts: { log?: Log; cacheDir?: string; kafkaVersion?: string; kafkaHeapMb?: number } = {}): Promise<LocalStack> {
    const dataDir = mkdtempSync(join(tmpdir(), 'trackstream-stack-'));
    const ports: StackPorts = {
      kafka: await freePort(),
      kafkaController: await freePort(),
      clickhouse: await freePort(),
      clickhouseTcp: await freePort(),
    };
    return LocalStack.open({ ...opts, dataDir, ports, isolated: true });
  }

  get dataDir(): string {
    return this.state.dataDir;
  }
  get kafkaBrokers(): string {
    return this.components.kafka.endpoint;
  }
  get clickhouseUrl(): string {
    return this.components.clickhouse.endpoint;
  }

  /** Where a component stores its data. */
  dataFolder(name: ComponentName): string {
    return this.components[name].dataFolder;
  }

  /** DISK_USAGE_PATHS for the services: this stack's data folders. */
  get diskUsagePaths(): string {
    return Object.values(this.components)
      .map((c) => `${c.name}=${c.dataFolder}`)
      .join(',');
  }

  /** Installs what is missing, starts what is not running, waits until both are healthy. */
  async up(): Promise<ComponentName[]> {
    const all = Object.values(this.components);
    // Downloads of both run at once: the first run is dominated by them.
    await Promise.all(all.map((c) => c.prepare()));
    const started: ComponentName[] = [];
    await Promise.all(
      all.map(async (c) => {
        if (await this.startOne(c)) started.push(c.name);
      }),
    );
    return started;
  }

  /** Stops every component (ClickHouse and Kafka in parallel; each gets its grace period). */
  async down(): Promise<void> {
    await Promise.all(Object.values(this.components).map((c) => this.stopOne(c)));
  }

  /** Starts one component (installing what it lacks first: a stack may run only its Kafka). */
  async start(name: ComponentName): Promise<void> {
    await this.components[name].prepare();
    await this.startOne(this.components[name]);
  }

  /** Stops one component; `kill` sends SIGKILL at once, as a crash would. */
  async stop(name: ComponentName, opts: { kill?: boolean } = {}): Promise<void> {
    await this.stopOne(this.components[name], opts.kill ? 'SIGKILL' : 'SIGTERM');
  }

  async status(): Promise<ComponentStatus[]> {
    return Promise.all(
      Object.values(this.components).map(async (c) => {
        const pid = livePid(c.pidFile, this.dataDir);
        return {
          name: c.name,
          running: pid !== undefined,
          healthy: pid !== undefined && (await c.healthy()),
          pid,
          endpoint: c.endpoint,
          logFile: c.logFile,
        };
      }),
    );
  }

  /** Removes the data folder; only for a stopped stack. */
  destroy(): void {
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  private async runningNames(): Promise<ComponentName[]> {
    return Object.values(this.components)
      .filter((c) => livePid(c.pidFile, this.dataDir) !== undefined)
      .map((c) => c.name);
  }

  private async startOne(c: Component): Promise<boolean> {
    const running = livePid(c.pidFile, this.dataDir);
    if (running !== undefined) {
      await this.waitHealthy(c, running);
      return false;
    }
    const port = Number(new URL(c.endpoint.includes('://') ? c.endpoint : `tcp://${c.endpoint}`).port);
    if (await portInUse(port)) {
      throw new Error(`${c.name}: port ${port} is taken by another program; choose other ports (see README, "Configuration")`);
    }
    this.log(`${c.name}: starting (log: ${c.logFile})`);
    const t0 = Date.now();
    const pid = await c.start();
    await this.waitHealthy(c, pid);
    this.log(`${c.name}: ready at ${c.endpoint} in ${((Date.now() - t0) / 1000).toFixed(1)} s (pid ${pid})`);
    return true;
  }

  private async waitHealthy(c: Component, pid: number): Promise<void> {
    const deadline = Date.now() + c.startTimeoutSec * 1000;
    while (Date.now() < deadline) {
      if (await c.healthy()) return;
      if (!isAlive(pid)) throw new Error(`${c.name} exited during start-up; the end of ${c.logFile}:\n${tail(c.logFile)}`);
      await sleep(250);
    }
    throw new Error(`${c.name} not healthy after ${c.startTimeoutSec} s; the end of ${c.logFile}:\n${tail(c.logFile)}`);
  }

  private async stopOne(c: Component, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const pid = livePid(c.pidFile, this.dataDir);
    if (pid === undefined) return;
    const how = await stopPid(pid, signal === 'SIGKILL' ? 0 : c.stopGraceMs, signal);
    rmSync(c.pidFile, { force: true });
    this.log(`${c.name}: ${signal === 'SIGKILL' ? 'killed' : how} (pid ${pid})`);
  }
}
