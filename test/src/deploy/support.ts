/** What the deployment checks share: the repository's files, YAML, and the services' settings. */
import assert from 'node:assert/strict';
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

/**
 * `docker compose -f base -f override`'s merge, for the keys the repository's files use
 * (https://docs.docker.com/reference/compose-file/merge/): services and top-level mappings merge
 * key by key; in a service, mappings (environment, depends_on, healthcheck, ulimits, build...)
 * merge recursively, `volumes` merge by container path, `ports` add up without duplicates, and
 * any other value (image, command, entrypoint, a healthcheck's test) is replaced.
 */
export function mergeCompose(base: Obj, override: Obj): Obj {
  const out: Obj = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (key === 'services') {
      const services: Obj = { ...obj(base['services'] ?? {}, 'services') };
      for (const [name, s] of Object.entries(obj(value, 'override services'))) {
        services[name] = services[name] === undefined ? s : mergeService(obj(services[name], name), obj(s, name));
      }
      out['services'] = services;
    } else out[key] = isMapping(value) && isMapping(base[key]) ? { ...base[key], ...value } : value;
  }
  return out;
}

function isMapping(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function mergeService(base: Obj, override: Obj): Obj {
  const out: Obj = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const prior = base[key];
    if (key === 'volumes' && Array.isArray(prior) && Array.isArray(value)) {
      const target = (v: unknown): string => String(v).split(':')[1] ?? String(v);
      const replaced = new Set(value.map(target));
      out[key] = [...prior.filter((v) => !replaced.has(target(v))), ...value];
    } else if (key === 'ports' && Array.isArray(prior) && Array.isArray(value)) {
      out[key] = [...new Set([...prior, ...value].map(String))];
    } else if (isMapping(prior) && isMapping(value)) out[key] = mergeMapping(prior, value);
    else out[key] = value;
  }
  return out;
}

function mergeMapping(base: Obj, override: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(override)) out[k] = isMapping(base[k]) && isMapping(v) ? mergeMapping(base[k], v) : v;
  return out;
}

/** Compose's interpolation of `${VAR}`, `${VAR:-default}` and `${VAR-default}` in a value, with `env`. */
export function interpolate(value: string, env: Readonly<Record<string, string | undefined>> = {}): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}/g, (_m, name: string, op: string | undefined, def: string | undefined) => {
    const v = env[name];
    if (op === ':-') return v === undefined || v === '' ? (def ?? '') : v;
    if (op === '-') return v === undefined ? (def ?? '') : v;
    return v ?? '';
  });
}

/** Fails on a cycle of compose `depends_on` (`dependsOn(name)`: the services `name` waits for). */
export function assertNoDependencyCycle(names: readonly string[], dependsOn: (name: string) => string[]): void {
  const visiting = new Set<string>();
  const done = new Set<string>();
  const visit = (n: string): void => {
    if (done.has(n)) return;
    assert.ok(!visiting.has(n), `dependency cycle through ${n}`);
    visiting.add(n);
    dependsOn(n).forEach(visit);
    visiting.delete(n);
    done.add(n);
  };
  names.forEach(visit);
}
