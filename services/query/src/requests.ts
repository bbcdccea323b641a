import { compareVersions, invalidTaskId, type JsonSchema, type RequestContext } from '@trackstream/api';
import { endpointSchema, isValidTaskId, listEndpoints, ownerKey, ownerOfKey, referenceDocument, type Owner } from '@trackstream/event-schema';

const seedHas = (action: string, version: string): boolean => listEndpoints().some((e) => e.action === action && e.versions.includes(version));

/**
 * Request schemas: the API's schema of the endpoint version (the seed's for the versions it
 * defines, 2.1 and older; the current reference's for the newer ones), with what we add laid over
 * its properties (defaults, bounds, enums) and extra required fields.
 */
export function requestSchema(action: string, version: string, properties: Record<string, JsonSchema> = {}, required: readonly string[] = []): JsonSchema {
  const seed = seedHas(action, version) ? endpointSchema(action, version) : referenceDocument().requestSchema(action, version);
  const props = { ...(seed['properties'] as Record<string, JsonSchema> | undefined) };
  for (const [name, extra] of Object.entries(properties)) props[name] = { ...props[name], ...extra };
  // The SDK may send null for "not set".
  if (props['model_events']) props['model_events'] = { ...props['model_events'], type: ['boolean', 'null'] };
  const seedRequired = (seed['required'] as string[] | undefined) ?? [];
  return { ...seed, properties: props, required: [...new Set([...seedRequired, ...required])] };
}

/** Largest page any paged endpoint returns (the reference server's cap). */
export const MAX_PAGE = 10_000;
export const DEFAULT_PAGE = 500;

/** Reusable property schemas. */
export const props = {
  /** The SDK may send `scroll_id: null` for "no cursor". */
  scrollId: { type: ['string', 'null'] },
  order: { type: 'string', enum: ['asc', 'desc'], default: 'asc' },
  batchSize: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE },
  // Bound by the UInt32 it is bound to in SQL: larger values (1e300, Infinity, which ajv counts as
  // integers) would fail there as a 500 or wrap around to LIMIT 0.
  iters: { type: 'integer', minimum: 1, maximum: 4_294_967_295, default: 1 },
  samples: { type: 'integer', minimum: 1, maximum: 6000, default: 2000 },
  key: { type: 'string', enum: ['iter', 'timestamp'], default: 'iter' },
  /** `samples` of the histograms' newer versions (2.14 on): 0 is every point. */
  samplesCurrent: { type: 'integer', minimum: 0, maximum: 6000, default: 6000 },
  keyCurrent: { type: 'string', enum: ['iter', 'timestamp', 'iso_time'], default: 'iter' },
  tasks: { type: 'array', minItems: 1, maxItems: 100, items: { type: 'string' } },
  /**
   * A metric or variant name asked for: bounded so that, escaped, it stays within what ClickHouse
   * takes as one query parameter (http_max_field_value_size, 128 KiB by default); longer is 400/12.
   */
  name: { type: 'string', maxLength: 16_384 },
  /** An iteration asked for (null: none); values beyond Int64 are clamped where they are bound. */
  iteration: { type: ['integer', 'null'] },
} as const satisfies Record<string, JsonSchema>;

/**
 * Whose events a read asks for: a model's with `model_events: true` (defined from 2.22; an older
 * version's request reads the task's, whatever it sends), else the task's.
 */
export function readOwner(ctx: RequestContext, body: object): Owner {
  return (body as { model_events?: unknown }).model_events === true && compareVersions(ctx.actualVersion, '2.22') >= 0 ? 'model' : 'task';
}

/**
 * 400/101 unless `task` is an acceptable id; returns the `task` column value the owner's events
 * are stored under (ownerKey), which every statement, cursor scope and answer then uses.
 */
export function checkTask(task: string, owner: Owner = 'task'): string {
  if (!isValidTaskId(task)) throw invalidTaskId(task);
  return ownerKey(owner, task);
}

/** Each id checked and keyed as checkTask; duplicates dropped (order kept). */
export function checkTasks(tasks: readonly string[], owner: Owner = 'task'): string[] {
  return [...new Set(tasks.map((t) => checkTask(t, owner)))];
}

/** The id an answer names for a `task` column value: a model's id without its key's prefix. */
export function answerId(key: string): string {
  return ownerOfKey(key).id;
}
