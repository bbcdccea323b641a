import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { defaultCacheDir, ensureVenv, repoRoot } from '@trackstream/local-stack';

/** The Python of the cached virtualenv holding the ClearML SDK pinned in test/sdk/requirements.txt. */
export function sdkPython(): Promise<string> {
  return ensureVenv({
    requirements: join(repoRoot(), 'test', 'sdk', 'requirements.txt'),
    cacheDir: defaultCacheDir(),
    name: 'clearml-sdk',
    log: (line) => console.log(`[sdk] ${line}`),
    what: 'the ClearML SDK for the compatibility test',
    sizeHint: 'about 60 MB',
  });
}

/** Runs a Python script and resolves with its stdout; rejects with stderr on a non-zero exit. */
export function runPython(python: string, args: readonly string[], timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${args[0] ?? 'python'} exited with ${code}:\n${err.slice(-3000)}`))));
  });
}

/**
 * A Python script the test converses with: it writes one JSON document per line to file
 * descriptor 3 (kept apart from stdout and stderr, which the script's libraries may write to)
 * and reads lines the test sends on stdin.
 */
export interface PythonDriver {
  /** The next document the script wrote; rejects if the script exits first or `timeoutMs` passes. */
  next<T = Record<string, unknown>>(timeoutMs?: number): Promise<T>;
  /** Writes `line` and a newline to the script's stdin. */
  send(line: string): void;
  /** Resolves once the script exits with 0; rejects with its output's tail otherwise. */
  readonly exited: Promise<void>;
  /** Stops the script (SIGKILL) if it still runs. */
  kill(): void;
}

export function startPythonDriver(
  python: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): PythonDriver {
  const child = spawn(python, [...args], { stdio: ['pipe', 'pipe', 'pipe', 'pipe'], env: opts.env, cwd: opts.cwd, timeout: opts.timeoutMs ?? 300_000 });
  let output = '';
  const keep = (c: Buffer): void => {
    output = (output + c.toString()).slice(-6000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  const messages: unknown[] = [];
  const waiters: { resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  let ended: Error | undefined;
  let partial = '';
  const channel = child.stdio[3] as NodeJS.ReadableStream;
  channel.on('data', (c: Buffer) => {
    partial += c.toString();
    for (let nl = partial.indexOf('\n'); nl >= 0; nl = partial.indexOf('\n')) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      if (line.trim() === '') continue;
      const doc: unknown = JSON.parse(line);
      const w = waiters.shift();
      if (w) w.resolve(doc);
      else messages.push(doc);
    }
  });

  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      ended = new Error(`${args[0] ?? 'python'} exited with ${code ?? signal}:\n${output}`);
      for (const w of waiters.splice(0)) w.reject(ended);
      if (code === 0) resolve();
      else reject(ended);
    });
  });
  // A caller waiting on next() sees the failure there; this keeps it from being unhandled meanwhile.
  exited.catch(() => undefined);

  return {
    next<T>(timeoutMs = 180_000): Promise<T> {
      if (messages.length > 0) return Promise.resolve(messages.shift() as T);
      if (ended) return Promise.reject(ended);
      return new Promise<T>((resolve, reject) => {
        const waiter = {
          resolve: (v: unknown) => (clearTimeout(timer), resolve(v as T)),
          reject: (e: Error) => (clearTimeout(timer), reject(e)),
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no message from ${args[0] ?? 'python'} within ${timeoutMs} ms:\n${output}`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    send(line: string): void {
      child.stdin?.write(`${line}\n`);
    },
    exited,
    kill(): void {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
