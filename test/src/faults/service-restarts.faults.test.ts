/** The gateway and query processes restarted mid-load. */
import { test } from 'node:test';
import { serviceRestarts } from './scenarios';

test('gateway SIGKILLed and restarted, gateway restarted gracefully, query SIGKILLed and restarted: clients retry, reads resume, nothing lost or doubled', async () => {
  await serviceRestarts({ fault: 'service-restarts' });
});
