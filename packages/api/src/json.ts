import { randomBytes } from 'node:crypto';

/**
 * JSON as Python's `json` module speaks it: bare `NaN`, `Infinity` and `-Infinity` tokens are
 * numbers (the SDK reports a loss that went NaN that way, and reads them back the same way).
 *
 * Parsing runs `JSON.parse` first; only when that fails and the text mentions one of the tokens
 * does the lenient path rewrite them (outside strings) and parse again. Nesting deeper than a
 * limit is refused without recursion.
 */

/** Default maximum nesting of objects/arrays accepted in a request body. */
export const MAX_JSON_DEPTH = 64;

export class JsonParseError extends Error {
  override readonly name = 'JsonParseError';
  constructor(
    /** `syntax`: not JSON; `depth`: nested deeper than allowed. */
    readonly kind: 'syntax' | 'depth',
    message: string,
  ) {
    super(message);
  }
}

// Per-process random markers: input cannot collide with them without knowing them.
const NONCE = randomBytes(12).toString('hex');
const NAN_MARK = `__trackstream_nan_${NONCE}__`;
const NAN_LITERAL = `"${NAN_MARK}"`;
const NONFINITE_MARK = `__trackstream_nonfinite_${NONCE}_`;
const NONFINITE_OUT = new RegExp(`"${NONFINITE_MARK}(NaN|Infinity|-Infinity)"`, 'g');

const MENTIONS_TOKEN = /NaN|Infinity/;

/**
 * Parses one JSON text, accepting bare NaN/Infinity/-Infinity. Throws JsonParseError ('syntax'
 * or 'depth'). `maxDepth` counts containers: `{}` is 1, `{"a":[]}` is 2.
 */
export function parseJson(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    if (e instanceof RangeError) throw tooDeep(maxDepth);
    if (!MENTIONS_TOKEN.test(text)) throw new JsonParseError('syntax', 'invalid JSON');
    value = parseLenient(text, maxDepth);
  }
  if (exceedsDepth(text, value, maxDepth)) throw tooDeep(maxDepth);
  return value;
}

function tooDeep(maxDepth: number): JsonParseError {
  return new JsonParseError('depth', `JSON nested deeper than ${maxDepth} levels`);
}

function reviveNaN(_key: string, v: unknown): unknown {
  return v === NAN_MARK ? NaN : v;
}

function parseLenient(text: string, maxDepth: number): unknown {
  const rewritten = rewriteNonFiniteTokens(text);
  if (rewritten === null) throw new JsonParseError('syntax', 'invalid JSON');
  // The reviver recurses: refuse deep input before it can overflow the stack.
  if (rewritten.nan && bracketCountExceeds(rewritten.text, maxDepth) && textDepthExceeds(rewritten.text, maxDepth)) {
    throw tooDeep(maxDepth);
  }
  try {
    return rewritten.nan ? JSON.parse(rewritten.text, reviveNaN) : JSON.parse(rewritten.text);
  } catch (e) {
    if (e instanceof RangeError) throw tooDeep(maxDepth);
    throw new JsonParseError('syntax', 'invalid JSON');
  }
}

/**
 * Replaces the bare tokens outside strings: Infinity -> 1e999 (which JSON.parse reads as
 * Infinity), -Infinity -> -1e999, NaN -> a marker string revived as NaN. Strings are skipped
 * whole (one indexOf per quote, not a loop per character). null: an unterminated string.
 */
function rewriteNonFiniteTokens(text: string): { text: string; nan: boolean } | null {
  const token = /"|-?Infinity|NaN/g;
  let out = '';
  let last = 0;
  let nan = false;
  for (let m = token.exec(text); m !== null; m = token.exec(text)) {
    const at = m.index;
    const tok = m[0];
    if (tok === '"') {
      let q = at + 1;
      for (;;) {
        q = text.indexOf('"', q);
        if (q < 0) return null;
        let backslashes = 0;
        for (let j = q - 1; j > at && text.charCodeAt(j) === 0x5c; j--) backslashes++;
        if (backslashes % 2 === 0) break;
        q++;
      }
      token.lastIndex = q + 1;
      continue;
    }
    out += text.slice(last, at);
    if (tok === 'NaN') {
      out += NAN_LITERAL;
      nan = true;
    } else {
      out += tok === 'Infinity' ? '1e999' : '-1e999';
    }
    last = at + tok.length;
  }
  return { text: last === 0 ? text : out + text.slice(last), nan };
}

