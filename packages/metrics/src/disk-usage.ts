import { lstat, readdir, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { Gauge, type Registry } from 'prom-client';

/** A folder whose disk usage is exported, under a short name (the `folder` label). */
export interface WatchedFolder {
  name: string;
  path: string;
}

/** `DISK_USAGE_PATHS`: `name=path` pairs separated by commas; throws on anything else. */
export function parseWatchedFolders(text: string): WatchedFolder[] {
  const folders = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((pair) => {
      const m = /^([A-Za-z0-9_-]+)=(\/.*)$/.exec(pair);
      if (!m) throw new Error(`DISK_USAGE_PATHS: "${pair}" is not name=/absolute/path`);
      return { name: m[1] as string, path: m[2] as string };
    });
  const names = folders.map((f) => f.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new Error(`DISK_USAGE_PATHS: the name "${twice}" is given twice`);
  return folders;
}

/**
 * Bytes the files under `dir` occupy on disk (allocated blocks, as `du` counts); 0 if it is
 * missing, undefined if part of it can't be read (a wrong figure would be worse than none).
 */
async function diskUsage(dir: string): Promise<number | undefined> {
  let total = 0;
  let unreadable = false;
  const walk = async (path: string): Promise<void> => {
    // Files come and go under a running engine: a vanished one counts nothing.
    const st = await lstat(path).catch(() => undefined);
    if (!st) return;
    total += st.blocks * 512;
    if (!st.isDirectory()) return;
    const names = await readdir(path).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') unreadable = true;
      return [] as string[];
    });
    for (const name of names) await walk(join(path, name));
  };
  await walk(dir);
  return unreadable ? undefined : total;
}

/** A walk of a big data folder takes a while: its result is reused for this long. */
const USAGE_TTL_MS = 30_000;

/**
 * Gauges of each folder's disk usage and of its filesystem's size and free space, read when
 * /metrics is scraped (the usage walk at most every 30 s; free space every time, it is cheap).
 */
export function registerDiskUsage(registry: Registry, folders: readonly WatchedFolder[]): void {
  if (folders.length === 0) return;
  const usage = new Map<string, { at: number; bytes: number | undefined }>();
  new Gauge({
    name: 'trackstream_data_folder_bytes',
    help: "Bytes the files under a data folder occupy on disk (DISK_USAGE_PATHS; refreshed every 30 s at most; absent while part of it can't be read)",
    labelNames: ['folder'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const f of folders) {
        let cached = usage.get(f.name);
        if (!cached || Date.now() - cached.at > USAGE_TTL_MS) {
          cached = { at: Date.now(), bytes: await diskUsage(f.path) };
          usage.set(f.name, cached);
        }
        if (cached.bytes !== undefined) this.set({ folder: f.name }, cached.bytes);
      }
    },
  });
  const filesystemGauge = (name: string, help: string, pick: (s: { bavail: number; blocks: number; bsize: number }) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ['folder'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const f of folders) {
          const s = await statfs(f.path).catch(() => undefined);
          if (s) this.set({ folder: f.name }, pick(s));
        }
      },
    });
  };
  filesystemGauge(
    'trackstream_filesystem_free_bytes',
    "Bytes free for use on the filesystem of a data folder (DISK_USAGE_PATHS); absent while the folder can't be read",
    (s) => s.bavail * s.bsize,
  );
  filesystemGauge('trackstream_filesystem_size_bytes', 'Size of the filesystem of a data folder (DISK_USAGE_PATHS)', (s) => s.blocks * s.bsize);
}
