import { CompressionTypes, Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from '@trackstream/runtime';

export interface OutgoingMessage {
  key: string | Buffer;
  value: Buffer;
  headers?: Record<string, string>;
}

export interface ProducedRecord {
  partition: number;
  /** Offset of the first message written to that partition by this send. */
  baseOffset: string;
}

/** Kafka did not acknowledge in time, or is unreachable: the caller answers 503. */
export class ProduceUnavailableError extends Error {
  override readonly name = 'ProduceUnavailableError';
}

export interface MessageProducer {
  start(): Promise<void>;
  /** Resolves once every in-sync replica acknowledged all `messages` (acks = all). */
  send(topic: string, messages: readonly OutgoingMessage[]): Promise<ProducedRecord[]>;
  stop(): Promise<void>;
  /** Connected to the cluster at the last attempt. */
  readonly connected: boolean;
}

export interface ProducerOptions {
  logger: Logger;
  /** Upper bound for one send, connection included; past it the send fails with 503. */
  sendTimeoutMs: number;
  compression: 'none' | 'gzip';
}

/**
 * Our producer interface over kafkajs. Start-up never blocks on Kafka: when the broker is
 * down the service still starts and answers 503 until it is back.
 */
export function createProducer(kafka: Kafka, opts: ProducerOptions): MessageProducer {
  const log = opts.logger.child({ component: 'producer' });
  let producer: Producer | undefined;
  let connecting: Promise<Producer> | undefined;
  let connected = false;
  let stopped = false;

  const connect = (): Promise<Producer> => {
    if (producer && connected) return Promise.resolve(producer);
    connecting ??= (async () => {
      const p = producer ?? kafka.producer({
        // murmur2 on the key, as the Java client: a task maps to the same partition from any producer.
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: false, retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 } });
      producer = p;
      p.on(p.events.DISCONNECT, () => {
        connected = false;
      });
      p.on(p.events.CONNECT, () => {
        connected = true;
      });
      await p.connect();
      connected = true;
      return p;
    })().finally(() => {
      connecting = undefined;
    });
    return connecting;
  };

  const withTimeout = <T>(work: Promise<T>, what: string): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ProduceUnavailableError(`${what}: no acknowledgement within ${opts.sendTimeoutMs} ms`)), opts.sendTimeoutMs);
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  };

  return {
    get connected() {
      return connected;
    },
    async start() {
      // Connect in the background; the first sends wait for it within their own timeout.
      connect().catch((e: unknown) => log.warn({ err: e }, 'Kafka not reachable yet; requests get 503 until it is'));
    },
    async send(topic, messages) {
      if (stopped) throw new ProduceUnavailableError('producer stopped');
      try {
        return await withTimeout(
          (async () => {
            const p = await connect();
            const res = await p.send({
              topic,
              acks: -1,
              timeout: opts.sendTimeoutMs,
              compression: opts.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
              messages: messages.map((m) => ({ key: m.key, value: m.value, ...(m.headers ? { headers: m.headers } : {}) })),
            });
            return res.map((r) => ({ partition: r.partition, baseOffset: r.baseOffset ?? r.offset ?? '-1' }));
          })(),
          'produce',
        );
      } catch (e) {
        if (e instanceof ProduceUnavailableError) throw e;
        throw new ProduceUnavailableError(`produce failed: ${(e as Error).message}`, { cause: e });
      }
    },
    async stop() {
      stopped = true;
      await producer?.disconnect().catch(() => undefined);
      connected = false;
    },
  };
}
