/** The writer SIGKILLed ten times at random moments under a steady load (FAULT_SEED replays the moments). */
import { test } from 'node:test';
import { writerKills } from './scenarios';

test('the writer SIGKILLed ten times at random moments: every acknowledged event stored exactly once', async () => {
  await writerKills({ fault: 'writer-kills', kills: 10 });
});
