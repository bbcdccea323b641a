import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { livePid, stopPid } from './proc';

test('livePid: a pid file of a dead process is stale and removed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pid-'));
  const file = join(dir, 'x.pid');
  writeFileSync(file, '999999999\n');
  assert.equal(livePid(file, dir), undefined);
  assert.equal(existsSync(file), false);
});

test('livePid: a live process that is not ours (pid reused) is not taken for ours', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pid-'));
  const file = join(dir, 'x.pid');
  writeFileSync(file, `${process.pid}\n`);
  assert.equal(livePid(file, dir), undefined, 'this test process has no argument under the data folder');
});

test('livePid recognises our process, stopPid stops it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pid-'));
  const file = join(dir, 'x.pid');
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', join(dir, 'marker-arg')], { detached: true, stdio: 'ignore' });
  writeFileSync(file, `${child.pid}\n`);
  assert.equal(livePid(file, dir), child.pid);
  assert.equal(await stopPid(child.pid!, 5000), 'stopped');
  assert.equal(livePid(file, dir), undefined);
});
