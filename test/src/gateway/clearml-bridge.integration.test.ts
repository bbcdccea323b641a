/**
 * Trackstream beside a ClearML server, on the real pipeline: the lifecycle bridge (ClearML calls
 * that delete or reset tasks and models pass through the gateway, and their events go once
 * ClearML answered success) and the last-values forward (each curve's latest points sent on to
 * ClearML's events.add_batch, at most once per task per interval).
 *
 * ClearML's API server can't run here: a FAKE of it (test/src/helpers/fake-clearml-server.ts)
 * answers the calls, named as a fake; every events.* call goes to the real Trackstream.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODEL_KEY_PREFIX } from '@trackstream/event-schema';
import { waitFor } from '@trackstream/local-stack';
import { startFakeClearmlServer, type FakeClearmlServer } from '../helpers/fake-clearml-server';
import { startPipeline, uniqueName, type Pipeline } from '../helpers/pipeline';
import { startWriterProcess, type WriterProcess } from '../helpers/writer-process';

const INTERVAL_MS = 1000;
let fake: FakeClearmlServer;
let p: Pipeline;
let writer: WriterProcess;
let dir: string;
let journal: string;

const scalar = (task: string, iter: number, value: number, extra: Record<string, unknown> = {}) => ({ type: 'training_stats_scalar', task, metric: 'loss', variant: 'train', iter, value, ...extra });
const stored = (key: string) => p.count('SELECT count() FROM scalars FINAL WHERE task = {task:String}', { task: key });

/** A task known to the fake ClearML server, with `n` scalars stored in Trackstream. */
async function taskWithEvents(n = 3, fields: Record<string, unknown> = {}): Promise<string> {
  const id = uniqueName('task');
  fake.tasks.set(id, { id, status: 'completed', last_metrics: {}, last_iteration: 0, ...fields });
  const r = await p.addBatch(Array.from({ length: n }, (_, i) => scalar(id, i, i)));
  assert.equal(r.data.added, n);
  await p.waitForCount('SELECT count() FROM scalars FINAL WHERE task = {task:String}', n, { task: id });
  return id;
}

async function modelWithEvents(task?: string): Promise<string> {
  const id = uniqueName('model');
  fake.models.set(id, { id, ...(task ? { task } : {}) });
  assert.equal((await p.addBatch([scalar(id, 1, 1, { model_event: true }), scalar(id, 2, 2, { model_event: true })], { version: '2.22' })).data.added, 2);
  await p.waitForCount('SELECT count() FROM scalars FINAL WHERE task = {task:String}', 2, { task: MODEL_KEY_PREFIX + id });
  return id;
}

/** A lifecycle call as the SDK or UI makes it: through the router, here straight to Trackstream's gateway. */
const lifecycle = (endpoint: string, body: unknown, version = '2.30') => p.call<Record<string, unknown>>(endpoint, body, { version });
const gone = (key: string) => waitFor(async () => (await stored(key)) === 0, { timeoutMs: 30_000, what: `the events of ${key} deleted` });

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'clearml-bridge-'));
  journal = join(dir, 'lifecycle.jsonl');
  fake = await startFakeClearmlServer({ bridge: true });
  p = await startPipeline({
    writer: false,
    env: { CLEARML_API_URL: fake.apiserverUrl, CLEARML_LIFECYCLE_JOURNAL: journal, CLEARML_LIFECYCLE_RETRY_MS: '200', CLEARML_LAST_VALUES_INTERVAL_MS: String(INTERVAL_MS) },
  });
  fake.upstream = p.url;
  writer = await startWriterProcess(p.config);
});

