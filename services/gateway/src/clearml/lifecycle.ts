import { randomUUID } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { newRequestId, payloadTooLarge, sendError, toApiError, unavailable, validation, type Auth } from '@trackstream/api';
import { encodeDeleteTask, isValidTaskId, messageKey, ownerKey, type Owner } from '@trackstream/event-schema';
import { Counter, Gauge, type Registry } from '@trackstream/metrics';
import type { Logger } from '@trackstream/runtime';
import type { Publisher } from '../publisher';
import { ApiserverError, callerAuth, existing, listIds, type Apiserver } from './apiserver';
import { LifecycleJournal, type LifecycleEntry, type OwnerIds } from './journal';

/**
 * The lifecycle bridge: ClearML calls that delete or reset tasks and models pass through here
 * on their way to the ClearML server, and once it answers success, their events are deleted
 * here too (delete markers on Kafka, carried out by the writer as delete_for_task's are).
 *
 * Failure behaviour (docs/clearml.md): a call is written to the journal before it is forwarded
 * and what follows is recorded as it happens, so after a crash the deletion is finished from the
 * journal; a call ClearML answers with an error deletes nothing; a call whose answer never came
 * (ClearML unreachable mid-call, or a crash) is settled by asking ClearML what is gone.
 */

/** What a call names and may delete, and what ClearML's success answer confirms. */
interface CallSpec {
  kind: 'delete' | 'reset';
  named(body: Body): OwnerIds;
  /** Owners beyond those named whose events the call may delete (their output models, a project's contents). */
  related(body: Body, named: OwnerIds, api: Apiserver, auth: Record<string, string>): Promise<OwnerIds>;
  confirmed(body: Body, data: Body): OwnerIds;
}

type Body = Record<string, unknown>;

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : []);
const none = (): OwnerIds => ({ tasks: [], models: [] });
const deletedItems = (data: Body): string[] =>
  (Array.isArray(data['succeeded']) ? (data['succeeded'] as Body[]) : []).filter((s) => s['deleted'] === true && typeof s['id'] === 'string').map((s) => s['id'] as string);
const succeededItems = (data: Body): string[] => (Array.isArray(data['succeeded']) ? (data['succeeded'] as Body[]) : []).flatMap((s) => strings(s['id']));

/** The tasks' output models, which ClearML deletes with them unless told not to; and pipeline steps when asked. */
async function outputsOf(body: Body, named: OwnerIds, api: Apiserver, auth: Record<string, string>): Promise<OwnerIds> {
  const steps = body['include_pipeline_steps'] === true && named.tasks.length > 0 ? await listIds(api, 'tasks.get_all_ex', { parent: named.tasks }, auth) : [];
  const tasks = [...named.tasks, ...steps];
  const models = body['delete_output_models'] !== false && tasks.length > 0 ? await listIds(api, 'models.get_all_ex', { task: tasks }, auth) : [];
  return { tasks: steps, models };
}

export const LIFECYCLE_CALLS: Readonly<Record<string, CallSpec>> = {
  'tasks.delete': {
    kind: 'delete',
    named: (b) => ({ tasks: strings(b['task']), models: [] }),
    related: outputsOf,
    confirmed: (b, d) => ({ tasks: d['deleted'] === true ? strings(b['task']) : [], models: [] }),
  },
  'tasks.delete_many': {
    kind: 'delete',
    named: (b) => ({ tasks: strings(b['ids']), models: [] }),
    related: outputsOf,
    confirmed: (_b, d) => ({ tasks: deletedItems(d), models: [] }),
  },
  'tasks.reset': {
    kind: 'reset',
    named: (b) => ({ tasks: strings(b['task']), models: [] }),
    related: outputsOf,
    confirmed: (b) => ({ tasks: strings(b['task']), models: [] }),
  },
  'tasks.reset_many': {
    kind: 'reset',
    named: (b) => ({ tasks: strings(b['ids']), models: [] }),
    related: outputsOf,
    confirmed: (_b, d) => ({ tasks: succeededItems(d), models: [] }),
  },
  'projects.delete': {
    kind: 'delete',
    named: none,
    async related(b, _named, api, auth) {
      if (b['delete_contents'] !== true) return none();
      const filter = { project: strings(b['project']), include_subprojects: true };
      return { tasks: await listIds(api, 'tasks.get_all_ex', filter, auth), models: await listIds(api, 'models.get_all_ex', filter, auth) };
    },
    confirmed: none,
  },
  'models.delete': {
    kind: 'delete',
    named: (b) => ({ tasks: [], models: strings(b['model']) }),
    related: async () => none(),
    confirmed: (b, d) => ({ tasks: [], models: d['deleted'] === true ? strings(b['model']) : [] }),
  },
  'models.delete_many': {
    kind: 'delete',
    named: (b) => ({ tasks: [], models: strings(b['ids']) }),
    related: async () => none(),
    confirmed: (_b, d) => ({ tasks: [], models: deletedItems(d) }),
  },
};

