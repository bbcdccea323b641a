/**
 * Every version of every events endpoint the current API defines (the reference schema kept in
 * event-schema) has its own handler here: a request at exactly that version is answered by it,
 * as the envelope's actual_version says, whatever the body (bad bodies are 400s, never 404s).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { referenceDocument } from '@trackstream/event-schema';
import { startPipeline, type Pipeline } from '../helpers/pipeline';

let p: Pipeline;
before(async () => {
  p = await startPipeline();
});
after(async () => {
  await p.stop();
});

test('each of the 28 endpoints answers at each version the current API defines, with that version\'s handler', async () => {
  const endpoints = referenceDocument().endpoints();
  assert.equal(endpoints.length, 28);
  const missing: string[] = [];
  for (const { action, versions } of endpoints) {
    for (const version of versions) {
      // An empty body: whatever the endpoint makes of it, the version that handled it is in the envelope.
      const r = await p.call(`events.${action}`, action === 'add_batch' ? '' : {}, { version });
      const actual = r.meta.endpoint['actual_version'];
      if (r.status === 404 || actual !== version) missing.push(`${action} ${version}: ${r.status}, actual ${String(actual)}`);
      assert.notEqual(r.status, 500, `${action} ${version}: ${r.meta.result_msg}`);
    }
  }
  assert.deepEqual(missing, []);
});
