/**
 * Functions compiled from the kinds' descriptor: the per-event hot paths (normalising a validated
 * event, rendering its v2 line) read each field by a fixed property name, as hand-written code
 * would, instead of by a name held in a variable, which is several times slower per event in V8.
 * Only the descriptor's own names go into the generated code, each checked to be an identifier.
 */

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** `e.<name>`, for a field name of the descriptor. */
export function fieldOf(object: string, name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`event kinds: field name ${JSON.stringify(name)} is not an identifier`);
  return `${object}.${name}`;
}

/** Compiles `body` into a function of `params`, with `scope`'s values in reach by name. */
export function compile<F>(scope: Record<string, unknown>, params: readonly string[], body: string): F {
  const names = Object.keys(scope);
  for (const n of [...names, ...params]) if (!/^[A-Za-z_$][\w$]*$/.test(n)) throw new Error(`compile: ${n} is not an identifier`);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from the descriptor only
  return new Function(...names, `"use strict"; return function (${params.join(', ')}) { ${body} };`)(...names.map((n) => scope[n])) as F;
}
