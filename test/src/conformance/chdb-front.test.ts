/**
 * The chDB HTTP front's own unit tests (deploy/local/clickhouse/tests, Python's unittest): its
 * modules, and its handler against a stand-in for chDB, so they need neither a stack nor chDB.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { hostPython, repoRoot } from '@trackstream/local-stack';

const FRONT = join(repoRoot(), 'deploy', 'local', 'clickhouse');

test('the chDB front passes its Python unit tests', async () => {
  // -B: no __pycache__ left in the repository.
  const args = ['-B', '-m', 'unittest', 'discover', '-s', join(FRONT, 'tests'), '-t', FRONT];
  const { stderr } = await promisify(execFile)(hostPython(), args, { timeout: 120_000 }).catch((e: Error & { stderr?: string }) => {
    assert.fail(`python3 -m unittest failed: ${e.message}\n${(e.stderr ?? '').slice(-6000)}`);
  });
  // unittest reports on stderr; zero tests found would also end in OK.
  const ran = Number(/^Ran (\d+) tests? in /m.exec(stderr)?.[1] ?? 0);
  assert.ok(ran > 0, `no test ran:\n${stderr}`);
  assert.match(stderr, /^OK\b/m);
});
