#!/usr/bin/env node
/**
 * `npm test`: runs every compiled `*.test.js` with node's test runner. When an integration test
 * is selected it first starts an isolated stack (free ports, a temporary data folder), hands
 * its address to the tests through the environment, and stops and deletes it afterwards.
 * The long fault tests (`*.faults.test.js`) run only with `--faults` (`npm run test:faults`).
 *
 *   npm test                      everything but the long fault tests
 *   npm test -- --unit            unit tests only, no stack
 *   npm test -- gateway writer    test files whose path contains one of these words
 *   npm test -- --faults [words]  the fault tests only (those whose path contains a word)
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from '../paths';
import { LocalStack } from '../stack';
import { STACK_ENV } from '../test-stack';

const INTEGRATION = /\.integration\.test\.js$/;
/** Fault tests: they need the stack too, and take minutes. */
const FAULTS = /\.faults\.test\.js$/;

function findTests(root: string): string[] {
  const roots = ['packages', 'services']
    .flatMap((group) => (existsSync(join(root, group)) ? readdirSync(join(root, group)).map((d) => join(root, group, d, 'dist')) : []))
    .concat(join(root, 'test', 'dist'));
  const out: string[] = [];
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.test.js')) out.push(p);
    }
  };
  roots.forEach(walk);
  return out.sort();
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const unitOnly = args.includes('--unit');
  const faults = args.includes('--faults');
  const filters = args.filter((a) => !a.startsWith('--'));
  const root = repoRoot();
  let files = findTests(root).filter((f) => FAULTS.test(f) === faults);
  if (unitOnly) files = files.filter((f) => !INTEGRATION.test(f) && !FAULTS.test(f));
  if (filters.length > 0) files = files.filter((f) => filters.some((w) => relative(root, f).includes(w)));
  if (files.length === 0) {
    console.error('no test files matched');
    return 1;
  }
  const log = (line: string): void => console.log(`[test-stack] ${line}`);
  const needsStack = files.some((f) => INTEGRATION.test(f) || FAULTS.test(f));
  let stack: LocalStack | undefined;
  const cleanup = async (): Promise<void> => {
    if (!stack) return;
    const s = stack;
    stack = undefined;
    await s.down();
    s.destroy();
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  process.once('SIGTERM', () => void cleanup().then(() => process.exit(143)));

  try {
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (needsStack) {
      const t0 = Date.now();
      stack = await LocalStack.isolated({ log });
      await stack.up();
      log(`isolated stack ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: kafka ${stack.kafkaBrokers}, clickhouse ${stack.clickhouseUrl}, data ${stack.dataDir}`);
      env[STACK_ENV] = stack.dataDir;
    }
    // One file at a time: integration tests restart shared processes, which must not
    // happen under another file's feet.
    // A test that hangs fails after 10 minutes instead of stalling CI; the run ends when the
    // tests do, even if a client library left a timer behind.
    const flags = ['--test', '--test-concurrency=1', '--test-timeout=600000', '--test-force-exit', '--test-reporter=spec'];
    const child = spawn(process.execPath, [...flags, ...files], {
      stdio: 'inherit',
      env,
    });
    return await new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  },
);
