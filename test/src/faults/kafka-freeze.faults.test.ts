/** The Kafka broker frozen past the gateway's produce timeout: 503s for events Kafka appends later. */
import { test } from 'node:test';
import { kafkaFreeze } from './scenarios';

test('Kafka frozen for 8 s: requests answered 503 are appended late and sent again; every copy collapses, log lines included', async () => {
  await kafkaFreeze({ fault: 'kafka-freeze', frozenMs: 8000 });
});
