import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Log } from './component';
import { runCommand } from './run-command';

/** The Python that creates virtualenvs and runs the chDB front's unit tests. */
export function hostPython(env: NodeJS.ProcessEnv = process.env): string {
  return env['TRACKSTREAM_PYTHON'] || 'python3';
}

/**
 * A virtualenv in the cache with a requirements file installed, one per (requirements, Python
 * version): a change of either makes a new one, an existing complete one is reused as is.
 * Returns the venv's python.
 */
export async function ensureVenv(o: { requirements: string; cacheDir: string; name: string; log: Log; what: string; sizeHint: string }): Promise<string> {
  const host = hostPython();
  const pyVersion = (
    await runCommand(host, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])']).catch((e: Error) => {
      throw new Error(`Python 3.9 or newer is needed for ${o.what}: ${e.message}`);
    })
  ).trim();
  const [maj, min] = pyVersion.split('.').map(Number);
  if (maj !== 3 || (min ?? 0) < 9) throw new Error(`Python 3.9 or newer is needed for ${o.what}; found ${pyVersion}`);
  const key = createHash('sha256').update(readFileSync(o.requirements)).digest('hex').slice(0, 12);
  const venv = join(o.cacheDir, o.name, `venv-${key}-py${pyVersion}`);
  const python = join(venv, 'bin', 'python');
  const complete = join(venv, '.complete');
  if (existsSync(complete)) return python;
  o.log(`${o.what}: installing into ${venv} (first run only, ${o.sizeHint})...`);
  await runCommand(host, ['-m', 'venv', '--clear', venv]);
  await runCommand(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '-r', o.requirements], {
    onLine: (line) => {
      if (/^\s*(Downloading|Successfully installed)/.test(line)) o.log(`  ${line.trim()}`);
    },
  });
  writeFileSync(complete, `${new Date().toISOString()}\n`);
  return python;
}
