/**
 * Enough of nginx to check the routers' configurations as data: a parser of nginx's syntax
 * (directives, blocks, quotes, comments) and a location matcher with nginx's selection rules, so
 * a test can ask which upstream a request path reaches and with which URI.
 *
 * Location selection, as nginx does it (http://nginx.org/en/docs/http/ngx_http_core_module.html#location):
 * an exact `=` match wins at once; otherwise the longest matching prefix is remembered, and if it
 * is `^~` it wins; otherwise the regex locations (`~`, `~*`) are tried in the order they appear
 * and the first match wins; otherwise the remembered prefix. In the chosen location, `rewrite`
 * directives run in order: `last` searches the locations again with the new URI, `break` keeps
 * the location. `proxy_pass http://NAME` without a URI part passes the (rewritten) URI on;
 * `return` answers from nginx itself. Nested locations, `if` and variables other than regex
 * captures are not modelled: the checks refuse a configuration that relies on them.
 */

export interface Directive {
  readonly name: string;
  readonly args: readonly string[];
  /** The `{ ... }` block, when the directive has one. */
  readonly block?: readonly Directive[];
}

/** Parses nginx configuration text; throws on unbalanced braces or a directive without `;`. */
export function parseNginx(text: string): Directive[] {
  const tokens = tokenize(text);
  let i = 0;
  const parseBlock = (top: boolean): Directive[] => {
    const out: Directive[] = [];
    let words: string[] = [];
    for (; i < tokens.length; i++) {
      const t = tokens[i] as Token;
      if (t.kind === 'word') words.push(t.text);
      else if (t.kind === ';') {
        if (words.length === 0) throw new Error(`line ${t.line}: unexpected ";"`);
        out.push({ name: words[0] as string, args: words.slice(1) });
        words = [];
      } else if (t.kind === '{') {
        if (words.length === 0) throw new Error(`line ${t.line}: a block without a directive`);
        const [name, ...args] = words;
        words = [];
        i++;
        const block = parseBlock(false);
        out.push({ name: name as string, args, block });
      } else {
        if (top) throw new Error(`line ${t.line}: unexpected "}"`);
        if (words.length > 0) throw new Error(`line ${t.line}: "${words.join(' ')}" is not ended with ";"`);
        return out;
      }
    }
    if (!top) throw new Error('unexpected end of file: a block is not closed');
    if (words.length > 0) throw new Error(`"${words.join(' ')}" is not ended with ";"`);
    return out;
  };
  return parseBlock(true);
}

interface Token {
  readonly kind: 'word' | ';' | '{' | '}';
  readonly text: string;
  readonly line: number;
}

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) i++;
    else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === ';' || c === '{' || c === '}') {
      out.push({ kind: c, text: c, line });
      i++;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      while (j < text.length && text[j] !== c) {
        if (text[j] === '\\' && j + 1 < text.length && ['"', "'", '\\'].includes(text[j + 1] as string)) {
          // nginx unescapes \", \' and \\ in a quoted string; other backslashes stay (regexes).
          s += text[j + 1];
          j += 2;
        } else {
          if (text[j] === '\n') line++;
          s += text[j];
          j++;
        }
      }
      if (j >= text.length) throw new Error(`line ${line}: unterminated string`);
      out.push({ kind: 'word', text: s, line });
      i = j + 1;
    } else {
      let j = i;
      // As nginx reads them: a word ends at a space, ";", "{" or "}", but "${name}" is one variable.
      while (j < text.length && !/[\s;{}]/.test(text[j] as string)) {
        if (text[j] === '$' && text[j + 1] === '{') {
          const close = text.indexOf('}', j);
          if (close < 0) throw new Error(`line ${line}: unterminated variable`);
          j = close + 1;
        } else j++;
      }
      out.push({ kind: 'word', text: text.slice(i, j), line });
      i = j;
    }
  }
  return out;
}

/** The directives named `name` directly in `block`. */
export function directives(block: readonly Directive[], name: string): Directive[] {
  return block.filter((d) => d.name === name);
}

/** The one directive named `name` in `block`; throws when there is none or several. */
export function only(block: readonly Directive[], name: string): Directive {
  const ds = directives(block, name);
  if (ds.length !== 1) throw new Error(`expected one "${name}", found ${ds.length}`);
  return ds[0] as Directive;
}