const PATH = new RegExp(`^/(?:v[0-9]+\\.[0-9]+/)?(${Object.keys(LIFECYCLE_CALLS).map((c) => c.replace('.', '\\.')).join('|')})/?$`);
const HOP_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'content-encoding', 'keep-alive', 'expect']);

export interface LifecycleDeps {
  auth: Auth;
  api: Apiserver;
  apiUrl: string;
  journal: LifecycleJournal;
  publisher: Publisher;
  logger: Logger;
  registry: Registry;
  bodyLimit: number;
  timeoutMs: number;
  /** How often unfinished entries are retried. */
  retryMs: number;
}

export interface LifecycleBridge {
  routes: Router;
  /** Finishes what the journal holds (on start, then every retryMs). */
  start(): void;
  stop(): Promise<void>;
  /** Entries not finished yet. */
  pending(): number;
}

const union = (a: readonly string[], b: readonly string[]): string[] => [...new Set([...a, ...b])];
const valid = (ids: OwnerIds): OwnerIds => ({ tasks: ids.tasks.filter(isValidTaskId), models: ids.models.filter(isValidTaskId) });

export function createLifecycleBridge(deps: LifecycleDeps): LifecycleBridge {
  const log = deps.logger.child({ component: 'clearml-lifecycle' });
  const calls = new Counter({ name: 'gateway_clearml_lifecycle_calls_total', help: 'Lifecycle calls passed to the ClearML server, by call and ClearML\'s outcome', labelNames: ['call', 'outcome'], registers: [deps.registry] });
  const deletions = new Counter({ name: 'gateway_clearml_lifecycle_deletions_total', help: 'Tasks and models whose events the lifecycle bridge deleted', labelNames: ['owner'], registers: [deps.registry] });
  new Gauge({
    name: 'gateway_clearml_lifecycle_pending',
    help: 'Lifecycle calls whose deletion is not finished (ClearML or Kafka unreachable)',
    registers: [deps.registry],
    collect() {
      this.set(deps.journal.pending().length);
    },
  });

  const publish = async (tenant: string, owner: Owner, id: string): Promise<void> => {
    const key = ownerKey(owner, id);
    await deps.publisher.send([{ key: messageKey(tenant, key), value: encodeDeleteTask({ tenant, task: key, receivedAt: Date.now(), requestId: randomUUID() }) }]);
    deletions.inc({ owner });
  };

  /** The owners whose events go, once ClearML's outcome is known or can be checked. */
  async function decide(e: LifecycleEntry): Promise<OwnerIds> {
    const confirmed = e.outcome?.ok ? e.outcome.confirmed : none();
    const gone = async (what: 'tasks' | 'models', ids: readonly string[]): Promise<string[]> => {
      const unsure = ids.filter((id) => !confirmed[what].includes(id));
      if (unsure.length === 0) return [];
      const still = await existing(deps.api, what, unsure, e.auth);
      return unsure.filter((id) => !still.has(id));
    };
    const models = union(confirmed.models, await gone('models', e.candidates.models));
    if (e.kind === 'delete') return { tasks: union(confirmed.tasks, await gone('tasks', e.candidates.tasks)), models };
    // A reset keeps the task: without ClearML's answer, a task now in status "created" was reset.
    if (e.outcome?.ok) return { tasks: confirmed.tasks, models };
    const reset: string[] = [];
    for (let i = 0; i < e.candidates.tasks.length; i += 500) {
      const id = e.candidates.tasks.slice(i, i + 500);
      const rows = await deps.api.call<{ tasks?: Array<{ id: string; status?: string }> }>('tasks.get_all_ex', { id, only_fields: ['id', 'status'], page: 0, page_size: id.length, search_hidden: true }, e.auth);
      reset.push(...(rows.tasks ?? []).filter((t) => t.status === 'created').map((t) => t.id));
    }
    return { tasks: reset, models };
  }

  async function finish(e: LifecycleEntry): Promise<void> {
    if (e.done) return;
    if (e.outcome && !e.outcome.ok) return deps.journal.done(e.id);
    if (!e.owners) await deps.journal.apply(e.id, valid(await decide(e)));
    const owners = e.owners as OwnerIds;
    for (const id of owners.tasks) await publish(e.tenant, 'task', id);
    for (const id of owners.models) await publish(e.tenant, 'model', id);
    await deps.journal.done(e.id);
    log.info({ call: e.call, tasks: owners.tasks.length, models: owners.models.length }, 'events of deleted or reset owners deleted');
  }

  let running: Promise<void> | undefined;
  let again = false;
  const pass = async (): Promise<void> => {
    do {
      again = false;
      for (const e of deps.journal.pending()) {
        try {
          await finish(e);
        } catch (err) {
          log.warn({ err, call: e.call, id: e.id }, 'lifecycle deletion not finished yet; will retry');
        }
      }
    } while (again);
  };
  /** Passes over the unfinished entries (one more if asked during a pass); what fails is retried on the next. */
  const sweep = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    const p = pass().finally(() => {
      running = undefined;
    });
    running = p;
    return p;
  };

  async function handle(req: Request, res: Response, call: string): Promise<void> {
    const spec = LIFECYCLE_CALLS[call] as CallSpec;
    const envelope = { id: newRequestId(), trx: String(req.headers['x-clearml-trx'] ?? ''), endpoint: { name: call, requested_version: null, actual_version: null } };
    envelope.trx ||= envelope.id;
    try {
      const identity = await deps.auth.authenticate(req);
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      let body: Body;
      try {
        body = raw.length === 0 ? { ...(req.query as Body) } : (JSON.parse(raw.toString('utf8')) as Body);
      } catch {
        throw validation('the request body is not JSON');
      }
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw validation('the request body must be a JSON object');
      // Kept to check the call's effect later, as the caller.
      const auth = callerAuth(req.headers);
      const named = spec.named(body);
      let related: OwnerIds;
      try {
        related = await spec.related(body, named, deps.api, auth);
      } catch (e) {
        throw unavailable(`could not read what ${call} would delete from the ClearML server; nothing was done`, 5, e);
      }
      const entry: LifecycleEntry = {
        id: randomUUID(),
        tenant: identity.tenant,
        call,
        kind: spec.kind,
        auth,
        candidates: { tasks: union(named.tasks, related.tasks), models: union(named.models, related.models) },
      };
      await deps.journal.intent(entry).catch((e: unknown) => Promise.reject(unavailable('the lifecycle journal is not writable; nothing was done', 5, e)));

      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (!HOP_HEADERS.has(k) && typeof v === 'string') headers[k] = v;
      let answer: globalThis.Response;
      try {
        answer = await fetch(`${deps.apiUrl.replace(/\/+$/, '')}${req.originalUrl}`, {
          method: req.method,
          headers,
          ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body: raw }),
          signal: AbortSignal.timeout(deps.timeoutMs),
        });
      } catch (e) {
        // Whether ClearML carried it out is unknown: the sweep asks it what is gone.
        calls.inc({ call, outcome: 'unknown' });
        void sweep();
        throw unavailable(`the ClearML server did not answer ${call}`, 5, e);
      }
      const text = Buffer.from(await answer.arrayBuffer());
      let data: Body | undefined;
      let ok = false;
      try {
        const json = JSON.parse(text.toString('utf8')) as { meta?: { result_code?: number }; data?: Body };
        ok = answer.status === 200 && (json.meta?.result_code ?? 200) === 200;
        data = json.data ?? {};
      } catch {
        ok = false;
      }
      // ClearML's answer reaches the caller even if its outcome can't be recorded: the sweep then settles the entry by asking ClearML.
      await deps.journal.outcome(entry.id, ok ? { ok: true, confirmed: spec.confirmed(body, data ?? {}) } : { ok: false }).catch((err: unknown) => log.error({ err, call }, 'could not record ClearML\'s outcome; it will be checked'));
      calls.inc({ call, outcome: ok ? 'succeeded' : 'failed' });
      res.status(answer.status);
      const type = answer.headers.get('content-type');
      if (type) res.setHeader('content-type', type);
      res.end(text);
      void sweep();
    } catch (e) {
      sendError(res, envelope, toApiError(e instanceof ApiserverError ? unavailable(e.message, 5, e) : e), log);
    }
  }

  const routes = express.Router();
  routes.use(PATH, express.raw({ type: () => true, limit: deps.bodyLimit }));
  routes.all(PATH, (req, res) => {
    const call = (PATH.exec(req.path) as RegExpExecArray)[1] as string;
    void handle(req, res, call);
  });
  // The body could not be read: too large, or a bad encoding.
  routes.use(PATH, (err: { type?: string }, req: Request, res: Response, _next: express.NextFunction) => {
    const envelope = { id: newRequestId(), trx: newRequestId(), endpoint: { name: PATH.exec(req.path)?.[1] ?? null, requested_version: null, actual_version: null } };
    sendError(res, envelope, err.type === 'entity.too.large' ? payloadTooLarge(deps.bodyLimit) : validation('the request body could not be read', err), log);
  });

  let timer: NodeJS.Timeout | undefined;
  return {
    routes,
    pending: () => deps.journal.pending().length,
    start() {
      void sweep();
      timer = setInterval(() => void sweep(), deps.retryMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await running;
      await deps.journal.close();
    },
  };
}
