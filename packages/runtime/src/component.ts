import type { HealthCheck } from '@trackstream/metrics';
import type { Router } from 'express';

/**
 * A part a main composes (gateway, writer, query): its HTTP routes if it serves any, and a
 * lifecycle. Mains start components in order and stop them in reverse.
 */
export interface Component {
  readonly name: string;
  readonly routes?: Router;
  start(): Promise<void>;
  /** Stop taking input, finish what is in flight, close clients. */
  stop(): Promise<void>;
  health(): readonly HealthCheck[];
}
