/**
 * Issue 3, `npm run bench -- gateway`: sustained events/s through the gateway's HTTP API
 * (events.add_batch, json-lines bodies of SDK-shaped scalars) with C keep-alive clients, and in
 * the same run its ceiling: kafkajs producing the very messages the gateway would publish
 * (packEvents, same sizes, same keys, acks=-1, same concurrency) into a topic of its own.
 *
 * The gateway runs alone (no writer) in a child process, services/gateway/dist/main.js as
 * deployed: its CPU time (process_cpu_seconds_total of its /metrics, i.e. its process.cpuUsage())
 * then excludes the load generator, which runs here. The ceiling's producer runs in this
 * process, whose CPU is what it costs. Both share the machine with Kafka (and the ceiling has
 * no HTTP client beside it): on few cores that is part of what the ratio shows.
 */
import { CompressionTypes, Partitioners } from 'kafkajs';
import { createKafka, ensureTopics, parseBrokers } from '@trackstream/kafka';
import { createLogger } from '@trackstream/runtime';
import { describeCpu, ownCpuSeconds, stackCpuSeconds } from './cpu';
import { batchReports, gatewayMessages, jsonLines } from './data';
import type { Benchmark } from './harness';
import { HttpClient } from './http-client';
import { closedLoop, type ClosedLoopResult } from './load';
import { histogramBuckets } from './metrics-text';
import { fixed, int, pct, progress } from './progress';
import type { Table } from './report';
import { pipelineConfig, pipelineEnv, serviceCpu, startService, uniqueId, type ServiceProcess } from './services';
import { parseVariants } from './variants';
import { bucketDelta, bucketQuantile, medianBy } from './stats';

const BATCH_SIZES = [100, 1000];
const CONCURRENCY = 8;
/** Tasks the requests go to in turn (one task per request, as one SDK flush): the key spread. */
const TASKS = 32;
/** Distinct request bodies, prepared up front and sent in turn, so generating load costs little. */
const RING = 128;
const TARGET_RATIO = 0.5;
/** Gateway + ceiling pairs per batch size in a full run: on a shared machine one pair can be off by a lot. */
const ROUNDS = 3;
/** Names of the processes whose CPU is measured, besides Kafka and ClickHouse. */
const GATEWAY = 'gateway';
const PRODUCER = 'kafkajs producer';

type Figures = Omit<ClosedLoopResult, 'samples'>;

interface Round {
  gateway: Figures & { kafkaAckMs: { p50: number; p99: number } };
  ceiling: Figures;
  ratio: number;
}

interface SizeResult {
  /** The gateway's settings (--variant), 'default' without any. */
  variant: string;
  batchSize: number;
  bodyBytes: number;
  messageBytes: number;
  rounds: Round[];
  /** The round of the median ratio, which the tables show. */
  median: Round;
}

