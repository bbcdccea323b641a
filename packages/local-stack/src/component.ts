/** A process of the local stack: how to make it ready, start it and probe it. */
export interface Component {
  readonly name: 'kafka' | 'clickhouse';
  /** Installs what it needs (downloads into the cache on first run). Idempotent. */
  prepare(): Promise<void>;
  /** Starts the process; returns its pid. */
  start(): Promise<number>;
  /** One health probe: true when it serves requests. */
  healthy(): Promise<boolean>;
  /** Seconds to wait for health after start. */
  readonly startTimeoutSec: number;
  /** Grace before SIGKILL when stopping. */
  readonly stopGraceMs: number;
  readonly logFile: string;
  readonly pidFile: string;
  /** What the user connects to. */
  readonly endpoint: string;
  /** Where it stores its data (Kafka's log folder, ClickHouse's data path). */
  readonly dataFolder: string;
}

export type Log = (line: string) => void;
