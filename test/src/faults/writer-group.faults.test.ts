/** A writer group of two processes, one SIGKILLed mid-load. */
import { test } from 'node:test';
import { writerGroupKill } from './scenarios';

test('a group of two writers, one SIGKILLed: the rebalance hands its partitions to the other and nothing is lost or doubled', async () => {
  await writerGroupKill({ fault: 'writer-group' });
});
