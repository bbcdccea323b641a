/**
 * docs/operations.md against the code: every environment variable a process reads is in the
 * configuration reference, each spec'd one with its default, and the README links the doc.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filesUnder, readRepoFile, SERVICE_SPECS } from './support';

const doc = readRepoFile('docs', 'operations.md');
const rows = new Map<string, string[]>();
for (const line of doc.split('\n')) {
  const m = /^\| ((?:`[A-Z][A-Z0-9_]*`(?:, )?)+) \|/.exec(line);
  if (!m) continue;
  for (const v of (m[1] as string).matchAll(/`([A-Z][A-Z0-9_]*)`/g)) rows.set(v[1] as string, [...(rows.get(v[1] as string) ?? []), line]);
}

/** Source files of the packages and services, tests left out. */
const sources = [...filesUnder('packages', ['.ts']), ...filesUnder('services', ['.ts'])].filter((f) => f.includes('/src/') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'));

test('the configuration reference has a row for every setting of every spec, with its default', () => {
  const seen = new Set<string>();
  for (const spec of SERVICE_SPECS) {
    for (const f of Object.values(spec)) {
      if (seen.has(f.env)) continue;
      seen.add(f.env);
      const lines = rows.get(f.env);
      assert.ok(lines, `${f.env} has a row in docs/operations.md`);
      if (f.env === 'PORT') continue;
      const shown = f.default === '' ? '(empty)' : `\`${String(f.default)}\``;
      assert.ok(lines.some((l) => l.split('|')[2]?.includes(shown)), `${f.env}: default ${shown} shown`);
    }
  }
  assert.ok(seen.size >= 30, `the specs were read (${seen.size} variables)`);
});

test('every variable the code reads from the environment is documented, the default ports included', () => {
  const read = new Set<string>();
  const ports = new Set<string>();
  for (const file of sources) {
    const text = readRepoFile(file);
    for (const m of text.matchAll(/\benv: '([A-Z][A-Z0-9_]*)'/g)) read.add(m[1] as string);
    for (const m of text.matchAll(/\benv\['([A-Z][A-Z0-9_]*)'\]/g)) read.add(m[1] as string);
    for (const m of text.matchAll(/\bserviceSpec\((\d[\d_]*)/g)) ports.add((m[1] as string).replaceAll('_', ''));
  }
  assert.ok(read.has('CLICKHOUSE_URL') && read.has('RETENTION_DAYS') && read.has('TRACKSTREAM_CLICKHOUSE_ENGINE'), 'the scan finds spec fields and direct reads');
  const missing = [...read].filter((v) => !rows.has(v)).sort();
  assert.deepEqual(missing, [], 'variables read by the code but missing from docs/operations.md');
  const portRow = (rows.get('PORT') ?? []).join('\n');
  for (const p of [...ports].filter((x) => x !== '0')) assert.ok(portRow.includes(`\`${p}\``), `default port ${p} documented`);
});

test('variables docker-compose.yml takes from the shell are documented', () => {
  const compose = readRepoFile('docker-compose.yml');
  const vars = [...compose.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1] as string);
  assert.ok(vars.length > 0);
  for (const v of vars) assert.ok(rows.has(v), `${v} documented`);
});

test('the README links the operations and scaling docs, which cover what they promise', () => {
  const readme = readRepoFile('README.md');
  assert.match(readme, /\]\(docs\/operations\.md\)/);
  assert.match(readme, /\]\(docs\/scaling\.md\)/);
  for (const heading of ['## Configuration reference', '## Schema migrations', '## Upgrades', '## Retention', '## Backups', '## Resetting']) {
    assert.ok(doc.includes(`\n${heading}\n`), `operations.md: ${heading}`);
  }
  const scaling = readRepoFile('docs', 'scaling.md');
  for (const word of ['partitions', 'writer', 'shard', 'Distributed']) assert.ok(scaling.includes(word), `scaling.md covers ${word}`);
});
