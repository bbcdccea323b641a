import { jsonFinite, jsonString, shape, type DeleteTaskMessage } from './message';

/**
 * The delete markers, one-line JSON messages in wire version 1 (v2 only changed how events travel):
 *
 *   {"v":1,"op":"delete-task","tenant":"t","task":"x","receivedAt":1700000000000,"requestId":"..."}
 *   {"v":1,"op":"clear-log","tenant":"t","task":"x","receivedAt":1700000000000,"requestId":"...","before":1699990000000}
 *
 * delete-task: events.delete_for_task and delete_for_model; clear-log: events.clear_task_log
 * (the task's log lines older than `before`). A writer older than clear-log dead-letters it.
 */
export const DELETE_TASK_OP = 'delete-task';
export const CLEAR_LOG_OP = 'clear-log';

export function encodeDeleteTask(m: DeleteTaskMessage): Buffer {
  const common = { tenant: m.tenant, task: m.task, receivedAt: m.receivedAt, requestId: m.requestId };
  const marker = m.logsBefore === undefined ? { v: 1, op: DELETE_TASK_OP, ...common } : { v: 1, op: CLEAR_LOG_OP, ...common, before: m.logsBefore };
  return Buffer.from(JSON.stringify(marker), 'utf8');
}

/** The marker of a parsed one-line message that has an `op`. */
export function decodeDeleteTask(o: Record<string, unknown>): DeleteTaskMessage {
  if (o['op'] !== DELETE_TASK_OP && o['op'] !== CLEAR_LOG_OP) shape('unknown op');
  const m: DeleteTaskMessage = {
    tenant: jsonString(o['tenant'], 'tenant'),
    task: jsonString(o['task'], 'task'),
    receivedAt: jsonFinite(o['receivedAt'], 'receivedAt'),
    requestId: jsonString(o['requestId'], 'requestId'),
  };
  if (o['op'] === CLEAR_LOG_OP) m.logsBefore = jsonFinite(o['before'], 'before');
  return m;
}
