import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

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
 * With `HoconOptions.include` (the current API's files use them): `include "file"` among an
 * object's fields, and `${path}` substitutions of a whole value, optionally followed by an object
 * that is merged over it (`"2.22": ${add."2.1"} { ... }`); paths are from the root.
 * Not supported (a SeedParseError says so): `+=`, other value concatenation, substitutions and
 * includes without the option.
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

export interface HoconOptions {
  /** The text of an included file, by the name it is included as. Absent: no includes, no `${}`. */
  include?: (name: string) => string;
}

/** A `${path} { overlay }` value as parsed, replaced by what it names once the whole text is read. */
class Substitution {
  constructor(
    readonly path: readonly string[],
    readonly overlay: HoconObject | undefined,
    readonly line: number,
    readonly column: number,
  ) {}
}

const NUMBER_RE = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

function isObject(v: unknown): v is HoconObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Substitution);
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

  constructor(
    private readonly text: string,
    private readonly opts: HoconOptions,
  ) {
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
    const [line, column] = this.position(at);
    throw new SeedParseError(message, line, column);
  }

  private position(at: number): [line: number, column: number] {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < at && i < this.text.length; i++) {
      if (this.text.charCodeAt(i) === 10) {
        line++;
        lineStart = i + 1;
      }
    }
    return [line, at - lineStart + 1];
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
    if (this.text.startsWith('include', start) && /^include[ \t]+"/.test(this.text.slice(start, start + 64))) {
      this.parseInclude(obj);
      return;
    }
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

  /** `include "name"`: the named text's fields, merged into `obj` as if written here. */
  private parseInclude(obj: HoconObject): void {
    const start = this.pos;
    if (!this.opts.include) this.fail("'include' is not supported", start);
    this.pos += 'include'.length;
    this.skip(false);
    const name = this.parseQuoted();
    let included: HoconObject;
    try {
      included = new Parser(this.opts.include(name), this.opts).parseDocument();
    } catch (e) {
      this.fail(`in included '${name}': ${e instanceof Error ? e.message : String(e)}`, start);
    }
    for (const k of Object.keys(included)) assign(obj, k, included[k] as HoconValue);
  }

  /** `${a."b.c".d}` then, optionally, an object merged over what it names. */
  private parseSubstitution(): HoconValue {
    const start = this.pos;
    if (!this.opts.include) this.fail('substitutions are not supported', start);
    const end = this.text.indexOf('}', start);
    const nl = this.text.indexOf('\n', start);
    if (end < 0 || (nl >= 0 && nl < end)) this.fail('unterminated substitution', start);
    const path = splitPath(this.text.slice(start + 2, end));
    if (!path) this.fail('invalid substitution path', start);
    this.pos = end + 1;
    this.skip(false);
    const overlay = this.peek() === '{' ? this.parseObject() : undefined;
    const [line, column] = this.position(start);
    return new Substitution(path, overlay, line, column) as unknown as HoconValue;
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
    if (c === '$' && this.text[this.pos + 1] === '{') return this.parseSubstitution();
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

/** `a."b.c".d` as ['a', 'b.c', 'd']; undefined when malformed. */
function splitPath(text: string): string[] | undefined {
  const out: string[] = [];
  const re = /\s*(?:"([^"\\]*)"|([A-Za-z0-9_\-]+))\s*(\.|$)/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < text.length && (m = re.exec(text)) !== null) {
    out.push((m[1] ?? m[2]) as string);
    if (m[3] === '') return out;
  }
  return undefined;
}

/** A deep, mutable copy of parsed data. */
function copy(v: HoconValue): HoconValue {
  if (Array.isArray(v)) return v.map(copy);
  if (!isObject(v)) return v;
  const out: HoconObject = {};
  for (const [k, x] of Object.entries(v)) setOwn(out, k, copy(x));
  return out;
}

/** Replaces every substitution in the tree by the value its path names (itself resolved). */
function resolveSubstitutions(root: HoconObject): HoconObject {
  const resolving = new Set<Substitution>();
  const fail = (s: Substitution, message: string): never => {
    throw new SeedParseError(message, s.line, s.column);
  };
  const lookup = (s: Substitution): HoconValue => {
    let node: HoconValue = root;
    for (const k of s.path) {
      const next: HoconValue | undefined = isObject(node) && Object.prototype.hasOwnProperty.call(node, k) ? node[k] : undefined;
      if (next === undefined) fail(s, `substitution \${${s.path.join('.')}} names nothing`);
      node = next as HoconValue;
    }
    return node;
  };
  const resolve = (v: HoconValue): HoconValue => {
    if (v instanceof Substitution) {
      if (resolving.has(v)) fail(v, `circular substitution \${${v.path.join('.')}}`);
      resolving.add(v);
      const base = copy(resolve(lookup(v)));
      resolving.delete(v);
      if (!v.overlay) return base;
      if (!isObject(base)) fail(v, `substitution \${${v.path.join('.')}} is not an object, so nothing can be merged over it`);
      const overlay = resolve(v.overlay) as HoconObject;
      for (const k of Object.keys(overlay)) assign(base as HoconObject, k, overlay[k] as HoconValue);
      return base;
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = resolve(v[i] as HoconValue);
    } else if (isObject(v)) {
      for (const k of Object.keys(v)) setOwn(v, k, resolve(v[k] as HoconValue));
    }
    return v;
  };
  return resolve(root) as HoconObject;
}

