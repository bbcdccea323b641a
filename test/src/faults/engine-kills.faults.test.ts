/** Kafka and ClickHouse SIGKILLed under the load and started again. */
import { test } from 'node:test';
import { clickhouseOutage, kafkaRestart } from './scenarios';

test('Kafka SIGKILLed under the load, started again 5 s later: 503s meanwhile, never a false 200 or a 500; every event stored exactly once', async () => {
  await kafkaRestart({ fault: 'kafka-kill', downMs: 5000, kill: true });
});

test('ClickHouse SIGKILLed under the load, started again 5 s later: the gateway keeps accepting, the writer retries, every event stored exactly once', async () => {
  await clickhouseOutage({ fault: 'clickhouse-kill', downMs: 5000, kill: true });
});
