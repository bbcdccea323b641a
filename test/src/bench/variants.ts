/**
 * `--variant name:KEY=VALUE,KEY=VALUE` (repeatable): the same benchmark run on processes started
 * with other settings, side by side in one run (e.g. `--variant base:GATEWAY_PRODUCE_LINGER_MS=-1`),
 * since figures of two runs on a shared machine differ by more than most changes.
 */

export interface Variant {
  name: string;
  env: Record<string, string>;
}

const NAME = /^[A-Za-z0-9_.-]{1,40}$/;
const KEY = /^[A-Z][A-Z0-9_]*$/;

function parseVariant(text: string): Variant {
  const colon = text.indexOf(':');
  const name = colon < 0 ? text : text.slice(0, colon);
  if (!NAME.test(name)) throw new Error(`--variant ${text}: the name must be letters, digits, _ . -`);
  const env: Record<string, string> = {};
  for (const pair of colon < 0 ? [] : text.slice(colon + 1).split(',').filter((p) => p !== '')) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (eq < 0 || !KEY.test(key)) throw new Error(`--variant ${text}: "${pair}" is not KEY=VALUE`);
    env[key] = pair.slice(eq + 1);
  }
  return { name, env };
}

/** The --variant flags of `argv`; none: one variant, 'default', with no settings. */
export function parseVariants(argv: readonly string[]): Variant[] {
  const out: Variant[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--variant') out.push(parseVariant(argv[++i] ?? ''));
    else if (a.startsWith('--variant=')) out.push(parseVariant(a.slice('--variant='.length)));
  }
  if (new Set(out.map((v) => v.name)).size !== out.length) throw new Error('--variant names must differ');
  return out.length > 0 ? out : [{ name: 'default', env: {} }];
}
