/** The migration runner against the real ClickHouse: idempotent, and safe when processes race. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClickHouse, loadMigrations, migrate } from '@trackstream/clickhouse';
import { EVENT_KINDS, insertColumns, tableColumns } from '@trackstream/event-schema';
import { createLogger } from '@trackstream/runtime';
import { testStack } from '@trackstream/local-stack';
import { uniqueName } from '../helpers/pipeline';

const logger = createLogger({ service: 'migrations-test', level: 'error' });

test('several runners started at once apply each migration once, and a rerun applies nothing', async () => {
  const stack = await testStack();
  const settings = { url: stack.clickhouseUrl, database: uniqueName('mig') };
  const results = await Promise.all(Array.from({ length: 4 }, () => migrate(settings, { logger })));
  const expected = loadMigrations(settings.database).map((m) => m.id);
  // Between them the runners applied every migration exactly once.
  assert.deepEqual(results.flat().sort((a, b) => a - b), expected);
  assert.deepEqual(await migrate(settings, { logger }), []);

  const ch = createClickHouse({ url: stack.clickhouseUrl, database: 'default' });
  try {
    const rows = await (await ch.query({ query: `SELECT id FROM ${settings.database}.schema_migrations ORDER BY id`, format: 'JSONEachRow' })).json<{ id: number }>();
    assert.deepEqual(rows.map((r) => Number(r.id)), expected, 'one record per migration');
    const tables = await (
      await ch.query({ query: 'SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name', query_params: { db: settings.database }, format: 'JSONEachRow' })
    ).json<{ name: string }>();
    assert.deepEqual(
      tables.map((t) => t.name),
      ['images', 'logs', 'plots', 'scalar_bucket_repairs', 'scalar_buckets', 'scalar_buckets_view', 'scalars', 'schema_migrations', 'task_deletions', 'vectors'],
      'the lock table is gone',
    );
  } finally {
    await ch.command({ query: `DROP DATABASE IF EXISTS ${settings.database}` });
    await ch.close();
  }
});

const normaliseCodec = (codec: string): string => codec.replace(/Delta\(\d+\)/g, 'Delta');

test('the tables the migrations make are the event kinds as described, column by column', async () => {
  const stack = await testStack();
  const settings = { url: stack.clickhouseUrl, database: uniqueName('kinds') };
  await migrate(settings, { logger });
  const ch = createClickHouse({ url: stack.clickhouseUrl, database: 'default' });
  try {
    for (const kind of EVENT_KINDS) {
      const columns = await (
        await ch.query({
          query: 'SELECT name, type, compression_codec AS codec FROM system.columns WHERE database = {db:String} AND table = {table:String} ORDER BY position',
          query_params: { db: settings.database, table: kind.table },
          format: 'JSONEachRow',
        })
      ).json<{ name: string; type: string; codec: string }>();
      assert.deepEqual(
        columns.map((c) => ({ name: c.name, type: c.type, codec: normaliseCodec(c.codec) })),
        tableColumns(kind).map((c) => ({ name: c.name, type: c.type, codec: c.compression ?? '' })),
        `${kind.table}: columns, types and codecs in the table's order`,
      );
      const [table] = await (
        await ch.query({
          query: 'SELECT sorting_key FROM system.tables WHERE database = {db:String} AND name = {table:String}',
          query_params: { db: settings.database, table: kind.table },
          format: 'JSONEachRow',
        })
      ).json<{ sorting_key: string }>();
      assert.equal(table?.sorting_key, kind.orderBy.join(', '), `${kind.table}: sort key`);
      // What the writer inserts names every column once.
      assert.deepEqual([...insertColumns(kind)].sort(), columns.map((c) => c.name).sort(), `${kind.table}: insert columns`);
    }
  } finally {
    await ch.command({ query: `DROP DATABASE IF EXISTS ${settings.database}` });
    await ch.close();
  }
});
