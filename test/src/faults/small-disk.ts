/**
 * A small disk for an engine of the test stack, to fill for real: its data folder moved onto a
 * tmpfs of its own (mounted over the folder, which needs root), filled with a filler file up to
 * the last byte, and freed again. Unmounting puts the original folder back.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, cpSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, rmdirSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor, type ComponentName, type LocalStack } from '@trackstream/local-stack';

const MiB = 1024 * 1024;

/** Why this machine can't mount a tmpfs (not root, no CAP_SYS_ADMIN, no `mount`), or undefined if it can. */
export function tmpfsRefused(): string | undefined {
  const probe = mkdtempSync(join(tmpdir(), 'trackstream-tmpfs-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'pipe' });
    execFileSync('umount', [probe], { stdio: 'pipe' });
    return undefined;
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    return `mounting a tmpfs is refused here (${(err.stderr?.toString().trim() || err.message).split('\n')[0]}): the disk-full tests need root`;
  } finally {
    rmdirSync(probe);
  }
}

export interface FreeSpace {
  freeBytes: number;
  sizeBytes: number;
}

export class SmallDisk {
  private readonly filler: string;
  private filled = false;

  private constructor(
    private readonly stack: LocalStack,
    private readonly component: ComponentName,
    /** The engine's data folder, now on the tmpfs. */
    readonly dir: string,
    private readonly original: string,
  ) {
    this.filler = join(dir, 'disk-filler');
  }

  /**
   * Stops `component`, puts its data folder (with what it holds) on a tmpfs of that size plus
   * `spareBytes`, and starts it again.
   */
  static async mount(stack: LocalStack, component: ComponentName, spareBytes: number): Promise<SmallDisk> {
    const dir = stack.dataFolder(component);
    await stack.stop(component);
    const original = `${dir}.on-the-real-disk`;
    renameSync(dir, original);
    mkdirSync(dir);
    const used = Number(execFileSync('du', ['-sb', original]).toString().split('\t')[0]);
    const size = Math.ceil((used + spareBytes) / MiB);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}m`, 'tmpfs', dir], { stdio: 'pipe' });
      cpSync(original, dir, { recursive: true, preserveTimestamps: true });
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      renameSync(original, dir);
      await stack.start(component);
      throw e;
    }
    await stack.start(component);
    return new SmallDisk(stack, component, dir, original);
  }

  space(): FreeSpace {
    const s = statfsSync(this.dir);
    return { freeBytes: s.bavail * s.bsize, sizeBytes: s.blocks * s.bsize };
  }

  /** Writes the filler until the filesystem has no byte left (ENOSPC). */
  fill(): void {
    const fd = openSync(this.filler, 'a');
    const chunk = Buffer.alloc(MiB);
    try {
      for (;;) writeSync(fd, chunk);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
    } finally {
      closeSync(fd);
    }
    // The last partial chunk: byte by byte is too slow, so halve down to one byte.
    for (let size = MiB / 2; size >= 1; size = Math.floor(size / 2)) {
      const f = openSync(this.filler, 'a');
      try {
        for (;;) writeSync(f, chunk, 0, size);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
      } finally {
        closeSync(f);
      }
    }
    this.filled = true;
  }

  /** Space comes back: the filler is deleted. */
  free(): void {
    rmSync(this.filler, { force: true });
    this.filled = false;
  }

  get isFull(): boolean {
    return this.filled;
  }

  /** Stops the engine, unmounts the tmpfs (what was written on it goes), puts the original folder back, starts it again. */
  async unmount(): Promise<void> {
    await this.stack.stop(this.component, { kill: true });
    // A killed process reads as gone once its main thread has exited; its other threads may
    // still hold files on the disk for a moment.
    await waitFor(
      () => {
        execFileSync('umount', [this.dir], { stdio: 'pipe' });
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: `the tmpfs on ${this.dir} to unmount` },
    );
    rmSync(this.dir, { recursive: true, force: true });
    renameSync(this.original, this.dir);
    await this.stack.start(this.component);
  }
}
