/** The result files of a run: bench-results/<name>-<timestamp>.{json,md} at the repository root. */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { repoRoot, type LocalStack } from '@trackstream/local-stack';

export interface Table {
  title: string;
  columns: string[];
  rows: Array<Array<string | number>>;
}

/** What a benchmark hands back: its parameters, its figures, and the tables a reader wants. */
export interface BenchResult {
  params: Record<string, unknown>;
  results: Record<string, unknown>;
  tables: Table[];
  notes: string[];
}

export interface Machine {
  cores: number;
  memoryGiB: number;
  cpuModel: string;
  node: string;
  platform: string;
  clickhouseEngine: string;
  clickhouseVersion: string;
}

export function machine(stack: LocalStack, clickhouseVersion: string): Machine {
  return {
    cores: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    clickhouseEngine: stack.state.clickhouseEngine.kind,
    clickhouseVersion,
  };
}

export function renderTable(t: Table): string {
  const line = (cells: Array<string | number>) => `| ${cells.map(String).join(' | ')} |`;
  return [`### ${t.title}`, '', line(t.columns), line(t.columns.map(() => '---')), ...t.rows.map(line), ''].join('\n');
}

export function renderMarkdown(name: string, quick: boolean, at: Date, m: Machine, r: BenchResult): string {
  return [
    `# Benchmark \`${name}\`${quick ? ' (quick)' : ''}, ${at.toISOString()}`,
    '',
    `${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}, ClickHouse: ${m.clickhouseEngine} ${m.clickhouseVersion}`,
    '',
    ...r.tables.map(renderTable),
    ...(r.notes.length ? ['Notes:', '', ...r.notes.map((n) => `- ${n}`), ''] : []),
  ].join('\n');
}

/** Writes both files; returns their paths and the markdown. */
export function writeReport(name: string, quick: boolean, at: Date, m: Machine, r: BenchResult): { json: string; md: string; markdown: string } {
  const dir = join(repoRoot(), 'bench-results');
  mkdirSync(dir, { recursive: true });
  const stamp = at.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  const base = join(dir, `${name}-${stamp}`);
  const markdown = renderMarkdown(name, quick, at, m, r);
  writeFileSync(`${base}.json`, `${JSON.stringify({ name, quick, startedAt: at.toISOString(), machine: m, ...r }, null, 2)}\n`);
  writeFileSync(`${base}.md`, markdown);
  return { json: `${base}.json`, md: `${base}.md`, markdown };
}
