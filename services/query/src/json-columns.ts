/**
 * Answers too big to build in memory (every point of a curve, a 200,000-point page), written as
 * JSON text while ClickHouse's rows arrive. ClickHouse renders each value as its JSON token and
 * cuts each column of each leaf object (a curve, a variant) into chunks of comma-separated
 * tokens; Node only strings the chunks together and opens and closes the objects around them.
 * Memory stays at one block of chunks whatever the answer's size.
 */

/** One row of such a result: a chunk of one column of one leaf object. */
export interface ColumnChunk {
  /** The keys from the answer's root object down to the leaf, e.g. [metric, variant]. */
  readonly path: readonly string[];
  /** Index of the column among the leaf's `columns`. */
  readonly col: number;
  /** Comma-separated JSON tokens. */
  readonly s: string;
}

export interface ColumnsWriterOptions {
  /** Member names of each leaf's arrays, in the order they are written. */
  readonly columns: readonly string[];
  /** Each leaf starts with `"name": <its own key>` (a histogram series' name). */
  readonly nameMember?: boolean;
}

const key = (k: string): string => JSON.stringify(k);

/**
 * Writes the members of one JSON object (the caller writes its braces) from chunks sorted by path,
 * then column, then position: every leaf's path objects are opened when its first chunk comes and
 * closed when a chunk of another path does. A column a leaf has no chunk of is an empty array.
 */
export class ColumnsWriter {
  private readonly columns: readonly string[];
  private readonly nameMember: boolean;
  /** Keys of the open objects, the leaf's last when `leafOpen`. */
  private readonly open: string[] = [];
  /** Per depth (0 = the caller's object), whether it has a member yet. */
  private readonly hasMember: boolean[] = [false];
  private leafOpen = false;
  private col = 0;

  constructor(opts: ColumnsWriterOptions) {
    this.columns = opts.columns;
    this.nameMember = opts.nameMember ?? false;
  }

  /** The text that adds `chunk`. Chunks must come sorted (a path's chunks together, columns in order). */
  write(chunk: ColumnChunk): string {
    return this.opening(chunk.path, chunk.col) + chunk.s;
  }

  /** The text that goes before the tokens of a chunk of column `col` of the leaf at `path` (same order as `write`). */
  opening(path: readonly string[], col: number): string {
    if (path.length === 0) throw new Error('json-columns: a chunk with no path');
    if (col < 0 || col >= this.columns.length) throw new Error(`json-columns: no column ${col}`);
    if (this.leafOpen && this.isOpenLeaf(path)) {
      if (col === this.col) return ',';
      if (col < this.col) throw new Error('json-columns: chunks out of order');
      const out = `]${this.emptyColumns(this.col + 1, col)},${key(this.columns[col] as string)}:[`;
      this.col = col;
      return out;
    }
    let out = this.closeLeaf();
    const containers = path.length - 1;
    let common = 0;
    while (common < containers && common < this.open.length && this.open[common] === path[common]) common++;
    while (this.open.length > common) {
      this.open.pop();
      out += '}';
    }
    for (let depth = common; depth <= containers; depth++) {
      const k = path[depth] as string;
      out += `${this.hasMember[depth] ? ',' : ''}${key(k)}:{`;
      this.hasMember[depth] = true;
      this.hasMember[depth + 1] = false;
      this.open.push(k);
    }
    const leaf = path[containers] as string;
    out += `${this.nameMember ? `"name":${key(leaf)},` : ''}${this.emptyColumns(0, col).slice(1)}${col > 0 ? ',' : ''}${key(this.columns[col] as string)}:[`;
    this.leafOpen = true;
    this.col = col;
    return out;
  }

  /** The text that closes every open object (the caller's own stays open). */
  end(): string {
    let out = this.closeLeaf();
    while (this.open.length > 0) {
      this.open.pop();
      out += '}';
    }
    return out;
  }

  private isOpenLeaf(path: readonly string[]): boolean {
    return path.length === this.open.length && path.every((k, i) => k === this.open[i]);
  }

  private closeLeaf(): string {
    if (!this.leafOpen) return '';
    this.leafOpen = false;
    this.open.pop();
    return `]${this.emptyColumns(this.col + 1, this.columns.length)}}`;
  }

  /** `,"<col>":[]` for each column index in [from, to). */
  private emptyColumns(from: number, to: number): string {
    let out = '';
    for (let c = from; c < to; c++) out += `,${key(this.columns[c] as string)}:[]`;
    return out;
  }
}

/** Tokens per chunk: a row of a few tens of KB. */
export const CHUNK_TOKENS = 4096;

/** SQL: a Float64 as its JSON token, Python's NaN/Infinity/-Infinity for the non-finite ones. */
export function valueToken(x: string): string {
  return `multiIf(isNaN(${x}), 'NaN', isInfinite(${x}), if(${x} > 0, 'Infinity', '-Infinity'), toString(${x}))`;
}

/**
 * SQL: `f(e)` for each element `e` of `array`, as comma-separated JSON tokens (Python's NaN and
 * Infinity for the non-finite values). One toString per element, then three passes over the text:
 * ClickHouse writes non-finite floats as nan, -nan, inf and -inf, and no finite number's text
 * holds those letters. Cheaper than `valueToken` per element for long arrays.
 */
export function valueTokens(array: string, f: string): string {
  return `replaceAll(replaceAll(replaceAll(arrayStringConcat(arrayMap(e -> toString(${f}), ${array}), ','), '-nan', 'NaN'), 'nan', 'NaN'), 'inf', 'Infinity')`;
}

/** SQL: epoch milliseconds as the JSON string of their UTC ISO time (`"2024-01-01T00:00:00.000Z"`, as JavaScript's toISOString). */
export function isoTimeToken(ms: string): string {
  return `concat('"', replaceOne(toString(fromUnixTimestamp64Milli(toInt64(${ms}), 'UTC')), ' ', 'T'), 'Z"')`;
}

/**
 * SQL clauses that turn each row holding `columns` (an Array(Array(String)) of tokens) into one
 * row per chunk: `col` (0-based index of the column) and `s` (its chunk of tokens) become
 * available to the SELECT list, and `part` (the chunk's position) to ORDER BY.
 */
export function chunkJoin(columns: string): { clauses: string; col: string; s: string } {
  return {
    clauses: `ARRAY JOIN ${columns} AS column_tokens, arrayEnumerate(${columns}) AS column_number
      ARRAY JOIN range(toUInt64(intDiv(length(column_tokens) + ${CHUNK_TOKENS - 1}, ${CHUNK_TOKENS}))) AS part`,
    col: 'toUInt8(column_number - 1)',
    s: `arrayStringConcat(arraySlice(column_tokens, part * ${CHUNK_TOKENS} + 1, ${CHUNK_TOKENS}), ',')`,
  };
}
