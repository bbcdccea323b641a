import { CompressionTypes, Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from '@trackstream/runtime';

export interface OutgoingMessage {
  key: string | Buffer;
  value: Buffer;
  headers?: Record<string, string>;
}

export interface ProducedRecord {
  partition: number;
  /** Offset of the first message written to that partition by the produce request that carried the send. */
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
  /**
   * Sends made within this many ms of each other go to Kafka as one produce request (0: those
   * of the same turn of the event loop). Absent: every send is its own request.
   */
  lingerMs?: number;
}

/**
 * The most one produce request may carry: the brokers' `message.max.bytes` (16 MiB in every
 * deployment of this repo: deploy/local, docker-compose) bounds each partition's record batch,
 * and all of a request's messages for one partition form one batch. 64 KiB are left for the
 * batch's and its records' own framing.
 */
export const MAX_PRODUCE_BYTES = 16 * 1024 * 1024 - 64 * 1024;
/** Framing of one record in a batch (lengths, deltas, attributes), generously. */
const RECORD_OVERHEAD = 64;

/** What a message takes of MAX_PRODUCE_BYTES. */
export function recordBytes(m: OutgoingMessage): number {
  return m.value.length + Buffer.byteLength(m.key) + RECORD_OVERHEAD;
}

/** Sends waiting to go out together: one topic's messages, in the order they were sent. */
interface Pending {
  topic: string;
  messages: OutgoingMessage[];
  bytes: number;
  waiters: Array<{ resolve: (r: ProducedRecord[]) => void; reject: (e: unknown) => void }>;
}

/**
 * Our producer interface over kafkajs. Start-up never blocks on Kafka: when the broker is
 * down the service still starts and answers 503 until it is back.
 *
 * With `lingerMs`, concurrent sends are coalesced: one produce request (and one record batch
 * per partition) for many callers costs the client and the broker far less than one each. Each
 * caller's messages stay in its order, and a caller resolves (or fails) with the request that
 * carried them; a request never exceeds MAX_PRODUCE_BYTES (a send that would make it larger
 * starts the next one).
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

  let pending: Pending | undefined;
  let lingerTimer: NodeJS.Timeout | undefined;

  /** Sends the pending messages as one request; every waiter gets its outcome. */
  const flush = (): void => {
    const p = pending;
    if (!p) return;
    pending = undefined;
    if (lingerTimer) clearTimeout(lingerTimer);
    lingerTimer = undefined;
    sendNow(p.topic, p.messages).then(
      (records) => {
        for (const w of p.waiters) w.resolve(records);
      },
      (e: unknown) => {
        for (const w of p.waiters) w.reject(e);
      },
    );
  };

  const withTimeout = <T>(work: Promise<T>, what: string): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ProduceUnavailableError(`${what}: no acknowledgement within ${opts.sendTimeoutMs} ms`)), opts.sendTimeoutMs);
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  };

  const sendNow = async (topic: string, messages: readonly OutgoingMessage[]): Promise<ProducedRecord[]> => {
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
  };

  return {
    get connected() {
      return connected;
    },
    async start() {
      // Connect in the background; the first sends wait for it within their own timeout.
      connect().catch((e: unknown) => log.warn({ err: e }, 'Kafka not reachable yet; requests get 503 until it is'));
    },
    send(topic, messages) {
      if (stopped) return Promise.reject(new ProduceUnavailableError('producer stopped'));
      if (opts.lingerMs === undefined) return sendNow(topic, messages);
      let bytes = 0;
      for (const m of messages) bytes += recordBytes(m);
      if (pending && (pending.topic !== topic || pending.bytes + bytes > MAX_PRODUCE_BYTES)) flush();
      if (!pending) {
        pending = { topic, messages: [], bytes: 0, waiters: [] };
        if (opts.lingerMs > 0) lingerTimer = setTimeout(flush, opts.lingerMs);
        else setImmediate(flush);
      }
      const p = pending;
      for (const m of messages) p.messages.push(m);
      p.bytes += bytes;
      return new Promise<ProducedRecord[]>((resolve, reject) => p.waiters.push({ resolve, reject }));
    },
    async stop() {
      stopped = true;
      flush();
      await producer?.disconnect().catch(() => undefined);
      connected = false;
    },
  };
}