export const gatewayBenchmark: Benchmark = {
  name: 'gateway',
  description: 'events/s through events.add_batch (batches of 100 and 1,000) vs raw kafkajs produce of the same messages',
  async run({ stack, quick, defer }) {
    const warmupMs = quick ? 2000 : 5000;
    const durationMs = quick ? 5000 : 20_000;
    const id = uniqueId('gw');
    const env = pipelineEnv(stack, id);
    const config = pipelineConfig(env);

    const variants = parseVariants(process.argv.slice(2));
    const gateways: Array<{ name: string; process: ServiceProcess; http: HttpClient }> = [];
    for (const v of variants) {
      progress(`starting the gateway process (no writer)${v.name === 'default' ? '' : `, variant ${v.name}`}`);
      const gateway = await startService('gateway', { ...env, ...v.env });
      defer(() => gateway.stop());
      await gateway.healthy();
      const http = new HttpClient(gateway.url, CONCURRENCY);
      defer(() => http.close());
      gateways.push({ name: v.name, process: gateway, http });
    }

    const kafka = createKafka({ brokers: parseBrokers(config.kafkaBrokers), clientId: 'bench-ceiling', logger: createLogger({ service: 'bench', level: 'warn' }) });
    const ceilingTopic = `${id}.ceiling`;
    await ensureTopics(kafka, [{ topic: ceilingTopic, numPartitions: config.kafkaEventsPartitions }]);
    // As the gateway's producer (packages/kafka/src/producer.ts): murmur2 keys, no compression.
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await producer.connect();
    defer(() => producer.disconnect());

    const results: SizeResult[] = [];
    for (const size of BATCH_SIZES) {
      progress(`batches of ${size}: preparing ${RING} request bodies and their Kafka messages`);
      const batches = Array.from({ length: RING }, (_, r) => batchReports(r, size, TASKS));
      const bodies = batches.map(jsonLines);
      const messages = batches.map((b) => gatewayMessages(b, Date.now()));
      const common = { concurrency: CONCURRENCY, warmupMs, durationMs, eventsPerOp: size };

      const rounds = new Map<string, Round[]>(gateways.map((g) => [g.name, []]));
      for (let k = 1; k <= (quick ? 1 : ROUNDS); k++) {
        for (const { name, process: gateway, http } of gateways) {
          const gw = await closedLoop({
            ...common,
            label: `gateway${name === 'default' ? '' : ` (${name})`}, batches of ${size}, round ${k}`,
            async sample() {
              const g = await serviceCpu(gateway);
              return { cpuSeconds: { [GATEWAY]: g.cpuSeconds, 'load generator': ownCpuSeconds(), ...(await stackCpuSeconds(stack)) }, metrics: g.metrics };
            },
            async op(seq) {
              const reply = await http.post('/events.add_batch', bodies[seq % RING] as Buffer, 'application/json-lines');
              const added = reply.status === 200 ? (JSON.parse(reply.body) as { data: { added: number } }).data.added : -1;
              if (added !== size) throw new Error(`events.add_batch answered ${reply.status}: ${reply.body.slice(0, 300)}`);
            },
          });
          const ceiling = await closedLoop({
            ...common,
            label: `kafkajs ceiling, batches of ${size}, round ${k}`,
            sample: async () => ({ cpuSeconds: { [PRODUCER]: ownCpuSeconds(), ...(await stackCpuSeconds(stack)) } }),
            async op(seq) {
              await producer.send({ topic: ceilingTopic, acks: -1, compression: CompressionTypes.None, messages: messages[seq % RING] ?? [] });
            },
          });
          const ack = bucketDelta(
            histogramBuckets(gw.samples[1].metrics ?? '', 'gateway_produce_duration_seconds'),
            histogramBuckets(gw.samples[0].metrics ?? '', 'gateway_produce_duration_seconds'),
          );
          const { samples: _g, ...gwFigures } = gw;
          const { samples: _c, ...ceilingFigures } = ceiling;
          rounds.get(name)?.push({
            gateway: { ...gwFigures, kafkaAckMs: { p50: bucketQuantile(ack, 0.5) * 1000, p99: bucketQuantile(ack, 0.99) * 1000 } },
            ceiling: ceilingFigures,
            ratio: gw.eventsPerSec / ceiling.eventsPerSec,
          });
          progress(`batches of ${size}, round ${k}${name === 'default' ? '' : ` (${name})`}: gateway / ceiling = ${pct(gw.eventsPerSec / ceiling.eventsPerSec)}, gateway CPU ${fixed(gw.cpuMsPer1000Events[GATEWAY] ?? NaN)} ms / 1k events`);
        }
      }
      for (const [variant, rs] of rounds) {
        results.push({
          variant,
          batchSize: size,
          bodyBytes: mean(bodies.map((b) => b.length)),
          messageBytes: mean(messages.flat().map((m) => m.value.length)),
          rounds: rs,
          median: medianBy(rs, (r) => r.ratio),
        });
      }
    }

    return {
      params: { variants, concurrency: CONCURRENCY, warmupMs, durationMs, rounds: quick ? 1 : ROUNDS, tasks: TASKS, distinctBodies: RING, partitions: config.kafkaEventsPartitions, targetRatio: TARGET_RATIO },
      results: { bySize: results },
      tables: [throughputTable(results), latencyTable(results), cpuTable(results)],
      notes: [
        `${CONCURRENCY} closed-loop clients (HTTP keep-alive), warm-up ${warmupMs / 1000} s, measured ${durationMs / 1000} s; one task per request, ${TASKS} tasks in turn.`,
        `Gateway and ceiling run in turn, ${quick ? 1 : ROUNDS} time(s) per batch size; the tables show the round of the median ratio.`,
        ...(variants.length > 1 ? [`Variants (each its own gateway process, run in turn within every round): ${variants.map((v) => `${v.name} = ${JSON.stringify(v.env)}`).join('; ')}.`] : []),
        'Gateway: its own process, no writer; CPU = its process.cpuUsage() (process_cpu_seconds_total) over the window. Ceiling: kafkajs in the bench process, acks=-1, the same messages and keys; CPU = the bench process.',
        "Kafka ack = the gateway's gateway_produce_duration_seconds histogram (bucket-interpolated).",
      ],
    };
  },
};

