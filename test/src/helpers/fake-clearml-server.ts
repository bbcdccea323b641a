/**
 * A FAKE ClearML server, for tests only: NOT a ClearML implementation and not part of Trackstream.
 *
 * The ClearML SDK's `Task.init` needs ClearML's own services (`projects.*`, `tasks.*`, a files
 * server for uploaded debug images), which a real ClearML server keeps in MongoDB and
 * Elasticsearch and which this machine can't run. This fake is the one base URL the SDK is
 * pointed at (its api, web and files host):
 *
 * - every `events.*` call and `auth.login` is **forwarded unchanged** to the real Trackstream
 *   under test (method, path with its `/vX.Y/`, headers but `Host`, body), and Trackstream's answer is
 *   streamed back as it is. Each forwarded call is recorded (`calls`) with its parsed body and
 *   answer, so a test can see exactly which endpoint versions and bodies the SDK sent;
 * - the few `projects.*` and `tasks.*` calls the SDK makes answer from minimal in-memory state
 *   (the projects and tasks it created, the fields the SDK reads back);
 * - a multipart POST to any other path stores the uploaded files in memory, and a GET of such a
 *   path serves them (the SDK's files-server uploads and downloads);
 * - any other API call answers a ClearML-envelope error (400) and is recorded in `unknown`, so
 *   a test shows what the fake lacks instead of silently inventing it.
 *
 * Beside that router-like `url`, `apiserverUrl` stands for the ClearML API server alone, which
 * Trackstream's gateway calls (CLEARML_API_URL): the lifecycle calls it passes on (`tasks.delete`,
 * `tasks.reset`, their `_many` forms, `projects.delete`, `models.delete*`), the listings it reads
 * (`tasks.get_all_ex`, `models.get_all_ex`), and `events.add_batch` of the last-values forward,
 * from which it keeps `last_metrics`, `last_iteration` and `last_update` as ClearML's server does.
 * With `bridge: true`, the router-like `url` sends the lifecycle calls to Trackstream too, as the
 * deployment's router does. `failNext` makes a call fail once, as a refused ClearML call.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** One call forwarded to Trackstream, with what it answered. */
export interface ForwardedCall {
  method: string;
  /** The request path as the SDK sent it, e.g. `/v2.23/events.get_task_log`. */
  path: string;
  /** The path's version (`2.23`), or null when it had none. */
  version: string | null;
  /** `events.get_task_log`, `auth.login`. */
  endpoint: string;
  /** The JSON body; a json-lines body (add_batch) as its array of lines; null when empty. */
  body: unknown;
  status: number;
  /** Trackstream's parsed answer (the envelope), or null when it was not JSON. */
  response: { meta?: { result_code?: number; result_subcode?: number; result_msg?: string }; data?: unknown } | null;
}

/** An API call the fake does not answer. */
export interface UnknownCall {
  method: string;
  path: string;
  endpoint: string;
  body: unknown;
}

/** A call the fake answered itself. */
export interface AnsweredCall {
  path: string;
  endpoint: string;
  body: unknown;
  status: number;
}

export interface FakeTask {
  id: string;
  [field: string]: unknown;
}

export interface FakeModel {
  id: string;
  task?: string;
  project?: string;
  [field: string]: unknown;
}

/** One events.add_batch the fake API server received (the last-values forward). */
export interface LastValuesCall {
  at: number;
  events: Array<Record<string, unknown>>;
}

export interface FakeClearmlServer {
  /** The SDK's api, web and files host (the deployment's router). */
  readonly url: string;
  /** The ClearML API server alone (what CLEARML_API_URL names). */
  readonly apiserverUrl: string;
  /** Where events.* (and, with `bridge`, the lifecycle calls) go: Trackstream. */
  upstream: string;
  readonly models: Map<string, FakeModel>;
  readonly lastValues: LastValuesCall[];
  /** The next call of `endpoint` answers this error instead. */
  failNext(endpoint: string, code?: number, subcode?: number): void;
  readonly calls: ForwardedCall[];
  readonly unknown: UnknownCall[];
  /** Every non-events call the fake answered, in order, with its body. */
  readonly answered: AnsweredCall[];
  readonly tasks: Map<string, FakeTask>;
  readonly projects: Map<string, { id: string; name: string; [field: string]: unknown }>;
  /** Uploaded files by URL path (`/project/task.id/metrics/...`). */
  readonly files: Map<string, Buffer>;
  close(): Promise<void>;
}

