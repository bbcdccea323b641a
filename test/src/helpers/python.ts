import { spawn } from 'node:child_process';

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
