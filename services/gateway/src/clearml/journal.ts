import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Task and model ids, of one tenant. */
export interface OwnerIds {
  tasks: string[];
  models: string[];
}

/**
 * One lifecycle call, as the journal knows it. Written before the call reaches the ClearML
 * server (`intent`), then its outcome, the owners whose events go (`apply`), and `done` once
 * their delete markers are in Kafka.
 */
export interface LifecycleEntry {
  id: string;
  tenant: string;
  /** "tasks.delete" */
  call: string;
  kind: 'delete' | 'reset';
  /** The headers that authenticate the caller at the ClearML server (to check what the call did). */
  auth: Record<string, string>;
  /** Owners the call may delete the events of, read before it was forwarded. */
  candidates: OwnerIds;
  /** ClearML's answer: what it confirms (succeeded), or that the call failed. Absent: unknown. */
  outcome?: { ok: true; confirmed: OwnerIds } | { ok: false };
  /** The owners whose events are deleted, decided once. */
  owners?: OwnerIds;
  done?: boolean;
}

type Row =
  | ({ t: 'intent' } & LifecycleEntry)
  | { t: 'outcome'; id: string; outcome: NonNullable<LifecycleEntry['outcome']> }
  | { t: 'apply'; id: string; owners: OwnerIds }
  | { t: 'done'; id: string };

/**
 * An append-only file of lifecycle calls, each line synced to disk before the step it records
 * goes on, so that a crash at any point leaves what is needed to finish the deletion (or to know
 * there is none). Entries finished are dropped when the file is next opened.
 */
export class LifecycleJournal {
  private readonly entries = new Map<string, LifecycleEntry>();
  private file: FileHandle | undefined;
  private tail: Promise<void> = Promise.resolve();

  private constructor(private readonly path: string) {}

  static async open(path: string): Promise<LifecycleJournal> {
    const j = new LifecycleJournal(path);
    await mkdir(dirname(path), { recursive: true });
    const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? '' : Promise.reject(e)));
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        j.fold(JSON.parse(line) as Row);
      } catch {
        // A line cut by a crash mid-write: its step had not gone on.
      }
    }
    for (const [id, e] of j.entries) if (e.done) j.entries.delete(id);
    // Rewritten with the unfinished entries only, then appended to.
    const tmp = `${path}.tmp`;
    const rewrite = await open(tmp, 'w', 0o600);
    for (const e of j.entries.values()) await rewrite.write(`${JSON.stringify({ t: 'intent', ...e })}\n`);
    await rewrite.sync();
    await rewrite.close();
    await rename(tmp, path);
    j.file = await open(path, 'a', 0o600);
    return j;
  }

  /** Entries not finished, oldest first. */
  pending(): LifecycleEntry[] {
    return [...this.entries.values()].filter((e) => !e.done);
  }

  intent(e: LifecycleEntry): Promise<void> {
    return this.append({ t: 'intent', ...e });
  }

  outcome(id: string, outcome: NonNullable<LifecycleEntry['outcome']>): Promise<void> {
    return this.append({ t: 'outcome', id, outcome });
  }

  apply(id: string, owners: OwnerIds): Promise<void> {
    return this.append({ t: 'apply', id, owners });
  }

  done(id: string): Promise<void> {
    return this.append({ t: 'done', id });
  }

  async close(): Promise<void> {
    await this.tail;
    await this.file?.close();
    this.file = undefined;
  }

  private fold(row: Row): void {
    if (row.t === 'intent') {
      const { t: _t, ...entry } = row;
      this.entries.set(entry.id, entry);
      return;
    }
    const e = this.entries.get(row.id);
    if (!e) return;
    if (row.t === 'outcome') e.outcome = row.outcome;
    else if (row.t === 'apply') e.owners = row.owners;
    else e.done = true;
  }

  /** Written and synced in order; the entry changes in memory only once it is on disk. */
  private append(row: Row): Promise<void> {
    const step = this.tail.then(async () => {
      if (!this.file) throw new Error('the lifecycle journal is closed');
      await this.file.write(`${JSON.stringify(row)}\n`);
      await this.file.sync();
      this.fold(row);
    });
    this.tail = step.catch(() => undefined);
    return step;
  }
}
