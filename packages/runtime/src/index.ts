export { createLogger, type Logger } from './logger';
export { type Component } from './component';
export { listen, type HttpServer } from './http-server';
export { runMain } from './run-main';
export { serveComponents } from './serve';
export { retry, logRetries, type RetryAttempt, type RetryOptions } from './retry';
