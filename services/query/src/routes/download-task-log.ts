import { attachment, objectEndpoint, rawResponse, stringifyJson } from '@trackstream/api';
import { fromCHMillis } from '@trackstream/clickhouse';
import type { RouteDeps } from '../deps';
import { asctime, compileLineFormat, type LogLine } from '../line-format';
import { requestSchema, checkTask } from '../requests';

interface Body {
  task: string;
  line_type: 'json' | 'text';
  line_format: string;
}

interface Row {
  ts: string;
  level: string;
  worker: string;
  msg: string;
}

/** A json line holds what a text line can show: the five placeholders. */
function jsonLine(l: LogLine): string {
  return `${stringifyJson({ asctime: asctime(l.timestamp), timestamp: l.timestamp, level: l.level, worker: l.worker, msg: l.msg })}\n`;
}

/**
 * events.download_task_log: the task's whole log, oldest first, as a text/plain attachment
 * `task_<id>.log` (not enveloped). Rows stream from ClickHouse to the socket block by block,
 * with the socket's backpressure, so memory stays constant whatever the log's size. The
 * line format is checked before anything is sent (400/12).
 */
export function downloadTaskLogEndpoint(deps: RouteDeps) {
  return objectEndpoint<Body>({
    name: 'events.download_task_log',
    versions: [
      {
        version: '2.1',
        schema: requestSchema('download_task_log', '2.1', { line_type: { default: 'json' }, line_format: { minLength: 1 } }),
        async handle(ctx, body) {
          const task = checkTask(body.task);
          const render = body.line_type === 'text' ? compileLineFormat(body.line_format) : jsonLine;
          const blocks = await deps.db.stream<Row, string>(
            ctx,
            `SELECT toUnixTimestamp64Milli(timestamp) AS ts, level, worker, msg FROM logs FINAL
             WHERE tenant = {tenant:String} AND task = {task:String} ORDER BY timestamp, seq`,
            { task },
            (rows) => rows.map((r) => render({ timestamp: fromCHMillis(r.ts), level: r.level, worker: r.worker, msg: r.msg })).join(''),
          );
          return rawResponse({
            contentType: 'text/plain; charset=utf-8',
            headers: { 'Content-Disposition': attachment(`task_${task}.log`) },
            stream: blocks,
          });
        },
      },
    ],
  });
}