function mean(xs: readonly number[]): number {
  return xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
}

function throughputTable(rs: readonly SizeResult[]): Table {
  return {
    title: 'Throughput: gateway (events.add_batch) vs kafkajs ceiling',
    columns: ['variant', 'batch', 'gateway events/s', 'gateway req/s', 'ceiling events/s', 'gateway / ceiling', 'ratio by round', `target >= ${pct(TARGET_RATIO)}`, 'gateway CPU ms / 1k events', 'ceiling CPU ms / 1k events', 'errors'],
    rows: rs.map(({ variant, batchSize, rounds, median: m }) => [
      variant,
      batchSize,
      int(m.gateway.eventsPerSec),
      int(m.gateway.opsPerSec),
      int(m.ceiling.eventsPerSec),
      pct(m.ratio),
      rounds.map((r) => pct(r.ratio)).join(', '),
      m.ratio >= TARGET_RATIO ? 'met' : 'MISSED',
      fixed(m.gateway.cpuMsPer1000Events[GATEWAY] ?? NaN),
      fixed(m.ceiling.cpuMsPer1000Events[PRODUCER] ?? NaN),
      rounds.reduce((n, r) => n + r.gateway.errors + r.ceiling.errors, 0),
    ]),
  };
}

function latencyTable(rs: readonly SizeResult[]): Table {
  return {
    title: 'Latency per request (ms)',
    columns: ['variant', 'batch', 'body bytes', 'message bytes', 'gateway p50', 'gateway p99', 'of which Kafka ack p50', 'Kafka ack p99', 'ceiling p50', 'ceiling p99'],
    rows: rs.map(({ variant, batchSize, bodyBytes, messageBytes, median: m }) => [
      variant,
      batchSize,
      int(bodyBytes),
      int(messageBytes),
      fixed(m.gateway.latencyMs.p50),
      fixed(m.gateway.latencyMs.p99),
      fixed(m.gateway.kafkaAckMs.p50),
      fixed(m.gateway.kafkaAckMs.p99),
      fixed(m.ceiling.latencyMs.p50),
      fixed(m.ceiling.latencyMs.p99),
    ]),
  };
}

/** Where the CPU went in each run: per 1,000 events, and cores kept busy, by process. */
function cpuTable(rs: readonly SizeResult[]): Table {
  const row = (variant: string, batch: number, run: string, r: Figures): Array<string | number> => {
    const total = Object.values(r.coresBusy).reduce((s, c) => s + c, 0);
    return [variant, batch, run, describeCpu(r.cpuMsPer1000Events), describeCpu(r.coresBusy, 2), fixed(total, 2)];
  };
  return {
    title: 'CPU by process',
    columns: ['variant', 'batch', 'run', 'CPU ms / 1k events', 'cores busy', 'cores busy, total'],
    rows: rs.flatMap((r) => [row(r.variant, r.batchSize, 'gateway', r.median.gateway), row(r.variant, r.batchSize, 'ceiling', r.median.ceiling)]),
  };
}
