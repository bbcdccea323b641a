/**
 * The real ClearML SDK (PyPI `clearml`, pinned in test/sdk/requirements.txt) against the whole
 * pipeline: its session logs in, reports every event kind with add_batch (GET with a json-lines
 * body, as it sends it), and reads them back through the read endpoints.
 */
import { after, before, test } from 'node:test';
import { repoRoot } from '@trackstream/local-stack';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startPipeline, uniqueName, type Pipeline } from '../helpers/pipeline';
import { sdkPython, runPython } from '../helpers/python';

let p: Pipeline;
let python: string;
before(async () => {
  python = await sdkPython();
  p = await startPipeline();
});
after(async () => {
  await p.stop();
});

test('the ClearML SDK reports and reads back through Trackstream unchanged', async () => {
  const task = uniqueName('sdk');
  const out = JSON.parse(await runPython(python, [join(repoRoot(), 'test', 'sdk', 'clearml_roundtrip.py'), p.url, task])) as Record<string, any>;
  assert.ok(Number(String(out['api_version']).split('.')[1]) >= 9, `the SDK picked API ${out['api_version']} from the login token`);
  assert.deepEqual(out['add_batch'], { added: 14, errors: 0, errors_info: {} });
  const log = out['log'].events;
  assert.equal(log.length, 1);
  assert.equal(log[0].msg, 'hello from the sdk');
  assert.equal(log[0].level, 'warning');
  const latest = out['latest'].metrics[0];
  assert.equal(latest.name, 'loss');
  assert.equal(latest.variants[0].last_value, 0.1);
  assert.equal(latest.variants[0].last_100_value, 'NaN', 'a NaN in the window makes the mean NaN, visibly');
  const curve = out['histogram'].loss.train;
  assert.deepEqual(curve.x, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(curve.y[3], 'NaN');
  assert.equal(out['images'].images[0].url, 'http://files/x.png');
  // debug_images at the SDK's version, its own request class: the image grouped by task and iteration.
  assert.deepEqual(
    out['debug_samples'].metrics.map((m: any) => [m.task, m.iterations.map((i: any) => [i.iter, i.events.map((e: any) => [e.metric, e.variant, e.url])])]),
    [[task, [[2, [['img', 'sample', 'http://files/x.png']]]]]],
  );
  assert.equal(out['plots'].plots[0].plot_str, '{"data": []}');
  assert.deepEqual(out['vector_metrics'].metrics, [{ metric: 'hist', variants: ['w'] }]);
});
