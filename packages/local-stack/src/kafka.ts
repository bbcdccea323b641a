import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { Component, Log } from './component';
import { spawnDaemon } from './proc';
import { runCommand } from './run-command';

export interface KafkaOptions {
  repoRoot: string;
  cacheDir: string;
  dataDir: string;
  port: number;
  controllerPort: number;
  heapMb: number;
  /** The broker's version (default: the pom's kafka.version); each version has its own jar cache. */
  version?: string;
  log: Log;
}

const POM = ['deploy', 'local', 'kafka', 'pom.xml'];
/**
 * The oldest broker version Trackstream supports (docs/operations.md); `npm test` runs the Kafka
 * conformance tests against it beside the pom's default.
 */
export const OLDEST_SUPPORTED_KAFKA = '3.9.1';
const LOG4J2 = ['deploy', 'local', 'kafka', 'log4j2.xml'];

/** The Kafka version the pom pins; the jar cache is keyed by it. */
export function kafkaVersion(repoRoot: string): string {
  const pom = readFileSync(join(repoRoot, ...POM), 'utf8');
  const m = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom);
  if (!m?.[1]) throw new Error('deploy/local/kafka/pom.xml has no <kafka.version>');
  return m[1];
}

/** Apache Kafka in KRaft mode (one combined broker and controller), run from Maven Central's jars. */
export function kafkaComponent(o: KafkaOptions): Component {
  const version = o.version ?? kafkaVersion(o.repoRoot);
  const libs = join(o.cacheDir, 'kafka', version, 'libs');
  const complete = join(o.cacheDir, 'kafka', version, '.complete');
  const home = join(o.dataDir, 'kafka');
  const logDirs = join(home, 'data');
  const props = join(home, 'server.properties');
  const log4j = join(home, 'log4j.properties');
  const brokers = `127.0.0.1:${o.port}`;

  async function ensureJars(): Promise<void> {
    if (existsSync(complete)) return;
    o.log(`Kafka ${version}: resolving the broker's jars from Maven Central (first run only, about 50 MB)...`);
    let count = 0;
    await runCommand(
      'mvn',
      ['-B', '-f', join(o.repoRoot, ...POM), 'dependency:copy-dependencies', `-Dkafka.version=${version}`, `-DoutputDirectory=${libs}`],
      {
        onLine: (line) => {
          const m = /Downloaded from \S+: \S+\/([^/\s]+\.jar) \(([^)]+?)(?: at [^)]*)?\)/.exec(line);
          if (m) o.log(`  [${++count}] ${m[1]} (${m[2]})`);
        },
      },
    );
    const jars = readdirSync(libs).filter((f) => f.endsWith('.jar'));
    if (!jars.some((j) => j.startsWith(`kafka_2.13-${version}`))) throw new Error(`kafka_2.13-${version}.jar missing from ${libs}`);
    writeFileSync(complete, `${jars.join('\n')}\n`);
    o.log(`Kafka ${version}: ${jars.length} jars cached in ${libs}`);
  }

  function writeConfig(): void {
    mkdirSync(logDirs, { recursive: true });
    const lines = [
      '# Written by the local stack on every start; edit packages/local-stack/src/kafka.ts instead.',
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${o.controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${o.port},CONTROLLER://127.0.0.1:${o.controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${o.port}`,
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      `log.dirs=${logDirs}`,
      // One node: internal topics cannot have more than one replica.
      'offsets.topic.replication.factor=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      // Topics are created by the services with the partition count they need.
      'auto.create.topics.enable=false',
      'num.partitions=1',
      // A consumer group forms at once instead of after 3 s (tests and restarts).
      'group.initial.rebalance.delay.ms=0',
      // Sized for a laptop or a 2-core CI machine.
      'num.network.threads=2',
      'num.io.threads=4',
      'background.threads=4',
      'log.retention.hours=168',
      'log.segment.bytes=268435456',
      'message.max.bytes=16777216',
      'replica.fetch.max.bytes=16777216',
      '',
    ];
    writeFileSync(props, lines.join('\n'));
    writeFileSync(
      log4j,
      [
        'log4j.rootLogger=INFO, stdout',
        'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
        'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
        'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
        'log4j.logger.kafka=INFO',
        'log4j.logger.org.apache.kafka=INFO',
        'log4j.logger.kafka.request.logger=WARN',
        'log4j.logger.state.change.logger=WARN',
        'log4j.logger.kafka.log.LogCleaner=WARN',
        '',
      ].join('\n'),
    );
  }

  function javaArgs(mainClass: string, args: readonly string[]): string[] {
    return [
      `-Xms${Math.min(128, o.heapMb)}m`,
      `-Xmx${o.heapMb}m`,
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      '-XX:+ExitOnOutOfMemoryError',
      '-Djava.awt.headless=true',
      `-Dlog4j.configuration=file:${log4j}`,
      `-Dlog4j2.configurationFile=${join(o.repoRoot, ...LOG4J2)}`,
      `-Dkafka.logs.dir=${join(home, 'logs')}`,
      '-cp',
      `${libs}/*`,
      mainClass,
      ...args,
    ];
  }

  /** KRaft storage must be formatted once with a cluster id before the first start. */
  async function formatStorage(): Promise<void> {
    if (existsSync(join(logDirs, 'meta.properties'))) return;
    // A Kafka Uuid is 16 random bytes in unpadded base64url. It may start with '-', which the
    // tool's argument parser would take for an option unless it is joined to its name.
    const clusterId = randomBytes(16).toString('base64url');
    o.log(`Kafka: formatting KRaft storage in ${logDirs}`);
    await runCommand(java(), javaArgs('kafka.tools.StorageTool', ['format', `--cluster-id=${clusterId}`, '--config', props]));
  }

  return {
    name: 'kafka',
    startTimeoutSec: 120,
    stopGraceMs: 30_000,
    logFile: join(home, 'kafka.log'),
    pidFile: join(home, 'kafka.pid'),
    endpoint: brokers,
    dataFolder: logDirs,
    async prepare() {
      await checkJava();
      await ensureJars();
    },
    async start() {
      writeConfig();
      await formatStorage();
      return spawnDaemon({
        command: java(),
        args: javaArgs('kafka.Kafka', [props]),
        logFile: join(home, 'kafka.log'),
        pidFile: join(home, 'kafka.pid'),
        cwd: home,
      });
    },
    async healthy() {
      return metadataRequestSucceeds(brokers);
    },
  };
}

function java(): string {
  const home = process.env['JAVA_HOME'];
  return home ? join(home, 'bin', 'java') : 'java';
}

async function checkJava(): Promise<void> {
  const out = await runCommand(java(), ['-version']).catch((e: Error) => {
    throw new Error(`Java 17 or newer is needed to run Kafka: ${e.message}`);
  });
  const m = /version "(\d+)(?:\.(\d+))?/.exec(out);
  const major = m ? Number(m[1] === '1' ? m[2] : m[1]) : 0;
  if (major < 17) throw new Error(`Java 17 or newer is needed to run Kafka; found: ${out.split('\n')[0] ?? out}`);
}

/** Healthy means the broker answers a metadata request (it lists itself as a broker). */
export async function metadataRequestSucceeds(brokers: string): Promise<boolean> {
  const kafka = new Kafka({
    clientId: 'trackstream-stack-probe',
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 2000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
