import type { Cursors } from './cursor';
import type { Db } from './db';
import type { ChartMetrics } from './histogram';

/** What every read endpoint is built from. */
export interface RouteDeps {
  readonly db: Db;
  readonly cursors: Cursors;
  readonly charts: ChartMetrics;
}
