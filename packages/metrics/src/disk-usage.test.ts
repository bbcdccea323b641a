import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { parseWatchedFolders, registerDiskUsage } from './disk-usage';

test('DISK_USAGE_PATHS is name=/absolute/path pairs separated by commas', () => {
  assert.deepEqual(parseWatchedFolders(''), []);
  assert.deepEqual(parseWatchedFolders(' kafka=/var/lib/kafka/data , clickhouse=/var/lib/clickhouse'), [
    { name: 'kafka', path: '/var/lib/kafka/data' },
    { name: 'clickhouse', path: '/var/lib/clickhouse' },
  ]);
  assert.throws(() => parseWatchedFolders('kafka'), /"kafka" is not name=\/absolute\/path/);
  assert.throws(() => parseWatchedFolders('kafka=relative/path'), /not name=\/absolute\/path/);
  assert.throws(() => parseWatchedFolders('a=/x,a=/y'), /"a" is given twice/);
});

/** The value of `name{folder="<folder>"}` in a scrape, or undefined. */
function sample(text: string, name: string, folder: string): number | undefined {
  const m = new RegExp(`^${name}\\{folder="${folder}"\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

test("a folder's usage, its filesystem's free space and size; a missing folder has no free space series", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'disk-usage-test-'));
  try {
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'a'), Buffer.alloc(300_000, 1));
    writeFileSync(join(dir, 'b'), Buffer.alloc(100_000, 1));
    const registry = new Registry();
    registerDiskUsage(registry, [
      { name: 'data', path: dir },
      { name: 'gone', path: join(dir, 'missing') },
    ]);
    const text = await registry.metrics();
    const used = sample(text, 'trackstream_data_folder_bytes', 'data') ?? -1;
    assert.ok(used >= 400_000 && used < 1_000_000, `usage counts the files' blocks (${used})`);
    const fs = statfsSync(dir);
    const size = sample(text, 'trackstream_filesystem_size_bytes', 'data');
    const free = sample(text, 'trackstream_filesystem_free_bytes', 'data') ?? -1;
    assert.equal(size, fs.blocks * fs.bsize);
    assert.ok(free > 0 && free <= (size ?? 0), 'free space within the size');
    assert.equal(sample(text, 'trackstream_data_folder_bytes', 'gone'), 0);
    assert.equal(sample(text, 'trackstream_filesystem_free_bytes', 'gone'), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no folders, no disk series', async () => {
  const registry = new Registry();
  registerDiskUsage(registry, []);
  assert.doesNotMatch(await registry.metrics(), /trackstream_/);
});
