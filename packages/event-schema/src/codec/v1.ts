import { isLogLevel } from '../events';
import type { Event } from '../kinds';
import { jsonFinite, jsonString, shape, type Message } from './message';

/**
 * Wire format v1 (UTF-8 JSON, one line), decoded only: messages written before v2 stay readable.
 *
 *   {"v":1,"tenant":"t","task":"x","receivedAt":1700000000000,"events":[ <event>, ... ]}
 *
 * where each event is a tuple (tenant and task come from the envelope):
 *
 *   ["s", timestamp, iter, metric, variant, value]      training_stats_scalar
 *   ["v", timestamp, iter, metric, variant, [values]]   training_stats_vector
 *   ["i", timestamp, iter, metric, variant, key, url]   training_debug_image
 *   ["p", timestamp, iter, metric, variant, plot_str]   plot
 *   ["l", timestamp, iter, level, worker, msg]          log
 *
 * A scalar value or vector element is a JSON number, or one of the strings "NaN",
 * "Infinity", "-Infinity", "-0". This layout is frozen: it is what those messages hold, so it
 * is written out here rather than derived from the kinds' descriptor, which may grow.
 */
export const V1 = 1;

function jsonFloat(v: unknown, at: string): number {
  if (typeof v === 'number') return v;
  switch (v) {
    case 'NaN':
      return NaN;
    case 'Infinity':
      return Infinity;
    case '-Infinity':
      return -Infinity;
    case '-0':
      return -0;
    default:
      return shape(`${at}: not a number`);
  }
}

export function decodeV1(o: Record<string, unknown>): Message {
  const tenant = jsonString(o['tenant'], 'tenant');
  const task = jsonString(o['task'], 'task');
  const receivedAt = jsonFinite(o['receivedAt'], 'receivedAt');
  const list = o['events'];
  if (!Array.isArray(list)) shape('events: not an array');
  const events = new Array<Event>(list.length);
  for (let i = 0; i < list.length; i++) {
    const t: unknown = list[i];
    if (!Array.isArray(t)) shape(`events[${i}]: not an array`);
    const timestamp = jsonFinite(t[1], 'timestamp');
    const iter = jsonFinite(t[2], 'iter');
    let e: Event;
    switch (t[0]) {
      case 's':
        if (t.length !== 6) shape(`events[${i}]: bad scalar`);
        e = { tenant, task, type: 'training_stats_scalar', timestamp, iter, metric: jsonString(t[3], 'metric'), variant: jsonString(t[4], 'variant'), value: jsonFloat(t[5], 'value') };
        break;
      case 'v': {
        const raw: unknown = t[5];
        if (t.length !== 6 || !Array.isArray(raw)) shape(`events[${i}]: bad vector`);
        const values = new Array<number>(raw.length);
        for (let j = 0; j < raw.length; j++) values[j] = jsonFloat(raw[j], 'values');
        e = { tenant, task, type: 'training_stats_vector', timestamp, iter, metric: jsonString(t[3], 'metric'), variant: jsonString(t[4], 'variant'), values };
        break;
      }
      case 'i':
        if (t.length !== 7) shape(`events[${i}]: bad image`);
        e = { tenant, task, type: 'training_debug_image', timestamp, iter, metric: jsonString(t[3], 'metric'), variant: jsonString(t[4], 'variant'), key: jsonString(t[5], 'key'), url: jsonString(t[6], 'url') };
        break;
      case 'p':
        if (t.length !== 6) shape(`events[${i}]: bad plot`);
        e = { tenant, task, type: 'plot', timestamp, iter, metric: jsonString(t[3], 'metric'), variant: jsonString(t[4], 'variant'), plot_str: jsonString(t[5], 'plot_str') };
        break;
      case 'l': {
        const level: unknown = t[3];
        if (t.length !== 6 || !isLogLevel(level)) shape(`events[${i}]: bad log`);
        e = { tenant, task, type: 'log', timestamp, iter, level, worker: jsonString(t[4], 'worker'), msg: jsonString(t[5], 'msg') };
        break;
      }
      default:
        return shape(`events[${i}]: unknown kind`);
    }
    events[i] = e;
  }
  return { tenant, task, receivedAt, events };
}
