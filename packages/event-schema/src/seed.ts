import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The API schema seed (`seed/events.conf`, ClearML's events service at version 2.1) and a
 * parser for the part of HOCON it is written in.
 *
 * Supported: a root object with or without braces; unquoted keys (a dotted unquoted key is a
 * path, as in HOCON) and quoted keys (`"$ref"`, `"2.1"`); `key { ... }`, `key: value`,
 * `key = value` and `key value`; objects and arrays whose entries are separated by newlines
 * and/or commas (a trailing comma is fine); quoted strings with JSON escapes; `"""` strings
 * (raw, may span lines); unquoted strings running to the end of the line (so
 * `description: get task scalar metrics and variants` is one string); numbers, true, false,
 * null; `#` and `//` comments; a repeated key merges objects, otherwise the last one wins.
 * Not supported (a SeedParseError says so): `${}` substitutions, `include`, `+=`.
 */

export type HoconValue = string | number | boolean | null | HoconValue[] | HoconObject;
export interface HoconObject {
  [key: string]: HoconValue;
}

/** A JSON schema as plain data, ready for `ajv.compile`. */
export type JsonSchema = { [key: string]: unknown };

export class SeedParseError extends Error {
  override readonly name = 'SeedParseError';
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${message} at line ${line}, column ${column}`);
  }
}

const NUMBER_RE = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

function isObject(v: unknown): v is HoconObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function setOwn(obj: HoconObject, key: string, value: HoconValue): void {
  // defineProperty so that a key like "__proto__" is data, not a prototype change.
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

/** HOCON duplicate keys: two objects merge (recursively), anything else is replaced. */
function assign(obj: HoconObject, key: string, value: HoconValue): void {
  const prev = Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
  if (isObject(prev) && isObject(value)) {
    for (const k of Object.keys(value)) assign(prev, k, value[k] as HoconValue);
  } else {
    setOwn(obj, key, value);
  }
}

class Parser {
  private pos = 0;

  constructor(private readonly text: string) {
    if (text.charCodeAt(0) === 0xfeff) this.pos = 1;
  }

  parseDocument(): HoconObject {
    this.skip(true);
    let root: HoconObject;
    if (this.peek() === '{') {
      root = this.parseObject();
      this.skip(true);
      if (!this.atEnd()) this.fail('unexpected text after the root object');
    } else {
      root = this.parseFields(undefined);
    }
    return root;
  }

  private atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  private peek(): string {
    return this.text[this.pos] ?? '';
  }

  private fail(message: string, at = this.pos): never {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < at && i < this.text.length; i++) {
      if (this.text.charCodeAt(i) === 10) {
        line++;
        lineStart = i + 1;
      }
    }
    throw new SeedParseError(message, line, at - lineStart + 1);
  }

  private atComment(): boolean {
    const c = this.peek();
    return c === '#' || (c === '/' && this.text[this.pos + 1] === '/');
  }

  /** Skips spaces, tabs, \r and comments; with `newlines` also line breaks. */
  private skip(newlines: boolean): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t[this.pos];
      if (c === ' ' || c === '\t' || c === '\r' || c === '\ufeff' || (newlines && c === '\n')) {
        this.pos++;
      } else if (this.atComment()) {
        const nl = t.indexOf('\n', this.pos);
        this.pos = nl < 0 ? t.length : nl;
      } else {
        break;
      }
    }
  }

  /** Fields up to `close` ('}') or the end of the text (close undefined: a brace-less root). */
  private parseFields(close: '}' | undefined): HoconObject {
    const obj: HoconObject = {};
    for (;;) {
      this.skip(true);
      if (this.atEnd()) {
        if (close) this.fail(`missing '${close}'`);
        return obj;
      }
      if (this.peek() === close) {
        this.pos++;
        return obj;
      }
      this.parseField(obj);
      this.skip(false);
      const c = this.peek();
      if (c === ',') this.pos++;
      else if (c !== '\n' && c !== close && !this.atEnd()) this.fail(`expected a newline, ',' or '${close ?? 'end'}'`);
    }
  }

  private parseObject(): HoconObject {
    this.pos++; // '{'
    return this.parseFields('}');
  }

  private parseField(obj: HoconObject): void {
    const start = this.pos;
    let path: string[];
    if (this.peek() === '"') {
      if (this.text.startsWith('"""', this.pos)) this.fail('a triple-quoted key is not supported');
      path = [this.parseQuoted()];
    } else {
      const key = this.parseUnquotedKey();
      path = key.split('.');
      if (path.some((p) => p === '')) this.fail(`invalid key path '${key}'`, start);
    }
    this.skip(false);
    let value: HoconValue;
    const c = this.peek();
    if (c === '{') {
      value = this.parseObject();
    } else {
      if (c === ':' || c === '=') {
        this.pos++;
      } else if (c === '+' && this.text[this.pos + 1] === '=') {
        this.fail("'+=' is not supported");
      }
      this.skip(false);
      value = this.parseValue();
    }
    let target = obj;
    for (let i = 0; i < path.length - 1; i++) {
      const k = path[i] as string;
      const next = Object.prototype.hasOwnProperty.call(target, k) ? target[k] : undefined;
      if (isObject(next)) {
        target = next;
      } else {
        const created: HoconObject = {};
        setOwn(target, k, created);
        target = created;
      }
    }
    assign(target, path[path.length - 1] as string, value);
  }

  private parseUnquotedKey(): string {
    const t = this.text;
    const start = this.pos;
    while (this.pos < t.length) {
      const c = t[this.pos] as string;
      if (' \t\r\n:={}[],#"'.includes(c) || this.atComment()) break;
      this.pos++;
    }
    if (this.pos === start) this.fail(`expected a key, found ${JSON.stringify(this.peek() || 'end of text')}`);
    const key = t.slice(start, this.pos);
    if (key === 'include') this.fail("'include' is not supported", start);
    return key;
  }

  private parseValue(): HoconValue {
    const c = this.peek();
    if (c === '{') return this.parseObject();
    if (c === '[') return this.parseArray();
    if (c === '"') {
      const s = this.text.startsWith('"""', this.pos) ? this.parseTripleQuoted() : this.parseQuoted();
      this.skip(false);
      const n = this.peek();
      if (!(this.atEnd() || n === '\n' || n === ',' || n === '}' || n === ']')) {
        this.fail('unexpected text after a quoted string (value concatenation is not supported)');
      }
      return s;
    }
    return this.parseUnquotedValue();
  }

  private parseArray(): HoconValue[] {
    this.pos++; // '['
    const arr: HoconValue[] = [];
    for (;;) {
      this.skip(true);
      if (this.atEnd()) this.fail("missing ']'");
      if (this.peek() === ']') {
        this.pos++;
        return arr;
      }
      if (this.peek() === ',') this.fail("unexpected ','");
      arr.push(this.parseValue());
      this.skip(true);
      if (this.peek() === ',') this.pos++;
    }
  }

  /** Runs to the end of the line (or a ',', '}', ']' or comment); typed as number/boolean/null when it is one. */
  private parseUnquotedValue(): HoconValue {
    const t = this.text;
    const start = this.pos;
    while (this.pos < t.length) {
      const c = t[this.pos] as string;
      if (c === '\n' || c === ',' || c === '}' || c === ']' || this.atComment()) break;
      if (c === '{' || c === '[' || c === '"') this.fail('value concatenation is not supported');
      if (c === '$' && t[this.pos + 1] === '{') this.fail('substitutions are not supported');
      this.pos++;
    }
    const raw = t.slice(start, this.pos).trim();
    if (raw === '') this.fail('expected a value', start);
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    if (raw === 'null') return null;
    if (NUMBER_RE.test(raw)) return Number(raw);
    return raw;
  }

  private parseTripleQuoted(): string {
    const start = this.pos + 3;
    let end = this.text.indexOf('"""', start);
    if (end < 0) this.fail('unterminated """ string');
    while (this.text[end + 3] === '"') end++; // """"a"""" ends at the last three quotes
    this.pos = end + 3;
    return this.text.slice(start, end);
  }

  private parseQuoted(): string {
    const t = this.text;
    const open = this.pos;
    let i = this.pos + 1;
    let out = '';
    let chunk = i;
    for (;;) {
      if (i >= t.length) this.fail('unterminated string', open);
      const c = t.charCodeAt(i);
      if (c === 0x22) break; // "
      if (c === 0x0a) this.fail('newline in a quoted string', i);
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += t.slice(chunk, i);
      const e = t[i + 1];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const hex = t.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('invalid \\u escape', i);
          out += String.fromCharCode(parseInt(hex, 16));
          i += 4;
          break;
        }
        default:
          this.fail(`invalid escape '\\${e ?? ''}'`, i);
      }
      i += 2;
      chunk = i;
    }
    out += t.slice(chunk, i);
    this.pos = i + 1;
    return out;
  }
}

/** Parses HOCON text (the subset described above) into plain data. */
export function parseHocon(text: string): HoconObject {
  return new Parser(text).parseDocument();
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}

/** Where the seed lives at run time: `<package>/seed/events.conf`, next to `dist/`. */
export const SEED_PATH = join(__dirname, '..', 'seed', 'events.conf');

let cachedSeed: HoconObject | undefined;

/** The whole seed, parsed once and deeply frozen. */
export function loadSeed(): HoconObject {
  cachedSeed ??= deepFreeze(parseHocon(readFileSync(SEED_PATH, 'utf8')));
  return cachedSeed;
}

const REF_PREFIX = '#/definitions/';

function seedDefinitions(): HoconObject {
  const defs = loadSeed()['_definitions'];
  if (!isObject(defs)) throw new Error('seed has no _definitions');
  return defs;
}

/**
 * A deep, mutable copy of `node` where every `{"$ref": "#/definitions/x", ...siblings}` is
 * replaced by the definition x (itself resolved) with the siblings laid over it. The result
 * is self-contained: ajv compiles it without any `definitions`.
 */
export function resolveRefs(node: HoconValue, defs: HoconObject = seedDefinitions(), seen: readonly string[] = []): JsonSchema | HoconValue {
  if (Array.isArray(node)) return node.map((n) => resolveRefs(n, defs, seen) as HoconValue);
  if (!isObject(node)) return node;
  const out: HoconObject = {};
  const ref = node['$ref'];
  if (ref !== undefined) {
    if (typeof ref !== 'string' || !ref.startsWith(REF_PREFIX)) throw new Error(`unsupported $ref ${JSON.stringify(ref)}`);
    const name = ref.slice(REF_PREFIX.length);
    if (seen.includes(name)) throw new Error(`circular $ref ${[...seen, name].join(' -> ')}`);
    const target = Object.prototype.hasOwnProperty.call(defs, name) ? defs[name] : undefined;
    if (!isObject(target)) throw new Error(`unknown $ref ${ref}`);
    Object.assign(out, resolveRefs(target, defs, [...seen, name]));
  }
  for (const [k, v] of Object.entries(node)) {
    if (k !== '$ref') setOwn(out, k, resolveRefs(v, defs, seen) as HoconValue);
  }
  return out;
}

/** A definition of the seed's `_definitions` (e.g. 'task_log_event'), refs resolved. */
export function definitionSchema(name: string): JsonSchema {
  const defs = seedDefinitions();
  const def = Object.prototype.hasOwnProperty.call(defs, name) ? defs[name] : undefined;
  if (!isObject(def)) throw new Error(`seed has no definition '${name}'`);
  return resolveRefs(def, defs) as JsonSchema;
}

const VERSION_RE = /^(\d+)\.(\d+)$/;

function compareVersions(a: string, b: string): number {
  const [, amaj, amin] = VERSION_RE.exec(a) ?? [];
  const [, bmaj, bmin] = VERSION_RE.exec(b) ?? [];
  return Number(amaj) - Number(bmaj) || Number(amin) - Number(bmin);
}

export interface EndpointVersions {
  /** The action, e.g. 'get_task_log' (the service is `events`). */
  readonly action: string;
  /** Ascending, e.g. ['1.5', '1.7']. */
  readonly versions: readonly string[];
}

/** Every endpoint of the seed (top-level keys not starting with '_') with its versions. */
export function listEndpoints(): EndpointVersions[] {
  const seed = loadSeed();
  const out: EndpointVersions[] = [];
  for (const [action, node] of Object.entries(seed)) {
    if (action.startsWith('_') || !isObject(node)) continue;
    const versions = Object.keys(node).filter((k) => VERSION_RE.test(k)).sort(compareVersions);
    out.push({ action, versions });
  }
  return out;
}

/** The seed entry of one endpoint version (description, request, response, ...), frozen. */
export function endpointSpec(action: string, version: string): HoconObject {
  const seed = loadSeed();
  const node = !action.startsWith('_') && Object.prototype.hasOwnProperty.call(seed, action) ? seed[action] : undefined;
  if (!isObject(node)) throw new Error(`seed has no endpoint '${action}'`);
  const spec = Object.prototype.hasOwnProperty.call(node, version) ? node[version] : undefined;
  if (!isObject(spec)) throw new Error(`seed has no version '${version}' of '${action}'`);
  return spec;
}

/**
 * The request JSON schema of an endpoint version, e.g. endpointSchema('get_task_log', '1.7'),
 * as a fresh mutable object with `$ref`s resolved, ready for `ajv.compile`. Throws for an
 * unknown endpoint or version, or one without a `request` schema (`add_batch`, whose seed
 * entry is a `batch_request` of `add`).
 */
export function endpointSchema(action: string, version: string): JsonSchema {
  const request = endpointSpec(action, version)['request'];
  if (!isObject(request)) throw new Error(`seed has no request schema for '${action}' ${version}`);
  return resolveRefs(request) as JsonSchema;
}
