import { rawResponse, type RawResponse, type RequestContext } from './endpoint';
import { successEnvelope } from './envelope';
import { stringifyJson } from './json';

/** A piece of a streamed response: text, or bytes already encoded as UTF-8. */
export type Chunk = string | Uint8Array;

/**
 * `head`, then every chunk of `body`, then what `tail()` gives once `body` is done: one stream of
 * text chunks. Ending it early (`return()`, even before the first `next()`) ends `body` too,
 * which closes whatever `body` reads from (a ClickHouse response).
 */
export function chainChunks<C extends Chunk = string>(head: string, body: AsyncIterable<C>, tail: () => string | Promise<string>): AsyncIterableIterator<C | string> {
  let inner: AsyncIterator<C> | undefined;
  let stage: 'head' | 'body' | 'done' = 'head';
  const finish = async (): Promise<void> => {
    stage = 'done';
    await inner?.return?.();
  };
  const iterator: AsyncIterableIterator<C | string> = {
    [Symbol.asyncIterator]: () => iterator,
    async next() {
      if (stage === 'head') {
        stage = 'body';
        inner = body[Symbol.asyncIterator]();
        return { done: false, value: head };
      }
      if (stage === 'body') {
        let step: IteratorResult<C>;
        try {
          step = await (inner as AsyncIterator<C>).next();
        } catch (e) {
          stage = 'done';
          throw e;
        }
        if (!step.done) return step;
        stage = 'done';
        return { done: false, value: await tail() };
      }
      return { done: true, value: undefined };
    },
    async return() {
      if (stage !== 'done') {
        // Not started: `body` was never asked for an iterator; its own return() still closes its source.
        inner ??= body[Symbol.asyncIterator]();
        await finish();
      }
      return { done: true, value: undefined };
    },
  };
  return iterator;
}

/**
 * A success envelope whose `data` (JSON text, in chunks) is written as it is produced: for an
 * answer too big to build in memory first. The envelope's `meta` is the one `successEnvelope`
 * gives. A failure after the first chunk can only cut the response short (the client sees a
 * truncated body, never a clean end), so whatever can fail before the data should run before this.
 */
export function streamedEnvelope(ctx: RequestContext, data: AsyncIterable<Chunk>, opts: { numeric?: boolean } = {}): RawResponse {
  const { meta } = successEnvelope(
    { id: ctx.requestId, trx: ctx.trx, endpoint: { name: ctx.endpoint, requested_version: ctx.requestedVersion, actual_version: ctx.actualVersion } },
    null,
  );
  return rawResponse({ contentType: 'application/json; charset=utf-8', stream: chainChunks(`{"meta":${stringifyJson(meta)},"data":`, data, () => '}'), ...opts });
}
