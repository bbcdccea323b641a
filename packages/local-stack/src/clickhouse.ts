import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Component, Log } from './component';
import { spawnDaemon } from './proc';
import { runCommand } from './run-command';
import { ensureVenv } from './venv';

export interface ClickHouseOptions {
  repoRoot: string;
  cacheDir: string;
  dataDir: string;
  port: number;
  /** Native-protocol port, used only by a real server. */
  tcpPort: number;
  log: Log;
}

export type ClickHouseEngine = { kind: 'server'; binary: string; version: string } | { kind: 'chdb' };

const MIN_SERVER = [24, 8] as const;
const FRONT = ['deploy', 'local', 'clickhouse'];

/**
 * A real `clickhouse` binary on PATH (24.8 or newer: the schema uses its projection settings) is preferred; otherwise chDB, the
 * ClickHouse engine built as a library, behind our HTTP front. Debian's `clickhouse-server`
 * package (18.16) is refused by the version check: it lacks query parameters.
 */
export async function detectEngine(env: NodeJS.ProcessEnv = process.env): Promise<ClickHouseEngine> {
  if (env['TRACKSTREAM_CLICKHOUSE_ENGINE'] === 'chdb') return { kind: 'chdb' };
  const binary = env['TRACKSTREAM_CLICKHOUSE_BINARY'] || 'clickhouse';
  try {
    const out = await runCommand(binary, ['--version']);
    const m = /version (\d+)\.(\d+)[.\d]*/i.exec(out);
    if (m) {
      const major = Number(m[1]);
      const minor = Number(m[2]);
      if (major > MIN_SERVER[0] || (major === MIN_SERVER[0] && minor >= MIN_SERVER[1])) {
        return { kind: 'server', binary, version: `${major}.${minor}` };
      }
    }
  } catch {
    // No binary on PATH: chDB.
  }
  return { kind: 'chdb' };
}

export function clickhouseComponent(o: ClickHouseOptions, engine: ClickHouseEngine): Component {
  return engine.kind === 'server' ? serverComponent(o, engine.binary) : chdbComponent(o);
}

function probe(port: number): () => Promise<boolean> {
  return async () => {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/ping`, { signal: AbortSignal.timeout(2000) });
      return res.ok && (await res.text()).startsWith('Ok.');
    } catch {
      return false;
    }
  };
}

/** What both ways of running ClickHouse share: files, timeouts, endpoint and health probe. */
function common(o: ClickHouseOptions): Omit<Component, 'prepare' | 'start'> {
  const home = join(o.dataDir, 'clickhouse');
  return {
    name: 'clickhouse',
    startTimeoutSec: 60,
    stopGraceMs: 20_000,
    logFile: join(home, 'clickhouse.log'),
    pidFile: join(home, 'clickhouse.pid'),
    endpoint: `http://127.0.0.1:${o.port}`,
    dataFolder: join(home, 'data'),
    healthy: probe(o.port),
  };
}

function serverComponent(o: ClickHouseOptions, binary: string): Component {
  const home = join(o.dataDir, 'clickhouse');
  const config = join(home, 'config.xml');
  const base = common(o);
  return {
    ...base,
    async prepare() {},
    async start() {
      for (const d of ['data', 'tmp', 'user_files', 'format_schemas', 'log']) mkdirSync(join(home, d), { recursive: true });
      writeFileSync(config, serverConfig(home, o.port, o.tcpPort));
      writeFileSync(join(home, 'users.xml'), USERS_XML);
      return spawnDaemon({
        command: binary,
        args: ['server', `--config-file=${config}`],
        logFile: base.logFile,
        pidFile: base.pidFile,
        cwd: home,
      });
    },
  };
}

function serverConfig(home: string, httpPort: number, tcpPort: number): string {
  return `<?xml version="1.0"?>
<!-- Written by the local stack on every start; edit packages/local-stack/src/clickhouse.ts instead. -->
<clickhouse>
  <logger>
    <level>information</level>
    <console>1</console>
    <log>${join(home, 'log', 'server.log')}</log>
    <errorlog>${join(home, 'log', 'error.log')}</errorlog>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <path>${join(home, 'data')}/</path>
  <tmp_path>${join(home, 'tmp')}/</tmp_path>
  <user_files_path>${join(home, 'user_files')}/</user_files_path>
  <format_schema_path>${join(home, 'format_schemas')}/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>268435456</mark_cache_size>
  <max_server_memory_usage_to_ram_ratio>0.5</max_server_memory_usage_to_ram_ratio>
</clickhouse>
`;
}

const USERS_XML = `<?xml version="1.0"?>
<clickhouse>
  <profiles><default/></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
      <access_management>1</access_management>
    </default>
  </users>
  <quotas><default/></quotas>
</clickhouse>
`;

function chdbComponent(o: ClickHouseOptions): Component {
  const home = join(o.dataDir, 'clickhouse');
  const requirements = join(o.repoRoot, ...FRONT, 'requirements.txt');
  const script = join(o.repoRoot, ...FRONT, 'chdb_http.py');
  let python = '';
  const prepare = async (): Promise<void> => {
    python = await ensureVenv({
      requirements,
      cacheDir: o.cacheDir,
      name: 'chdb',
      log: o.log,
      what: "ClickHouse (no 'clickhouse' binary on PATH, so chDB)",
      sizeHint: 'about 270 MB',
    });
  };

  const base = common(o);
  return {
    ...base,
    prepare,
    async start() {
      if (python === '') await prepare();
      mkdirSync(join(home, 'data'), { recursive: true });
      return spawnDaemon({
        command: python,
        args: ['-u', script, '--host', '127.0.0.1', '--port', String(o.port), '--path', join(home, 'data')],
        logFile: base.logFile,
        pidFile: base.pidFile,
        cwd: home,
      });
    },
  };
}
