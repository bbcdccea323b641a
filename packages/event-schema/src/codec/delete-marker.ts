import { jsonFinite, jsonString, shape, type DeleteTaskMessage } from './message';

/**
 * The delete marker of events.delete_for_task: a one-line JSON message, in wire version 1 (v2
 * only changed how events travel):
 *
 *   {"v":1,"op":"delete-task","tenant":"t","task":"x","receivedAt":1700000000000,"requestId":"..."}
 */
export const DELETE_TASK_OP = 'delete-task';

export function encodeDeleteTask(m: DeleteTaskMessage): Buffer {
  return Buffer.from(JSON.stringify({ v: 1, op: DELETE_TASK_OP, tenant: m.tenant, task: m.task, receivedAt: m.receivedAt, requestId: m.requestId }), 'utf8');
}

/** The marker of a parsed one-line message whose `op` is DELETE_TASK_OP. */
export function decodeDeleteTask(o: Record<string, unknown>): DeleteTaskMessage {
  if (o['op'] !== DELETE_TASK_OP) shape('unknown op');
  return {
    tenant: jsonString(o['tenant'], 'tenant'),
    task: jsonString(o['task'], 'task'),
    receivedAt: jsonFinite(o['receivedAt'], 'receivedAt'),
    requestId: jsonString(o['requestId'], 'requestId'),
  };
}
