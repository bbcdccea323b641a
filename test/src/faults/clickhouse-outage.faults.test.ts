/** The ClickHouse process stopped for 30 s mid-load and started again. */
import { test } from 'node:test';
import { clickhouseOutage } from './scenarios';

test('ClickHouse stopped for 30 s: the gateway keeps accepting, the lag drains afterwards, every event stored exactly once', async () => {
  await clickhouseOutage({ fault: 'clickhouse-outage', downMs: 30_000 });
});
