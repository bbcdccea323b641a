/** The all-in-one process SIGKILLed mid-insert, three times, and started again. */
import { test } from 'node:test';
import { allInOneKills } from './scenarios';

test('the all-in-one process SIGKILLed mid-insert three times: clients retry through the gaps, every acknowledged event stored exactly once', async () => {
  await allInOneKills({ fault: 'all-in-one-kills', kills: 3 });
});
