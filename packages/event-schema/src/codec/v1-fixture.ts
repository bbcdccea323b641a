import type { Event } from '../kinds';
import type { Message } from './message';

/**
 * Messages in wire format v1 (v1.ts), which this build only decodes: for tests that older
 * messages, still in Kafka after an upgrade, read back as they were written. Exported as
 * `@trackstream/event-schema/testing`, never used by the services.
 */

type Special = 'NaN' | 'Infinity' | '-Infinity' | '-0';

function float(n: number): number | Special {
  if (n - n === 0 && (n !== 0 || 1 / n > 0)) return n;
  if (n !== n) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  return '-0';
}

function tuple(e: Event): Array<string | number | Array<number | Special>> {
  switch (e.type) {
    case 'training_stats_scalar':
      return ['s', e.timestamp, e.iter, e.metric, e.variant, float(e.value)];
    case 'training_stats_vector':
      return ['v', e.timestamp, e.iter, e.metric, e.variant, e.values.map(float)];
    case 'training_debug_image':
      return ['i', e.timestamp, e.iter, e.metric, e.variant, e.key, e.url];
    case 'plot':
      return ['p', e.timestamp, e.iter, e.metric, e.variant, e.plot_str];
    case 'log':
      return ['l', e.timestamp, e.iter, e.level, e.worker, e.msg];
  }
}

export function encodeMessageV1(msg: Message): Buffer {
  return Buffer.from(JSON.stringify({ v: 1, tenant: msg.tenant, task: msg.task, receivedAt: msg.receivedAt, events: msg.events.map(tuple) }), 'utf8');
}
