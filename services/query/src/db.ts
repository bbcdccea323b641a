import { unavailable, type RequestContext } from '@trackstream/api';
import { checkedBody, classifyClickHouseError, paramsFitUrl, readRawBody, type ClickHouseClient } from '@trackstream/clickhouse';
import { Counter, Histogram, LATENCY_BUCKETS, type Registry } from '@trackstream/metrics';

/**
 * ClickHouse as the read endpoints use it: JSONEachRow rows, the caller's tenant always bound as
 * `{tenant:String}` (every statement filters on it), the request's abort signal passed on (a
 * client that goes away cancels its query), rows read counted per endpoint, and failures of
 * the store turned into 503.
 */
export interface Db {
  rows<T>(ctx: RequestContext, query: string, params?: Record<string, unknown>): Promise<T[]>;
  /**
   * Runs `query` (its errors surface here, before anything is sent) and returns its result as it
   * arrives, one `map(batch)` per block of rows, never the whole result at once. Ending the
   * iteration early (`return()`, even before the first `next()`) closes the ClickHouse response.
   */
  stream<T, R>(ctx: RequestContext, query: string, params: Record<string, unknown>, map: (rows: T[]) => R): Promise<AsyncIterable<R>>;
  /**
   * The result as the bytes of TabSeparatedRaw, never decoded: Node splits the rows itself and
   * passes long text fields (rendered JSON) on to the response as they are.
   */
  tsvBytes(ctx: RequestContext, query: string, params: Record<string, unknown>): Promise<Buffer>;
  /**
   * Runs a statement without a result: what a read learnt that later reads can use (`INSERT ...
   * SELECT` of bucket repairs). Its parameters travel in the URL: false, and nothing run, when
   * they are too long for it (`paramsFitUrl`).
   */
  command(ctx: RequestContext, query: string, params?: Record<string, unknown>): Promise<boolean>;
}

type Result = Awaited<ReturnType<ClickHouseClient['query']>>;

const RETRY_AFTER_SEC = 5;

/**
 * `streamClient` runs `stream()`: a download holds its connection for as long as its client
 * reads, so downloads get connections of their own and clients that stop reading can't take
 * every connection from the other reads (nor, in the all-in-one process, from the writer).
 */
export function createDb(client: ClickHouseClient, registry: Registry, streamClient: ClickHouseClient = client): Db {
  const rowsRead = new Counter({
    name: 'query_rows_read_total',
    help: 'Rows ClickHouse read to answer read requests (read_rows of X-ClickHouse-Summary), by endpoint',
    labelNames: ['endpoint'],
    registers: [registry],
  });
  const clickhouseDuration = new Histogram({
    name: 'query_clickhouse_duration_seconds',
    help: 'Time ClickHouse took to answer a read statement, rows received and parsed (the rest of a request is the service)',
    labelNames: ['endpoint'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });

  async function run(ctx: RequestContext, query: string, params: Record<string, unknown>, via = client, format: 'JSONEachRow' | 'TabSeparatedRaw' = 'JSONEachRow'): Promise<Result> {
    try {
      const rs = await via.query({
        query,
        query_params: { ...params, tenant: ctx.tenant },
        format,
        abort_signal: ctx.signal,
        // Long parameters (a 5 MB metric name, 100 task ids of unicode) go in a multipart body, not
        // the URL, whose length servers and proxies bound (414 or 400, which would surface as 5xx).
        use_multipart_params_auto: true,
      });
      countRead(ctx.endpoint, rs);
      return rs;
    } catch (e) {
      throw classify(e, ctx.signal);
    }
  }

  /** `query` through `exec`, its raw response unread; only for parameters that fit in the URL (`paramsFitUrl`). */
  async function exec(ctx: RequestContext, query: string, params: Record<string, unknown>) {
    try {
      const res = await client.exec({ query, query_params: params, abort_signal: ctx.signal });
      countRead(ctx.endpoint, res);
      return res;
    } catch (e) {
      throw classify(e, ctx.signal);
    }
  }

  /** A whole result: `read` of what `start` began (which classifies its own failures), timed until it is read. */
  async function whole<S, R>(ctx: RequestContext, start: () => Promise<S>, read: (started: S) => Promise<R>): Promise<R> {
    const end = clickhouseDuration.startTimer({ endpoint: ctx.endpoint });
    const started = await start();
    try {
      const result = await read(started);
      end();
      return result;
    } catch (e) {
      throw classify(e, ctx.signal);
    }
  }

  function countRead(endpoint: string, rs: { response_headers: Record<string, unknown> }): void {
    // Sent with the response headers: for a streamed result, what was read when it started.
    const summary = rs.response_headers['x-clickhouse-summary'];
    if (typeof summary !== 'string') return;
    try {
      const n = Number((JSON.parse(summary) as { read_rows?: string }).read_rows);
      if (n > 0) rowsRead.inc({ endpoint }, n);
    } catch {
      // A malformed header only loses a metric sample.
    }
  }

  return {
    // JSONEachRow: an array of rows (the result type covers every format).
    rows: <T>(ctx: RequestContext, query: string, params: Record<string, unknown> = {}) =>
      whole(ctx, () => run(ctx, query, params), async (rs) => (await rs.json<T>()) as T[]),
    tsvBytes(ctx: RequestContext, query: string, params: Record<string, unknown>) {
      const queryParams = { ...params, tenant: ctx.tenant };
      if (paramsFitUrl(queryParams)) return whole(ctx, () => exec(ctx, `${query} FORMAT TabSeparatedRaw`, queryParams), readRawBody);
      // Long parameters (a 5 MB metric name) need query()'s multipart body; its text is re-encoded.
      return whole(
        ctx,
        () => run(ctx, query, params, client, 'TabSeparatedRaw'),
        async (rs) => checkedBody(Buffer.from(await rs.text(), 'utf8'), rs.response_headers),
      );
    },
    async command(ctx: RequestContext, query: string, params: Record<string, unknown> = {}) {
      const queryParams = { ...params, tenant: ctx.tenant };
      if (!paramsFitUrl(queryParams)) return false;
      try {
        await client.command({ query, query_params: queryParams, abort_signal: ctx.signal });
        return true;
      } catch (e) {
        throw classify(e, ctx.signal);
      }
    },
    async stream<T, R>(ctx: RequestContext, query: string, params: Record<string, unknown>, map: (rows: T[]) => R) {
      const rs = await run(ctx, query, params, streamClient);
      const blocks = (rs.stream() as AsyncIterable<Array<{ json<U>(): U }>>)[Symbol.asyncIterator]();
      const iterator: AsyncIterableIterator<R> = {
        [Symbol.asyncIterator]: () => iterator,
        async next() {
          try {
            const block = await blocks.next();
            if (block.done) return { done: true, value: undefined };
            return { done: false, value: map(block.value.map((row) => row.json<T>())) };
          } catch (e) {
            rs.close();
            throw classify(e, ctx.signal);
          }
        },
        async return() {
          rs.close();
          return { done: true, value: undefined };
        },
      };
      return iterator;
    },
  };
}

/** The request's own abort reason; a busy or unreachable store as 503; anything else (a bad statement: a bug) as is. */
export function classify(e: unknown, signal: AbortSignal): unknown {
  if (signal.aborted) return signal.reason;
  switch (classifyClickHouseError(e)) {
    case 'retriable':
      return unavailable('the event store (ClickHouse) is busy', RETRY_AFTER_SEC, e);
    case 'unreachable':
      return unavailable('the event store (ClickHouse) is unavailable', RETRY_AFTER_SEC, e);
    case 'bad-rows':
    case 'statement':
      return e;
  }
}
