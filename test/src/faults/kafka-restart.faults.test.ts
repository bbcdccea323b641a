/** The Kafka broker stopped and restarted mid-load. */
import { test } from 'node:test';
import { kafkaRestart } from './scenarios';

test('Kafka stopped for 15 s and restarted: 503s meanwhile, never a false 200; client retries bring everything, stored exactly once', async () => {
  await kafkaRestart({ fault: 'kafka-restart', downMs: 15_000 });
});
