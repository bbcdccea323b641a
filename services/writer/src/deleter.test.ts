import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deleteOnCluster } from './deleter';

test('on a cluster, delete_for_task deletes from every server\'s local table, values as literals', () => {
  assert.equal(
    deleteOnCluster('events', 'scalars', { tenant: 'acme', task: "it's \\ a task" }, 'prod'),
    `DELETE FROM events.scalars_local ON CLUSTER 'prod' WHERE tenant = 'acme' AND task = 'it\\'s \\\\ a task'`,
  );
});
