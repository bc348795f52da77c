// A request whose bodies stream, for what is too large to hold: a PSP report (an Adyen-style CSV
// of a whole batch) read as it arrives, a clearing batch written as its items are read. The same
// rules as http.ts's buffered request: http(s) only, no redirect followed, a hard timeout (here
// for the answer's headers, and for each wait on the body while the reader waits, so a reader
// that is busy staging lines is not timed out), a byte limit, and an overall deadline for the
// exchange. The request body is written with backpressure (a write waits for the socket to
// drain), and the answer's body is an async iterable of chunks read as the caller asks for them
// (the socket pauses meanwhile): neither side is ever buffered whole. Stopping early (an error in
// the reader) closes the connection.
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { TIMEOUT_MS_MAX, type HttpNoResponse } from './http.ts';

export type StreamingRequest = {
  readonly url: string;
  /** GET without a body, POST with one. */
  readonly method?: 'GET' | 'POST';
  /** The request body, written as it is produced. */
  readonly body?: AsyncIterable<Uint8Array>;
  readonly headers?: Readonly<Record<string, string>>;
  /** The longest wait for the headers, and for each chunk of the body. */
  readonly timeoutMs: number;
  /** The whole exchange, body included, ends by then. */
  readonly deadlineMs: number;
  readonly maxBytes: number;
};

export type StreamedResponse = {
  readonly kind: 'response';
  readonly status: number;
  /** Read once. Throws a BodyError on a timeout, a lost connection or too many bytes. */
  readonly body: AsyncIterable<Buffer>;
  /**
   * Ends the exchange once the caller is done with the answer: a request body the peer did not
   * read to its end (it answered early) stops being produced, and this resolves once its writer
   * has stopped (so the body's source is no longer read behind the caller's back).
   */
  finish(): Promise<void>;
};

/** Why a body could not be read to its end. */
export class BodyError extends Error {
  readonly reason: 'timeout' | 'network' | 'too_large';
  constructor(reason: 'timeout' | 'network' | 'too_large', message: string) {
    super(message);
    this.name = 'BodyError';
    this.reason = reason;
  }
}

const httpAgent = new http.Agent({ keepAlive: true });
const httpsAgent = new https.Agent({ keepAlive: true });

export function streamingRequest(
  request: StreamingRequest,
): Promise<StreamedResponse | HttpNoResponse> {
  const { timeoutMs } = request;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > TIMEOUT_MS_MAX)
    throw new RangeError(
      `timeoutMs must be an integer in 1..${TIMEOUT_MS_MAX}, got ${String(timeoutMs)}`,
    );
  const url = URL.canParse(request.url) ? new URL(request.url) : undefined;
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new TypeError('streamingRequest: the URL does not parse as http(s) (check the baseUrl)');
  const deadlineAt = performance.now() + request.deadlineMs;
  return new Promise((resolve) => {
    let settled = false;
    const secure = url.protocol === 'https:';
    const outgoing = (secure ? https : http).request(
      url,
      {
        method: request.method ?? 'GET',
        headers: { ...request.headers },
        agent: secure ? httpsAgent : httpAgent,
      },
      (response) => {
        if (settled) {
          response.destroy();
          return;
        }
        settled = true;
        clearTimeout(timer);
        resolve({
          kind: 'response',
          status: response.statusCode ?? 0,
          body: boundedBody(response, timeoutMs, deadlineAt, request.maxBytes),
          finish: async () => {
            if (!outgoing.writableFinished) outgoing.destroy();
            await writing;
          },
        });
      },
    );
    const timeOut = () => {
      if (settled) return;
      settled = true;
      resolve({ kind: 'no_response', reason: 'timeout' });
      outgoing.destroy();
    };
    // The wait for the answer's headers starts once the request is sent (its body written).
    let timer: NodeJS.Timeout | undefined;
    const awaitHeaders = () => {
      if (settled) return;
      timer = setTimeout(timeOut, Math.max(0, Math.min(timeoutMs, deadlineAt - performance.now())));
    };
    // After the headers, a failure shows in the body's iteration; this listener keeps it handled.
    outgoing.on('error', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ kind: 'no_response', reason: 'network' });
    });
    let writing: Promise<void> = Promise.resolve();
    if (request.body === undefined) {
      outgoing.end();
      awaitHeaders();
    } else
      writing = writeBody(outgoing, request.body, timeoutMs, deadlineAt).then((sent) => {
        if (sent) awaitHeaders();
        else {
          // The peer stopped taking the request: over, whether or not it answered already.
          timeOut();
          outgoing.destroy();
        }
      });
  });
}

/**
 * Writes the body chunk by chunk, each after the socket took the last (a wait bounded by the
 * timeout and the deadline). False when the peer stopped taking it in time; a failure of the body
 * ends the request (its 'error').
 */
async function writeBody(
  outgoing: http.ClientRequest,
  body: AsyncIterable<Uint8Array>,
  timeoutMs: number,
  deadlineAt: number,
): Promise<boolean> {
  try {
    for await (const chunk of body) {
      if (outgoing.destroyed) return true;
      if (performance.now() >= deadlineAt) return false;
      if (outgoing.write(chunk)) continue;
      const wait = Math.min(timeoutMs, deadlineAt - performance.now());
      if (!(await drainedOrClosed(outgoing, wait))) return false;
    }
    outgoing.end();
  } catch (error) {
    outgoing.destroy(error instanceof Error ? error : new Error(String(error)));
  }
  return true;
}

/**
 * Until the socket took what was written, or the request is over (then the next write stops):
 * true; false when neither happened within `waitMs`.
 */
async function drainedOrClosed(outgoing: http.ClientRequest, waitMs: number): Promise<boolean> {
  const stop = new AbortController();
  const waits = ['drain', 'close'].map((event) =>
    once(outgoing, event, { signal: stop.signal }).then(
      () => true,
      () => false,
    ),
  );
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, waitMs));
  });
  try {
    return await Promise.race([...waits, expired]);
  } finally {
    clearTimeout(timer);
    stop.abort();
  }
}

async function* boundedBody(
  response: http.IncomingMessage,
  timeoutMs: number,
  deadlineAt: number,
  maxBytes: number,
): AsyncGenerator<Buffer> {
  const chunks = response[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let total = 0;
  let complete = false;
  try {
    for (;;) {
      // Checked before each read: data already buffered would win a race against a 0 ms timer.
      if (performance.now() >= deadlineAt) {
        response.destroy();
        throw new BodyError('timeout', 'the exchange ran past its deadline');
      }
      const wait = Math.min(timeoutMs, deadlineAt - performance.now());
      const next = await within(chunks.next(), wait, () => response.destroy());
      if (next.done === true) {
        complete = true;
        return;
      }
      total += next.value.byteLength;
      if (total > maxBytes) throw new BodyError('too_large', `more than ${maxBytes} bytes`);
      yield next.value;
    }
  } finally {
    // Read to the end, the connection goes back to the pool; otherwise it is closed.
    if (!complete) response.destroy();
  }
}

async function within<T>(pending: Promise<T>, waitMs: number, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => {
        onTimeout();
        reject(new BodyError('timeout', 'the answer stopped coming (timeout)'));
      },
      Math.max(0, waitMs),
    );
  });
  try {
    return await Promise.race([
      pending.catch((error: unknown) => {
        throw error instanceof BodyError
          ? error
          : new BodyError('network', `the connection was lost mid-answer (${String(error)})`);
      }),
      expired,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