/** Whether the text holds more than `max` opening brackets (a cheap bound: depth <= count). */
function bracketCountExceeds(text: string, max: number): boolean {
  let count = 0;
  for (let i = text.indexOf('{'); i >= 0; i = text.indexOf('{', i + 1)) if (++count > max) return true;
  for (let i = text.indexOf('['); i >= 0; i = text.indexOf('[', i + 1)) if (++count > max) return true;
  return false;
}

/** Exact nesting depth of a JSON text, skipping strings; only used before a recursive reviver. */
function textDepthExceeds(text: string, max: number): boolean {
  const re = /["{}[\]]/g;
  let depth = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const c = m[0];
    if (c === '"') {
      let q = m.index + 1;
      for (;;) {
        q = text.indexOf('"', q);
        if (q < 0) return false;
        let backslashes = 0;
        for (let j = q - 1; j > m.index && text.charCodeAt(j) === 0x5c; j--) backslashes++;
        if (backslashes % 2 === 0) break;
        q++;
      }
      re.lastIndex = q + 1;
    } else if (c === '{' || c === '[') {
      if (++depth > max) return true;
    } else {
      depth--;
    }
  }
  return false;
}

/**
 * Whether a parsed value nests deeper than `max`. Most event texts have fewer brackets than the
 * limit, which bounds the depth without looking at the value; otherwise an iterative walk.
 */
function exceedsDepth(text: string, value: unknown, max: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (!bracketCountExceeds(text, max)) return false;
  return valueDepthExceeds(value, max);
}

/** Iterative (no recursion) depth check of a tree of plain objects and arrays. */
export function valueDepthExceeds(root: unknown, max: number): boolean {
  if (root === null || typeof root !== 'object') return false;
  const values: object[] = [root];
  const depths: number[] = [1];
  while (values.length > 0) {
    const v = values.pop() as Record<string, unknown> | unknown[];
    const d = depths.pop() as number;
    if (d > max) return true;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const e = v[i];
        if (e !== null && typeof e === 'object') {
          values.push(e);
          depths.push(d + 1);
        }
      }
    } else {
      for (const k in v) {
        const e = v[k];
        if (e !== null && typeof e === 'object') {
          values.push(e);
          depths.push(d + 1);
        }
      }
    }
  }
  return false;
}

/** Whether a value holds a NaN or infinite number anywhere (iterative; stops at the first). */
function hasNonFinite(root: unknown): boolean {
  if (typeof root === 'number') return !Number.isFinite(root);
  if (root === null || typeof root !== 'object') return false;
  const stack: object[] = [root];
  let visited = 0;
  while (stack.length > 0) {
    // A cycle or a huge shared graph: let the slow path (and JSON.stringify's own checks) decide.
    if (++visited > 1_000_000) return true;
    const v = stack.pop() as Record<string, unknown> | unknown[];
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const e = v[i];
        if (typeof e === 'number') {
          if (e - e !== 0) return true;
        } else if (e !== null && typeof e === 'object') stack.push(e);
      }
    } else {
      for (const k in v) {
        const e = v[k];
        if (typeof e === 'number') {
          if (e - e !== 0) return true;
        } else if (e !== null && typeof e === 'object') stack.push(e);
      }
    }
  }
  return false;
}

function markNonFinite(_key: string, v: unknown): unknown {
  if (typeof v === 'number' && !Number.isFinite(v)) return NONFINITE_MARK + String(v);
  return v;
}

/**
 * JSON.stringify that writes NaN/Infinity/-Infinity as bare tokens (as Python does, and as the
 * SDK reads them) instead of `null`. Values without them take the plain JSON.stringify path.
 */
export function stringifyJson(value: unknown): string {
  if (!hasNonFinite(value)) return JSON.stringify(value);
  return JSON.stringify(value, markNonFinite).replace(NONFINITE_OUT, (_m, tok: string) => tok);
}