after(async () => {
  await writer?.kill('SIGKILL');
  await p?.stop();
  await fake?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('tasks.delete: ClearML\'s answer passes through, then the task\'s events and its output models\' go; other tasks keep theirs', async () => {
  const task = await taskWithEvents();
  const other = await taskWithEvents();
  const model = await modelWithEvents(task);
  const kept = await modelWithEvents(other);
  const r = await lifecycle('tasks.delete', { task, force: true });
  assert.equal(r.status, 200, r.meta.result_msg);
  assert.equal(r.data['deleted'], true, 'ClearML\'s own answer');
  assert.equal(r.meta.endpoint['name'], 'tasks.delete');
  await gone(task);
  await gone(MODEL_KEY_PREFIX + model);
  assert.equal(await stored(other), 3);
  assert.equal(await stored(MODEL_KEY_PREFIX + kept), 2);
});

test('a failed call deletes nothing: ClearML\'s error reaches the caller as it was', async () => {
  const task = await taskWithEvents();
  fake.failNext('tasks.delete', 400, 110);
  const r = await lifecycle('tasks.delete', { task });
  assert.deepEqual([r.status, r.meta.result_subcode], [400, 110]);
  assert.match(r.meta.result_msg, /failed on purpose/);
  // An unknown task: ClearML refuses it, and nothing of Trackstream's is touched.
  const unknown = await lifecycle('tasks.reset', { task: 'no-such-task' });
  assert.equal(unknown.status, 400);
  // The journal settles both calls without a deletion (a settled entry leaves pending()).
  await waitFor(async () => (await metric('gateway_clearml_lifecycle_pending')) === 0, { timeoutMs: 10_000, what: 'no pending lifecycle calls' });
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(await stored(task), 3, 'the events of a task ClearML did not delete are kept');
  assert.ok(fake.tasks.has(task));
});

test('the _many calls, reset and projects.delete: only what ClearML says it did (or what is gone) loses its events', async () => {
  const [a, b] = [await taskWithEvents(), await taskWithEvents()];
  const r = await lifecycle('tasks.delete_many', { ids: [a, 'missing-task', b] });
  assert.equal(r.status, 200, r.meta.result_msg);
  assert.deepEqual((r.data['failed'] as Array<{ id: string }>).map((f) => f.id), ['missing-task']);
  await gone(a);
  await gone(b);

  const reset = await taskWithEvents();
  assert.equal((await lifecycle('tasks.reset', { task: reset })).status, 200);
  await gone(reset);
  assert.ok(fake.tasks.has(reset), 'a reset task stays at ClearML');
  const [r1, r2] = [await taskWithEvents(), await taskWithEvents()];
  fake.failNext('tasks.reset_many', 500);
  assert.equal((await lifecycle('tasks.reset_many', { ids: [r1, r2] })).status, 500);
  assert.equal((await lifecycle('tasks.reset_many', { ids: [r1] })).status, 200);
  await gone(r1);
  assert.equal(await stored(r2), 3, 'not in the successful call');

  const project = uniqueName('project');
  fake.projects.set(project, { id: project, name: project });
  const inside = await taskWithEvents(3, { project });
  const outside = await taskWithEvents();
  const model = uniqueName('model');
  fake.models.set(model, { id: model, project });
  assert.equal((await p.addBatch([scalar(model, 1, 1, { model_event: true })], { version: '2.22' })).data.added, 1);
  await p.waitForCount('SELECT count() FROM scalars FINAL WHERE task = {task:String}', 1, { task: MODEL_KEY_PREFIX + model });
  assert.equal((await lifecycle('projects.delete', { project, delete_contents: true, force: true })).status, 200);
  await gone(inside);
  await gone(MODEL_KEY_PREFIX + model);
  assert.equal(await stored(outside), 3);

  const [m1, m2] = [await modelWithEvents(), await modelWithEvents()];
  assert.equal((await lifecycle('models.delete', { model: m1 })).status, 200);
  await gone(MODEL_KEY_PREFIX + m1);
  assert.equal((await lifecycle('models.delete_many', { ids: [m2] })).status, 200);
  await gone(MODEL_KEY_PREFIX + m2);
});

test('a delete while the writer is stopped is carried out once it is back', async () => {
  const task = await taskWithEvents();
  await writer.kill('SIGKILL');
  const r = await lifecycle('tasks.delete', { task });
  assert.equal(r.status, 200, 'ClearML answered; the deletion waits in Kafka for the writer');
  assert.equal(await stored(task), 3);
  await writer.start();
  await gone(task);
});

test('after a crash mid-call, the journal finishes the deletion ClearML carried out, and drops the one it did not', async () => {
  const deleted = await taskWithEvents();
  const alive = await taskWithEvents();
  // What a gateway killed while ClearML was answering leaves: intents without an outcome.
  fake.tasks.delete(deleted);
  const intent = (task: string) => ({ t: 'intent', id: uniqueName('entry'), tenant: 'default', call: 'tasks.delete', kind: 'delete', auth: {}, candidates: { tasks: [task], models: [] } });
  await writeFile(journal, `${[intent(deleted), intent(alive)].map((x) => JSON.stringify(x)).join('\n')}\n`, { flag: 'a' });
  const storage = sameStorage();
  await p.stop({ keepData: true });
  p = await startPipeline({
    writer: false,
    env: { CLEARML_API_URL: fake.apiserverUrl, CLEARML_LIFECYCLE_JOURNAL: journal, CLEARML_LIFECYCLE_RETRY_MS: '200', CLEARML_LAST_VALUES_INTERVAL_MS: String(INTERVAL_MS), ...storage },
  });
  fake.upstream = p.url;
  await gone(deleted);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(await stored(alive), 3, 'a task ClearML still has keeps its events');
  await waitFor(async () => (await readFile(journal, 'utf8')).trim() !== '' && (await metric('gateway_clearml_lifecycle_pending')) === 0, { timeoutMs: 10_000, what: 'the journal settled' });
});

test('last values: each task\'s latest, lowest and highest points reach ClearML at most once per interval, and its last_metrics are right', async () => {
  const task = uniqueName('task');
  fake.tasks.set(task, { id: task, status: 'in_progress', last_metrics: {}, last_iteration: 0 });
  const from = fake.lastValues.length;
  const values = [5, 3, 9, 4, 7, 6, 2, 8, 1, 5.5];
  const started = Date.now();
  // Ten requests over about three intervals, one point each.
  for (let i = 0; i < values.length; i++) {
    assert.equal((await p.addBatch([scalar(task, i, values[i] as number)])).data.added, 1);
    await new Promise((r) => setTimeout(r, (3 * INTERVAL_MS) / values.length));
  }
  // The fake's last_metrics: metric hash -> variant hash -> values, one curve here.
  const last = (): Record<string, unknown> | undefined => {
    const byMetric = (fake.tasks.get(task)?.['last_metrics'] ?? {}) as Record<string, Record<string, Record<string, unknown>>>;
    return Object.values(Object.values(byMetric)[0] ?? {})[0];
  };
  await waitFor(async () => last()?.['iter'] === values.length - 1, { timeoutMs: 10_000, what: 'the last point forwarded' });
  const calls = fake.lastValues.slice(from).filter((c) => c.events.some((e) => e['task'] === task));
  const elapsed = Date.now() - started;
  assert.ok(calls.length >= 2, `forwarded as it went, not only at the end: ${calls.length} calls`);
  assert.ok(calls.length <= Math.ceil(elapsed / INTERVAL_MS) + 1, `${calls.length} calls in ${elapsed} ms: more than one per ${INTERVAL_MS} ms`);
  for (let i = 1; i < calls.length; i++) {
    const gap = (calls[i] as { at: number }).at - (calls[i - 1] as { at: number }).at;
    assert.ok(gap >= INTERVAL_MS - 50, `two forwards ${gap} ms apart`);
  }
  for (const c of calls) assert.ok(c.events.length <= 4, `a curve's latest, first, lowest and highest at most: ${c.events.length}`);
  const metrics = last() as Record<string, unknown>;
  assert.deepEqual([metrics['value'], metrics['min_value'], metrics['max_value'], metrics['iter']], [5.5, 1, 9, 9]);
  assert.equal(fake.tasks.get(task)?.['last_iteration'], 9);
});

test('bad lifecycle bodies: 400 in the envelope, nothing forwarded', async () => {
  const before = fake.answered.length;
  const r = await p.call('tasks.delete', '{not json', { version: '2.30' });
  assert.equal(r.status, 400);
  assert.equal(r.meta.result_code, 400);
  const arr = await p.call('tasks.delete', '[1,2]', { version: '2.30' });
  assert.equal(arr.status, 400);
  assert.equal(fake.answered.length, before, 'the ClearML server was not called');
});

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${p.url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
}

/** The restarted pipeline keeps the first one's topics and database (settings of p.config). */
function sameStorage(): Record<string, string> {
  return {
    KAFKA_TOPIC_PREFIX: p.config.kafkaTopicPrefix,
    CLICKHOUSE_DATABASE: p.config.clickhouseDatabase,
    WRITER_GROUP_ID: p.config.writerGroupId,
  };
}
