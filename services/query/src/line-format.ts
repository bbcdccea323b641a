import { validation } from '@trackstream/api';

/** One log line as download_task_log renders it. */
export interface LogLine {
  /** Epoch milliseconds. */
  readonly timestamp: number;
  readonly level: string;
  readonly worker: string;
  readonly msg: string;
}

export const LINE_PLACEHOLDERS = ['asctime', 'timestamp', 'level', 'worker', 'msg'] as const;
type Placeholder = (typeof LINE_PLACEHOLDERS)[number];
const KNOWN: ReadonlySet<string> = new Set(LINE_PLACEHOLDERS);

/** UTC `YYYY-MM-DD HH:MM:SS,mmm`, the format of Python logging's `asctime`. */
export function asctime(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2024-01-02T03:04:05.678Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)},${iso.slice(20, 23)}`;
}

function field(line: LogLine, name: Placeholder): string {
  switch (name) {
    case 'asctime':
      return asctime(line.timestamp);
    case 'timestamp':
      return String(line.timestamp);
    default:
      return line[name];
  }
}

/**
 * Compiles a `line_format` once into a renderer; the text is read the way Python's str.format
 * reads it (what the reference server and ClearML users write): `{name}` is a placeholder and
 * `{{`/`}}` are literal braces. Only the five named placeholders are allowed: anything else in
 * braces (another name, `{}`, a conversion or format spec) or a lone brace is 400/12. Every
 * rendered line ends with exactly one newline.
 */
export function compileLineFormat(format: string): (line: LogLine) => string {
  // Literal text and placeholders, in order.
  const parts: Array<{ text: string } | { field: Placeholder }> = [];
  let text = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    if (c === '{' && format[i + 1] === '{') {
      text += '{';
      i++;
    } else if (c === '}' && format[i + 1] === '}') {
      text += '}';
      i++;
    } else if (c === '}') {
      throw validation(`line_format has a single '}' at position ${i}`);
    } else if (c === '{') {
      const end = format.indexOf('}', i + 1);
      if (end < 0) throw validation(`line_format has an unclosed '{' at position ${i}`);
      const name = format.slice(i + 1, end);
      if (!KNOWN.has(name)) {
        throw validation(`undefined placeholder {${name.slice(0, 40)}} in line_format; allowed: ${LINE_PLACEHOLDERS.join(', ')}`);
      }
      parts.push({ text }, { field: name as Placeholder });
      text = '';
      i = end;
    } else {
      text += c;
    }
  }
  // As the reference does: trailing newlines stripped, exactly one added (no blank lines).
  parts.push({ text: text.replace(/\n+$/, '') + '\n' });
  return (line) => {
    let out = '';
    for (const p of parts) out += 'field' in p ? field(line, p.field) : p.text;
    return out;
  };
}
