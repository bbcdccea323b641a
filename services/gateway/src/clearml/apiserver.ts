/**
 * Calls to the ClearML API server, as the caller (their Authorization header or cookie): what the
 * lifecycle bridge reads before and after a call, and the last-values forward.
 */

/** Request headers the ClearML server authenticates with: the caller's, kept to call it as them. */
export function callerAuth(headers: Readonly<Record<string, string | string[] | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of ['authorization', 'cookie']) {
    const v = headers[h];
    if (typeof v === 'string') out[h] = v;
  }
  return out;
}

export class ApiserverError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface Apiserver {
  /** `data` of a successful call (a string body is sent as is: json-lines); ApiserverError otherwise (unreachable, or not a success). */
  call<T = Record<string, unknown>>(endpoint: string, body: unknown, auth: Record<string, string>): Promise<T>;
}

export function createApiserver(baseUrl: string, timeoutMs: number): Apiserver {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    async call<T>(endpoint: string, body: unknown, auth: Record<string, string>): Promise<T> {
      let res: Response;
      try {
        res = await fetch(`${base}/${endpoint}`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: typeof body === 'string' ? body : JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (e) {
        throw new ApiserverError(`the ClearML server is unreachable (${endpoint}): ${(e as Error).message}`);
      }
      const text = await res.text();
      let json: { meta?: { result_code?: number; result_msg?: string }; data?: T } | undefined;
      try {
        json = JSON.parse(text) as typeof json;
      } catch {
        json = undefined;
      }
      if (!res.ok || !json || (json.meta?.result_code ?? res.status) !== 200) {
        throw new ApiserverError(`${endpoint}: ${res.status} ${json?.meta?.result_msg ?? text.slice(0, 200)}`, res.status);
      }
      return (json.data ?? {}) as T;
    },
  };
}

/** Pages of ids: every entity of `endpoint` (tasks.get_all_ex, models.get_all_ex) matching `filter`. */
export async function listIds(api: Apiserver, endpoint: string, filter: Record<string, unknown>, auth: Record<string, string>): Promise<string[]> {
  const key = endpoint.startsWith('tasks.') ? 'tasks' : 'models';
  const PAGE = 500;
  const ids: string[] = [];
  for (let page = 0; ; page++) {
    const data = await api.call<Record<string, Array<{ id: string }> | undefined>>(endpoint, { ...filter, only_fields: ['id'], page, page_size: PAGE, search_hidden: true }, auth);
    const got = data[key] ?? [];
    ids.push(...got.map((x) => x.id));
    if (got.length < PAGE) return ids;
  }
}

/** Those of `ids` the ClearML server still has. */
export async function existing(api: Apiserver, what: 'tasks' | 'models', ids: readonly string[], auth: Record<string, string>): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    for (const id of await listIds(api, `${what}.get_all_ex`, { id: chunk }, auth)) found.add(id);
  }
  return found;
}
