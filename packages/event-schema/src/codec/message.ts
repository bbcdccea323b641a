import type { Event } from '../kinds';

/** One Kafka message's content, whatever its wire version. */
export interface Message {
  tenant: string;
  task: string;
  /** Gateway receive time, epoch ms. */
  receivedAt: number;
  /** Each event's tenant and task equal the message's. */
  events: Event[];
}

/**
 * The control message of events.delete_for_task. It travels with the task's key, so it sits
 * in the task's partition after every event acknowledged before it, and the writer meets it
 * in that order (delete-marker.ts).
 */
export interface DeleteTaskMessage {
  tenant: string;
  task: string;
  receivedAt: number;
  /** Ties the writer's result row to the waiting request. */
  requestId: string;
  /**
   * events.clear_task_log: only the task's log lines older than this (epoch ms) are deleted.
   * Absent: every event of the task, of every kind.
   */
  logsBefore?: number;
}

/** Whatever a message of the events topic holds. */
export type TopicMessage = ({ kind: 'events' } & Message) | ({ kind: 'delete-task' } & DeleteTaskMessage);

export type DecodeErrorReason = 'empty' | 'invalid-json' | 'unknown-version' | 'invalid-shape';

/** An undecodable message; `reason` is a bounded label (dead-letter header, metric label). */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  constructor(
    readonly reason: DecodeErrorReason,
    detail?: string,
  ) {
    super(detail ? `${reason}: ${detail}` : reason);
  }
}

/**
 * The Kafka key of a (tenant, task): one task's events stay on one partition, in order.
 * Task ids never contain control characters (validateEvent), so the key splits unambiguously
 * at its last \u0000.
 */
export function messageKey(tenant: string, task: string): string {
  return `${tenant}\u0000${task}`;
}

/** Throws DecodeError('invalid-shape'). */
export function shape(detail: string): never {
  throw new DecodeError('invalid-shape', detail);
}

export function jsonString(v: unknown, at: string): string {
  if (typeof v !== 'string') shape(`${at}: not a string`);
  return v;
}

export function jsonFinite(v: unknown, at: string): number {
  if (typeof v !== 'number' || v - v !== 0) shape(`${at}: not a finite number`);
  return v;
}

/** A malformed message given to an encoder: a bug of the caller. */
export function encodeBug(message: string): never {
  throw new TypeError(`encodeMessage: ${message}`);
}

export function checkedText(s: string, what: string): string {
  if (typeof s !== 'string') encodeBug(`${what} must be a string`);
  return s;
}

export function checkedFinite(n: number, what: string): number {
  if (typeof n !== 'number' || n - n !== 0) encodeBug(`${what} must be a finite number`);
  return n;
}