type Body = Record<string, unknown>;
type Handler = (body: Body) => unknown;

class FakeError extends Error {
  constructor(
    readonly code: number,
    readonly subcode: number,
    message: string,
  ) {
    super(message);
  }
}

const API_PATH = /^\/(?:v(\d+\.\d+)\/)?([a-z_]+)\.([a-z_]+)$/;
const FORWARDED_SERVICES = new Set(['events']);
const FORWARDED_ENDPOINTS = new Set(['auth.login']);
/** The calls the deployment's router sends to Trackstream's lifecycle bridge. */
const LIFECYCLE_ENDPOINTS = new Set(['tasks.delete', 'tasks.delete_many', 'tasks.reset', 'tasks.reset_many', 'projects.delete', 'models.delete', 'models.delete_many']);
/** Requests slower than this are logged. */
const SLOW_MS = 5_000;

export async function startFakeClearmlServer(opts: { upstream?: string; bridge?: boolean; log?: (line: string) => void }): Promise<FakeClearmlServer> {
  let upstreamUrl = opts.upstream ?? '';
  const log = opts.log ?? (() => undefined);
  const calls: ForwardedCall[] = [];
  const unknown: UnknownCall[] = [];
  const answered: AnsweredCall[] = [];
  const files = new Map<string, Buffer>();
  const projects = new Map<string, { id: string; name: string; [field: string]: unknown }>();
  const tasks = new Map<string, FakeTask>();
  const models = new Map<string, FakeModel>();
  const lastValues: LastValuesCall[] = [];
  const failures = new Map<string, FakeError>();
  const newId = (): string => randomBytes(16).toString('hex');
  const now = (): string => new Date().toISOString();

  const getTask = (body: Body): FakeTask => {
    const id = String(body['task'] ?? '');
    const t = tasks.get(id);
    if (!t) throw new FakeError(400, 101, `Invalid task id: id=${id}`);
    return t;
  };
  /** `tasks.started`, `completed`, ...: a status change, answered as ClearML does. */
  const setStatus = (status: string, stamp?: string) => (body: Body) => {
    const t = getTask(body);
    t['status'] = status;
    t['status_reason'] = body['status_reason'] ?? '';
    t['status_message'] = body['status_message'] ?? '';
    t['status_changed'] = now();
    if (stamp) t[stamp] = now();
    t['last_update'] = now();
    return { updated: 1, fields: { status } };
  };
  /** A request's fields to store: the body less the request's own (`method` is the SDK's HTTP method, sent in every body). */
  const fieldsOf = (body: Body, own: readonly string[] = []): Body => {
    const fields: Body = {};
    for (const [k, v] of Object.entries(body)) if (!['method', ...own].includes(k)) fields[k] = v;
    return fields;
  };
  const edit = (body: Body) => {
    const t = getTask(body);
    const fields = fieldsOf(body, ['task', 'force']);
    Object.assign(t, fields, { last_update: now(), last_change: now() });
    return { updated: 1, fields };
  };
  /** ClearML's list filters: `id` (a list), `name` and `project` (a list); `name` is a regex. */
  const matches = (item: Record<string, unknown>, body: Body): boolean => {
    const ids = body['id'];
    if (Array.isArray(ids) && ids.length > 0 && !ids.includes(item['id'])) return false;
    const name = body['name'];
    if (typeof name === 'string' && !new RegExp(name).test(String(item['name']))) return false;
    const project = body['project'];
    if (Array.isArray(project) && project.length > 0 && !project.includes(item['project'])) return false;
    return true;
  };
  const page = <T>(items: T[], body: Body): T[] => {
    const size = typeof body['page_size'] === 'number' ? body['page_size'] : items.length;
    const at = typeof body['page'] === 'number' ? body['page'] : 0;
    return items.slice(at * size, at * size + size);
  };

  /** ClearML's filters of the *_ex listings the bridge reads: id, project, task, parent. */
  const filterEx = <T extends Record<string, unknown>>(items: Iterable<T>, body: Body): T[] =>
    [...items].filter((x) =>
      (['id', 'project', 'task', 'parent'] as const).every((f) => {
        const want = body[f];
        return !Array.isArray(want) || want.length === 0 || want.includes(x[f]);
      }),
    );
  /** A task's output models go with it unless `delete_output_models` is false. */
  const dropOutputs = (taskId: string, body: Body): number => {
    if (body['delete_output_models'] === false) return 0;
    let n = 0;
    for (const [id, m] of models) if (m.task === taskId) (models.delete(id), n++);
    return n;
  };
  const deleteTask = (body: Body) => {
    const t = getTask(body);
    tasks.delete(t.id);
    return { deleted: true, updated_children: 0, updated_models: 0, deleted_models: dropOutputs(t.id, body), events: {} };
  };
  const resetTask = (body: Body) => {
    const t = getTask(body);
    Object.assign(t, { status: 'created', last_iteration: 0, last_metrics: {}, last_update: now() });
    return { updated: 1, fields: { status: 'created' }, deleted_models: dropOutputs(t.id, body), events: {} };
  };
  /** A `_many` call: each id as the single call would do it, failures listed as ClearML lists them. */
  const many = (single: (body: Body) => Body, key: 'task' | 'model') => (body: Body) => {
    const succeeded: Body[] = [];
    const failed: Body[] = [];
    for (const id of (body['ids'] as unknown[] | undefined) ?? []) {
      try {
        succeeded.push({ id, ...single({ ...body, [key]: id }) });
      } catch (e) {
        const err = e as FakeError;
        failed.push({ id, error: { codes: [err.code, err.subcode], msg: err.message, data: {} } });
      }
    }
    return { succeeded, failed };
  };
  const deleteModel = (body: Body) => {
    const id = String(body['model'] ?? '');
    if (!models.delete(id)) throw new FakeError(400, 201, `Invalid model id: id=${id}`);
    return { deleted: true, url: null };
  };
  /** ClearML's last_metrics update from one scalar event (its task's, keyed by md5 of the names). */
  const noteScalar = (e: Record<string, unknown>): void => {
    const t = tasks.get(String(e['task']));
    const value = e['value'];
    if (!t || e['type'] !== 'training_stats_scalar' || typeof value !== 'number') return;
    const md5 = (x: unknown) => createHash('md5').update(String(x ?? '')).digest('hex');
    const byMetric = ((t['last_metrics'] as Record<string, Record<string, Body>> | undefined) ??= {});
    const last = ((byMetric[md5(e['metric'])] ??= {})[md5(e['variant'])] ??= { metric: e['metric'], variant: e['variant'] });
    const iter = Number(e['iter'] ?? 0);
    const ts = Number(e['timestamp'] ?? 0);
    if (last['iter'] === undefined || iter > Number(last['iter']) || (iter === Number(last['iter']) && ts >= Number(last['timestamp']))) Object.assign(last, { value, iter, timestamp: ts });
    if (last['min_value'] === undefined || value < Number(last['min_value'])) Object.assign(last, { min_value: value, min_value_iter: iter });
    if (last['max_value'] === undefined || value > Number(last['max_value'])) Object.assign(last, { max_value: value, max_value_iter: iter });
    t['last_iteration'] = Math.max(Number(t['last_iteration'] ?? 0), iter);
    t['last_update'] = now();
  };

  const handlers: Record<string, Handler> = {
    'projects.get_by_id': (body) => {
      const project = projects.get(String(body['project'] ?? ''));
      if (!project) throw new FakeError(400, 401, `Invalid project id: id=${String(body['project'])}`);
      return { project };
    },
    'projects.get_all': (body) => ({ projects: page([...projects.values()].filter((p) => matches(p, body)), body) }),
    'projects.create': (body) => {
      const id = newId();
      projects.set(id, { id, name: String(body['name'] ?? ''), description: body['description'] ?? '', system_tags: body['system_tags'] ?? [], created: now() });
      return { id };
    },
    'tasks.create': (body) => {
      const id = newId();
      tasks.set(id, {
        tags: [],
        system_tags: [],
        comment: '',
        ...fieldsOf(body),
        id,
        status: 'created',
        status_reason: '',
        status_message: '',
        created: now(),
        last_update: now(),
        last_change: now(),
        user: 'fake-user',
        company: 'fake-company',
        last_iteration: 0,
        last_metrics: {},
      });
      return { id };
    },
    'tasks.get_by_id': (body) => ({ task: getTask(body) }),
    'tasks.get_all_ex': (body) => ({ tasks: page(filterEx(tasks.values(), body), body) }),
    'models.get_all_ex': (body) => ({ models: page(filterEx(models.values(), body), body) }),
    'tasks.delete': deleteTask,
    'tasks.delete_many': many(deleteTask, 'task'),
    'tasks.reset': resetTask,
    'tasks.reset_many': many(resetTask, 'task'),
    'models.delete': deleteModel,
    'models.delete_many': many(deleteModel, 'model'),
    'projects.delete': (body) => {
      const project = String(body['project'] ?? '');
      if (!projects.delete(project)) throw new FakeError(400, 401, `Invalid project id: id=${project}`);
      let deletedTasks = 0;
      let deletedModels = 0;
      if (body['delete_contents'] === true) {
        for (const [id, t] of tasks) if (t['project'] === project) (tasks.delete(id), deletedTasks++);
        for (const [id, m] of models) if (m.project === project) (models.delete(id), deletedModels++);
      }
      return { deleted: 1, disassociated_tasks: 0, deleted_tasks: deletedTasks, deleted_models: deletedModels, urls: {} };
    },
    'tasks.get_all': (body) => ({ tasks: page([...tasks.values()].filter((t) => matches(t, body)), body) }),
    'tasks.edit': edit,
    'tasks.started': setStatus('in_progress', 'started'),
    'tasks.stopped': setStatus('stopped'),
    'tasks.completed': setStatus('completed', 'completed'),
    'tasks.failed': setStatus('failed'),
    'tasks.ping': (body) => (getTask(body), {}),
    'tasks.set_requirements': (body) => {
      const t = getTask(body);
      t['script'] = { ...(t['script'] as Body | undefined), requirements: body['requirements'] };
      return { updated: 1, fields: {} };
    },
  };

  const answer = (res: ServerResponse, endpoint: string, version: string | null, status: number, subcode: number, msg: string, data: unknown): void => {
    const id = newId();
    const text = JSON.stringify({
      meta: {
        id,
        trx: id,
        endpoint: { name: endpoint, requested_version: version, actual_version: version },
        result_code: status,
        result_subcode: subcode,
        result_msg: msg,
        error_stack: null,
        error_data: {},
      },
      data,
    });
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const forward = (req: IncomingMessage, res: ServerResponse, raw: Buffer, version: string | null, endpoint: string): void => {
    const upstream = new URL(upstreamUrl);
    const headers = { ...req.headers, host: upstream.host };
    const out = httpRequest({ hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => {
        chunks.push(c);
        res.write(c);
      });
      up.on('end', () => {
        res.end();
        calls.push({
          method: req.method ?? 'GET',
          path: req.url ?? '',
          version,
          endpoint,
          body: parseBody(raw, req.headers['content-encoding'], endpoint === 'events.add_batch'),
          status: up.statusCode ?? 0,
          response: parseJson(decode(Buffer.concat(chunks), up.headers['content-encoding'])) as ForwardedCall['response'],
        });
      });
      up.on('error', () => res.destroy());
    });
    out.on('error', (e) => {
      log(`forwarding ${endpoint} failed: ${e.message}`);
      if (!res.headersSent) answer(res, endpoint, version, 502, 0, `fake ClearML server: Trackstream unreachable: ${e.message}`, {});
      else res.destroy();
    });
    out.end(raw);
  };

  /** `asApiserver`: the ClearML API server alone; else the router-like host the SDK is pointed at. */
  const serve = (asApiserver: boolean) => createServer((req, res) => {
    const started = Date.now();
    res.on('close', () => {
      const ms = Date.now() - started;
      if (ms > SLOW_MS || !res.writableFinished) log(`${req.method} ${req.url}: ${res.writableFinished ? 'answered' : 'abandoned'} after ${ms} ms`);
    });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const api = API_PATH.exec(path);
      if (!api) return serveFiles(req, res, path, raw);
      const [, version = null, service = '', action = ''] = api;
      const endpoint = `${service}.${action}`;
      if (!asApiserver && (FORWARDED_SERVICES.has(service) || FORWARDED_ENDPOINTS.has(endpoint) || (opts.bridge && LIFECYCLE_ENDPOINTS.has(endpoint)))) {
        return forward(req, res, raw, version, endpoint);
      }
      if (asApiserver && endpoint === 'events.add_batch') {
        const lines = parseBody(raw, req.headers['content-encoding'], true);
        const events = Array.isArray(lines) ? (lines as Array<Record<string, unknown>>) : [];
        lastValues.push({ at: Date.now(), events });
        for (const e of events) noteScalar(e);
        return answer(res, endpoint, version, 200, 0, 'OK', { added: events.length, errors: 0, errors_info: {} });
      }
      const body = parseBody(raw, req.headers['content-encoding'], false);
      const failure = failures.get(endpoint);
      if (failure) {
        failures.delete(endpoint);
        answered.push({ path, endpoint, body, status: failure.code });
        return answer(res, endpoint, version, failure.code, failure.subcode, failure.message, {});
      }
      const handler = handlers[endpoint];
      if (!handler) {
        unknown.push({ method: req.method ?? 'GET', path, endpoint, body });
        log(`not implemented: ${req.method} ${path} ${JSON.stringify(body)}`);
        return answer(res, endpoint, version, 400, 0, `fake ClearML server: ${endpoint} is not implemented`, {});
      }
      try {
        const data = handler(body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Body) : {});
        answered.push({ path, endpoint, body, status: 200 });
        answer(res, endpoint, version, 200, 0, 'OK', data);
      } catch (e) {
        const err = e instanceof FakeError ? e : new FakeError(500, 0, `fake ClearML server: ${endpoint} failed: ${String(e)}`);
        if (!(e instanceof FakeError)) log(err.message);
        answered.push({ path, endpoint, body, status: err.code });
        answer(res, endpoint, version, err.code, err.subcode, err.message, {});
      }
    });
  });

  /** The files host: a multipart POST stores each part under the POST's path + its field name. */
  const serveFiles = (req: IncomingMessage, res: ServerResponse, path: string, raw: Buffer): void => {
    const decoded = decodeURIComponent(path);
    if (req.method === 'POST') {
      const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(req.headers['content-type'] ?? '');
      const parts = boundary ? parseMultipart(raw, boundary[1] ?? boundary[2] ?? '') : [];
      if (parts.length === 0) {
        res.writeHead(400).end('fake files server: expected multipart/form-data');
        return;
      }
      const stored: Record<string, string> = {};
      for (const part of parts) {
        const at = `${decoded.replace(/\/$/, '')}/${part.name.replace(/^\//, '')}`;
        files.set(at, part.data);
        stored[part.name] = at;
      }
      const text = JSON.stringify(stored);
      res.writeHead(200, { 'content-type': 'application/json' }).end(text);
      return;
    }
    const file = req.method === 'GET' || req.method === 'HEAD' ? files.get(decoded) : undefined;
    if (!file) {
      log(`files: no ${req.method} ${decoded}`);
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': file.length }).end(req.method === 'HEAD' ? undefined : file);
  };

  const listen = async (server: ReturnType<typeof serve>): Promise<string> => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const router = serve(false);
  const apiserver = serve(true);
  const [url, apiserverUrl] = [await listen(router), await listen(apiserver)];
  const close = (server: ReturnType<typeof serve>) =>
    new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((e) => (e ? reject(e) : resolve()));
    });
  return {
    url,
    apiserverUrl,
    get upstream() {
      return upstreamUrl;
    },
    set upstream(u: string) {
      upstreamUrl = u;
    },
    calls,
    unknown,
    answered,
    tasks,
    models,
    projects,
    lastValues,
    files,
    failNext(endpoint, code = 500, subcode = 0) {
      failures.set(endpoint, new FakeError(code, subcode, `fake ClearML server: ${endpoint} failed on purpose`));
    },
    close: async () => {
      await close(router);
      await close(apiserver);
    },
  };
}

