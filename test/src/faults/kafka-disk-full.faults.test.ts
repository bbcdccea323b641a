/** Kafka's disk filled up for real (a small tmpfs) mid-load, then freed. */
import { test } from 'node:test';
import { kafkaDiskFull } from './scenarios';
import { tmpfsRefused } from './small-disk';

test("Kafka's disk full for 20 s: 503 with Retry-After, never a 200 or a 500; once freed, it recovers by itself and every event is stored exactly once", async (t) => {
  const refused = tmpfsRefused();
  if (refused) return t.skip(refused);
  await kafkaDiskFull({ fault: 'kafka-disk-full', fullMs: 20_000 });
});
