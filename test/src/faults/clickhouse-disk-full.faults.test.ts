/** ClickHouse's disk filled up for real (a small tmpfs) mid-load, then freed. */
import { test } from 'node:test';
import { clickhouseDiskFull } from './scenarios';
import { tmpfsRefused } from './small-disk';

test("ClickHouse's disk full for 20 s: the writer retries, commits nothing and reports it; the gateway keeps accepting; once freed, every event stored exactly once", async (t) => {
  const refused = tmpfsRefused();
  if (refused) return t.skip(refused);
  await clickhouseDiskFull({ fault: 'clickhouse-disk-full', fullMs: 20_000 });
});
