import { Kafka, logLevel, type LogEntry, type logCreator } from 'kafkajs';
import type { Logger } from '@trackstream/runtime';

export interface KafkaSettings {
  brokers: readonly string[];
  clientId: string;
  logger: Logger;
}

/** kafkajs's own log lines, routed to our JSON logger at the matching level. */
function pinoLogCreator(logger: Logger): logCreator {
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...extra } = log;
      const fields = { kafka: extra };
      // kafkajs logs every failed retry as an error; the caller logs the failure that matters.
      if (level === logLevel.ERROR || level === logLevel.WARN) logger.warn(fields, message);
      else if (level === logLevel.INFO) logger.debug(fields, message);
      else logger.trace(fields, message);
    };
}

/** The one place a kafkajs client is made, so another client library can replace it here. */
export function createKafka(s: KafkaSettings): Kafka {
  return new Kafka({
    clientId: s.clientId,
    brokers: [...s.brokers],
    logLevel: logLevel.WARN,
    logCreator: pinoLogCreator(s.logger.child({ component: 'kafkajs' })),
    connectionTimeout: 3000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 100, retries: 5, maxRetryTime: 2000 },
  });
}

export function parseBrokers(list: string): string[] {
  return list
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
}