function decode(raw: Buffer, encoding: string | string[] | undefined): Buffer {
  return encoding === 'gzip' ? gunzipSync(raw) : raw;
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return null;
  }
}

/** A JSON body; a json-lines body (what add_batch carries) as the array of its lines. */
function parseBody(raw: Buffer, encoding: string | string[] | undefined, jsonLines: boolean): unknown {
  if (raw.length === 0) return null;
  const text = decode(raw, encoding).toString('utf8');
  const whole = parseJsonText(text);
  if (whole !== undefined && !jsonLines) return whole;
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const parsed = lines.map(parseJsonText);
  return parsed.every((l) => l !== undefined) ? parsed : text;
}

function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function parseMultipart(raw: Buffer, boundary: string): { name: string; data: Buffer }[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const out: { name: string; data: Buffer }[] = [];
  let at = raw.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    const next = raw.indexOf(delimiter, start);
    if (next < 0) break;
    const part = raw.subarray(start, next);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd >= 0) {
      const head = part.subarray(0, headerEnd).toString('utf8');
      const name = /name="([^"]*)"/.exec(head)?.[1];
      // The part's data ends before the CRLF that precedes the next delimiter.
      if (name !== undefined) out.push({ name, data: part.subarray(headerEnd + 4, part.length - 2) });
    }
    at = next;
  }
  return out;
}
