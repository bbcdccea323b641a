/** API versions: "<major>.<minor>", compared numerically (2.10 > 2.9). */

export interface Version {
  readonly major: number;
  readonly minor: number;
}

const VERSION = /^(\d{1,6})\.(\d{1,6})$/;

/** Parses "2.23" (leading zeros allowed); null when malformed. */
export function parseVersion(s: string): Version | null {
  const m = VERSION.exec(s);
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2]) };
}

/** The canonical text of a version: "2.23", no leading zeros. */
export function formatVersion(v: Version): string {
  return `${v.major}.${v.minor}`;
}

function mustParse(s: string): Version {
  const v = parseVersion(s);
  if (!v) throw new TypeError(`invalid API version "${s}"`);
  return v;
}

/** Negative, zero or positive as `a` is below, equal to or above `b`. Throws on malformed input. */
export function compareVersions(a: string, b: string): number {
  const va = mustParse(a);
  const vb = mustParse(b);
  return va.major - vb.major || va.minor - vb.minor;
}

/**
 * Version dispatch: the handler with the highest version `<=` `requested`; with no requested
 * version, or one above every handler, the highest. `undefined` when `requested` is below every
 * handler (the caller answers 404/0).
 */
export function selectVersion<T extends { readonly version: string }>(handlers: readonly T[], requested: string | null): T | undefined {
  let best: T | undefined;
  let highest: T | undefined;
  for (const h of handlers) {
    if (highest === undefined || compareVersions(h.version, highest.version) > 0) highest = h;
    if (requested !== null && compareVersions(h.version, requested) <= 0) {
      if (best === undefined || compareVersions(h.version, best.version) > 0) best = h;
    }
  }
  if (requested === null) return highest;
  if (highest !== undefined && compareVersions(requested, highest.version) > 0) return highest;
  return best;
}