export interface NginxConfig {
  readonly top: readonly Directive[];
  readonly http: readonly Directive[];
  /** upstream name -> its `server` addresses. */
  readonly upstreams: ReadonlyMap<string, readonly string[]>;
  readonly servers: readonly Server[];
}

export interface Server {
  readonly listen: readonly string[];
  readonly directives: readonly Directive[];
  readonly locations: readonly Location[];
}

export interface Location {
  /** '=' | '^~' | '~' | '~*' | '' (a plain prefix). */
  readonly modifier: string;
  readonly pattern: string;
  readonly directives: readonly Directive[];
  /** For regex locations. */
  readonly regex?: RegExp;
}

export function loadNginx(text: string): NginxConfig {
  const top = parseNginx(text);
  const http = only(top, 'http').block ?? [];
  const upstreams = new Map(
    directives(http, 'upstream').map((u) => [u.args[0] as string, directives(u.block ?? [], 'server').map((s) => s.args[0] as string)] as const),
  );
  const servers = directives(http, 'server').map((s): Server => {
    const block = s.block ?? [];
    const locations = directives(block, 'location').map((l): Location => {
      const [a = '', b] = l.args;
      const modifier = b === undefined ? '' : a;
      const pattern = b === undefined ? a : b;
      if (!['', '=', '^~', '~', '~*'].includes(modifier)) throw new Error(`location ${l.args.join(' ')}: unknown modifier`);
      const inner = l.block ?? [];
      for (const d of inner) {
        if (d.name === 'location' || d.name === 'if') throw new Error(`location ${pattern}: nested "${d.name}" is not modelled by the matcher`);
      }
      const regex = modifier === '~' ? new RegExp(pattern) : modifier === '~*' ? new RegExp(pattern, 'i') : undefined;
      return { modifier, pattern, directives: inner, ...(regex ? { regex } : {}) };
    });
    return { listen: directives(block, 'listen').map((d) => d.args.join(' ')), directives: block, locations };
  });
  return { top, http, upstreams, servers };
}

/** The location nginx picks for `uri` in `server`. */
export function selectLocation(server: Server, uri: string): Location | undefined {
  const exact = server.locations.find((l) => l.modifier === '=' && l.pattern === uri);
  if (exact) return exact;
  let prefix: Location | undefined;
  for (const l of server.locations) {
    if ((l.modifier === '' || l.modifier === '^~') && uri.startsWith(l.pattern) && (!prefix || l.pattern.length > prefix.pattern.length)) prefix = l;
  }
  if (prefix?.modifier === '^~') return prefix;
  return server.locations.find((l) => l.regex?.test(uri)) ?? prefix;
}

export type Routed =
  | { readonly kind: 'proxy'; readonly upstream: string; readonly uri: string; readonly location: Location }
  | { readonly kind: 'return'; readonly status: number; readonly location: Location }
  | { readonly kind: 'none'; readonly uri: string };

/** Where nginx sends a request for `uri` (a path, without the query string). */
export function route(server: Server, uri: string): Routed {
  let current = uri;
  for (let cycle = 0; cycle < 10; cycle++) {
    const location = selectLocation(server, current);
    if (!location) return { kind: 'none', uri: current };
    let restart = false;
    for (const d of location.directives) {
      if (d.name === 'rewrite') {
        const [pattern = '', replacement = '', flag] = d.args;
        const m = new RegExp(pattern).exec(current);
        if (!m) continue;
        current = replacement.replace(/\$(\d)/g, (_s, n: string) => m[Number(n)] ?? '');
        if (flag === 'last') {
          restart = true;
          break;
        }
        if (flag === 'break') break;
        throw new Error(`rewrite ${pattern}: only "last" and "break" are modelled`);
      }
    }
    if (restart) continue;
    const ret = location.directives.find((d) => d.name === 'return');
    if (ret) return { kind: 'return', status: Number(ret.args[0]), location };
    const pass = location.directives.find((d) => d.name === 'proxy_pass');
    if (!pass) return { kind: 'none', uri: current };
    const m = /^http:\/\/([^/]+)$/.exec(pass.args[0] ?? '');
    if (!m) throw new Error(`proxy_pass ${pass.args[0] ?? ''}: only http://UPSTREAM without a URI part is modelled`);
    return { kind: 'proxy', upstream: m[1] as string, uri: current, location };
  }
  throw new Error(`${uri}: rewrite cycle`);
}
