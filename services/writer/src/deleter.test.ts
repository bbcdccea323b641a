import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deleteOnCluster } from './deleter';

test('on a cluster, delete_for_task deletes from every server\'s local table, values as literals', () => {
  assert.equal(
    deleteOnCluster('events', 'scalars', { tenant: 'acme', task: "it's \\ a task" }, 'prod'),
    `DELETE FROM events.scalars_local ON CLUSTER 'prod' WHERE tenant = 'acme' AND task = 'it\\'s \\\\ a task'`,
  );
});

test('on a cluster, clear_task_log deletes the task\'s older log lines from every server\'s local table', () => {
  assert.equal(
    deleteOnCluster('events', 'logs', { tenant: 'acme', task: 't', logsBefore: 1700000000123.7 }, 'prod'),
    `DELETE FROM events.logs_local ON CLUSTER 'prod' WHERE tenant = 'acme' AND task = 't' AND toUnixTimestamp64Milli(timestamp) < 1700000000123`,
  );
});