/** Parses HOCON text (the subset described above) into plain data. */
export function parseHocon(text: string, opts: HoconOptions = {}): HoconObject {
  const root = new Parser(text, opts).parseDocument();
  return opts.include ? resolveSubstitutions(root) : root;
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
/**
 * The current events API (ClearML API server 2.3.0, events at 2.30): its `events.conf` and the
 * shared definitions that file includes, kept as data in `<package>/reference/`.
 */
export const REFERENCE_PATH = join(__dirname, '..', 'reference', 'events.conf');

const REF_PREFIX = '#/definitions/';
const VERSION_RE = /^(\d+)\.(\d+)$/;

export function compareVersions(a: string, b: string): number {
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

const own = (o: HoconObject, k: string): HoconValue | undefined => (Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined);

/** One parsed schema file of the events service: its endpoints, their versions and definitions. */
export class SchemaDocument {
  /** `name` says which document an error is about: 'seed' or 'reference'. */
  constructor(
    readonly name: string,
    readonly root: HoconObject,
  ) {}

  private definitions(): HoconObject {
    const defs = this.root['_definitions'];
    if (!isObject(defs)) throw new Error(`${this.name} has no _definitions`);
    return defs;
  }

  /**
   * A deep, mutable copy of `node` where every `{"$ref": "#/definitions/x", ...siblings}` is
   * replaced by the definition x (itself resolved) with the siblings laid over it. The result
   * is self-contained: ajv compiles it without any `definitions`.
   */
  resolveRefs(node: HoconValue, seen: readonly string[] = []): JsonSchema | HoconValue {
    if (Array.isArray(node)) return node.map((n) => this.resolveRefs(n, seen) as HoconValue);
    if (!isObject(node)) return node;
    const out: HoconObject = {};
    const ref = node['$ref'];
    if (ref !== undefined) {
      if (typeof ref !== 'string' || !ref.startsWith(REF_PREFIX)) throw new Error(`unsupported $ref ${JSON.stringify(ref)}`);
      const name = ref.slice(REF_PREFIX.length);
      if (seen.includes(name)) throw new Error(`circular $ref ${[...seen, name].join(' -> ')}`);
      const target = own(this.definitions(), name);
      if (!isObject(target)) throw new Error(`unknown $ref ${ref}`);
      Object.assign(out, this.resolveRefs(target, [...seen, name]));
    }
    for (const [k, v] of Object.entries(node)) {
      if (k !== '$ref') setOwn(out, k, this.resolveRefs(v, seen) as HoconValue);
    }
    return out;
  }

  /** A definition of `_definitions` (e.g. 'task_log_event'), refs resolved. */
  definition(name: string): JsonSchema {
    const def = own(this.definitions(), name);
    if (!isObject(def)) throw new Error(`${this.name} has no definition '${name}'`);
    return this.resolveRefs(def) as JsonSchema;
  }

  /** Every endpoint (top-level keys not starting with '_') with its versions. */
  endpoints(): EndpointVersions[] {
    const out: EndpointVersions[] = [];
    for (const [action, node] of Object.entries(this.root)) {
      if (action.startsWith('_') || !isObject(node)) continue;
      const versions = Object.keys(node).filter((k) => VERSION_RE.test(k)).sort(compareVersions);
      out.push({ action, versions });
    }
    return out;
  }

  /** The entry of one endpoint version (description, request, response, ...), frozen. */
  spec(action: string, version: string): HoconObject {
    const node = action.startsWith('_') ? undefined : own(this.root, action);
    if (!isObject(node)) throw new Error(`${this.name} has no endpoint '${action}'`);
    const spec = own(node, version);
    if (!isObject(spec)) throw new Error(`${this.name} has no version '${version}' of '${action}'`);
    return spec;
  }

  /**
   * The request JSON schema of an endpoint version as a fresh mutable object with `$ref`s
   * resolved, ready for `ajv.compile`. Throws for an unknown endpoint or version, or one without
   * a `request` schema (`add_batch`, whose entry is a `batch_request` of `add`).
   */
  requestSchema(action: string, version: string): JsonSchema {
    const request = this.spec(action, version)['request'];
    if (!isObject(request)) throw new Error(`${this.name} has no request schema for '${action}' ${version}`);
    return this.resolveRefs(request) as JsonSchema;
  }
}

function readDocument(name: string, path: string): SchemaDocument {
  const include = (file: string): string => {
    if (!/^[\w.-]+\.conf$/.test(file)) throw new Error(`include of '${file}': only a .conf file beside ${basename(path)} is read`);
    return readFileSync(join(dirname(path), file), 'utf8');
  };
  return new SchemaDocument(name, deepFreeze(parseHocon(readFileSync(path, 'utf8'), { include })));
}

let seed: SchemaDocument | undefined;
let reference: SchemaDocument | undefined;

/** The seed (API 2.1), parsed once and deeply frozen. */
export function seedDocument(): SchemaDocument {
  seed ??= readDocument('seed', SEED_PATH);
  return seed;
}

/** The current events API (versions up to 2.30), parsed once and deeply frozen. */
export function referenceDocument(): SchemaDocument {
  reference ??= readDocument('reference', REFERENCE_PATH);
  return reference;
}

/** The seed's `resolveRefs`; `defs` other definitions to resolve against. */
export function resolveRefs(node: HoconValue, defs?: HoconObject): JsonSchema | HoconValue {
  const doc = defs ? new SchemaDocument('definitions', { _definitions: defs }) : seedDocument();
  return doc.resolveRefs(node);
}

/** A definition of the seed's `_definitions` (e.g. 'task_log_event'), refs resolved. */
export function definitionSchema(name: string): JsonSchema {
  return seedDocument().definition(name);
}

/** Every endpoint of the seed with its versions. */
export function listEndpoints(): EndpointVersions[] {
  return seedDocument().endpoints();
}

/** The seed's request JSON schema of an endpoint version, e.g. endpointSchema('get_task_log', '1.7'). */
export function endpointSchema(action: string, version: string): JsonSchema {
  return seedDocument().requestSchema(action, version);
}
