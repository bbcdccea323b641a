/** What the deployment checks share: the repository's files, YAML, and the services' settings. */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { allInOneConfigSpec } from '@trackstream/all-in-one';
import { migrateConfigSpec } from '@trackstream/clickhouse';
import { repoRoot } from '@trackstream/local-stack';
import { writerConfigSpec } from '@trackstream/writer';

export const ROOT = repoRoot();

export function repoPath(...parts: string[]): string {
  return join(ROOT, ...parts);
}

export function readRepoFile(...parts: string[]): string {
  return readFileSync(repoPath(...parts), 'utf8');
}

/** One YAML document, anchors and `<<` merge keys resolved. */
export function parseYaml(text: string): unknown {
  return parse(text, { merge: true });
}

/** Every document of a multi-document YAML file; a syntax error in any of them throws. */
export function parseYamlDocuments(text: string, what: string): unknown[] {
  return parseAllDocuments(text, { merge: true }).map((d, i) => {
    if (d.errors.length > 0) throw new Error(`${what} document ${i + 1}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as unknown;
  }).filter((d) => d !== null && d !== undefined);
}

/** Files under `dir` (relative to the repository) whose name ends with one of `exts`. */
export function filesUnder(dir: string, exts: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (exts.some((e) => name.endsWith(e))) out.push(relative(ROOT, p));
    }
  };
  if (existsSync(repoPath(dir))) walk(repoPath(dir));
  return out.sort();
}

/** The configuration specs of the deployable processes: the services and the migrate step. */
export const SERVICE_SPECS: ReadonlyArray<Readonly<Record<string, { env: string; default: unknown; description: string }>>> = [allInOneConfigSpec, writerConfigSpec, migrateConfigSpec];

/** Every environment variable a service or the migrate step reads. */
export function serviceEnvVars(): Set<string> {
  return new Set(SERVICE_SPECS.flatMap((s) => Object.values(s).map((f) => f.env)));
}

export type Obj = Record<string, unknown>;

export function obj(v: unknown, what: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${what}: expected a mapping, got ${JSON.stringify(v)}`);
  return v as Obj;
}

export function arr(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new Error(`${what}: expected a list, got ${JSON.stringify(v)}`);
  return v;
}

/** An image reference with an explicit tag (or digest) other than `latest`. */
export function isPinnedImage(image: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  if (colon <= slash) return false;
  const tag = image.slice(colon + 1);
  return tag !== '' && tag !== 'latest';
}
