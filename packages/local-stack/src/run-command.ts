import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * Runs a setup command (mvn, pip, java) to completion, passing each output line to `onLine`
 * (progress for the user) and keeping the last lines for the error message if it fails.
 */
export function runCommand(
  command: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; onLine?: (line: string) => void } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const kept: string[] = [];
    const take = (line: string): void => {
      kept.push(line);
      if (kept.length > 200) kept.shift();
      opts.onLine?.(line);
    };
    createInterface({ input: child.stdout }).on('line', take);
    createInterface({ input: child.stderr }).on('line', take);
    child.on('error', (e) => reject(new Error(`${command}: ${e.message}`)));
    child.on('close', (code) => {
      const output = kept.join('\n');
      if (code === 0) resolve(output);
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${kept.slice(-40).join('\n')}`));
    });
  });
}
