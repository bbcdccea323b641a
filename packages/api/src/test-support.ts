/** Helpers for this package's tests (not exported from the package). */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRegistry, type Registry } from '@trackstream/metrics';
import { createLogger } from '@trackstream/runtime';
import express from 'express';
import type { Envelope } from './envelope';
import { parseJson } from './json';
import { createApiRouter, type ApiRouterOptions } from './router';

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, NaN/Infinity tokens included. */
  json<T = Envelope<Record<string, unknown>>>(): T;
}

export interface RequestSpec {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export function send(port: number, spec: RequestSpec): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const body = spec.body === undefined ? undefined : Buffer.isBuffer(spec.body) ? spec.body : Buffer.from(spec.body);
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: spec.method ?? 'POST',
        path: spec.path,
        headers: { ...(body ? { 'content-length': String(body.length) } : {}), ...spec.headers },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: <T>() => parseJson(text, 1000) as T });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export interface TestApp {
  port: number;
  registry: Registry;
  send(spec: RequestSpec): Promise<HttpResult>;
  close(): Promise<void>;
}

export const silentLogger = createLogger({ service: 'api-test', level: 'silent' });

/** An express app with the API router (and any extra routers after it) on an ephemeral port. */
export async function startApp(
  opts: Partial<ApiRouterOptions> & Pick<ApiRouterOptions, 'endpoints'>,
  extra: (app: express.Express, registry: Registry) => void = () => undefined,
): Promise<TestApp> {
  const registry = opts.registry ?? createRegistry({ defaultMetrics: false });
  const app = express();
  app.disable('x-powered-by');
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.use(createApiRouter({ service: 'test', registry, logger: silentLogger, ...opts }));
  extra(app, registry);
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    registry,
    send: (spec) => send(port, spec),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A deferred with an outside resolve. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export function basic(key: string, secret: string): string {
  return `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;
}

export function decodeJwtPayload(token: string): Record<string, unknown> {
  const payload = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}
