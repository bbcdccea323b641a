import pino from 'pino';

export type Logger = pino.Logger;

/** JSON logs on stdout (pino); one child logger per component adds `component`. */
export function createLogger(opts: { service: string; level?: string }): Logger {
  return pino({
    name: opts.service,
    level: opts.level ?? 'info',
    base: { service: opts.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Credentials must never reach a log line.
    redact: { paths: ['req.headers.authorization', 'headers.authorization', '*.secret', '*.secret_key'], censor: '[redacted]' },
  });
}
