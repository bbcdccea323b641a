
export interface ApiPath {
  /** "events" */
  readonly service: string;
  /** "add_batch" */
  readonly action: string;
  /** "events.add_batch" */
  readonly name: string;
  /** Canonical requested version ("2.23"), or null when the path has none. */
  readonly version: string | null;
}

const API_PATH = /^\/(?:v(\d{1,6})\.(\d{1,6})\/)?([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)\/?$/;

/** Parses `/<service>.<action>` or `/v<major>.<minor>/<service>.<action>`, optional trailing `/`; null when malformed. */
export function tryParsePath(path: string): ApiPath | null {
  const m = API_PATH.exec(path);
  if (!m) return null;
  const [, major, minor, service = '', action = ''] = m;
  return {
    service,
    action,
    name: `${service}.${action}`,
    version: major === undefined || minor === undefined ? null : `${Number(major)}.${Number(minor)}`,
  };
}
