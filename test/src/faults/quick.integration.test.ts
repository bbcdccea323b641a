/**
 * The fast subset of the fault suite that `npm test` runs: a short Kafka stop and restart, and a
 * short Kafka freeze past the produce timeout, each under the retrying SDK-like load and ending
 * with an exact count. (The writer's SIGKILL is in `npm test` through
 * writer/writer-faults.integration.test.ts.) `npm run test:faults` runs the full versions.
 */
import { test } from 'node:test';
import { kafkaFreeze, kafkaRestart } from './scenarios';

test('quick: Kafka stopped for 3 s and restarted: 503s meanwhile, then everything arrives exactly once', async () => {
  await kafkaRestart({ fault: 'quick-kafka-restart', downMs: 3000 });
});

test('quick: Kafka frozen for 3 s past the produce timeout: the late copies of 503 answers collapse, log lines included', async () => {
  await kafkaFreeze({ fault: 'quick-kafka-freeze', frozenMs: 3000 });
});
