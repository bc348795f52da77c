// A GET whose body is read as it arrives, for reports too large to hold (an Adyen-style CSV of a
// whole batch). The same rules as connectors/http.ts's buffered request: http(s) only, no redirect
// followed, a hard timeout (here for the answer's headers, and for each wait on the body while
// the reader waits, so a reader that is busy staging lines is not timed out), a byte limit, and an
// overall deadline for the exchange. The body is an async iterable of chunks: stopping early (an
// error in the reader) closes the connection.
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { TIMEOUT_MS_MAX, type HttpNoResponse } from '../../connectors/http.ts';

export type StreamingGetRequest = {
  readonly url: string;
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

export function streamingGet(
  request: StreamingGetRequest,
): Promise<StreamedResponse | HttpNoResponse> {
  const { timeoutMs } = request;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > TIMEOUT_MS_MAX)
    throw new RangeError(
      `timeoutMs must be an integer in 1..${TIMEOUT_MS_MAX}, got ${String(timeoutMs)}`,
    );
  const url = URL.canParse(request.url) ? new URL(request.url) : undefined;
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new TypeError('streamingGet: the URL does not parse as http(s) (check the baseUrl)');
  const deadlineAt = performance.now() + request.deadlineMs;
  return new Promise((resolve) => {
    let settled = false;
    const secure = url.protocol === 'https:';
    const outgoing = (secure ? https : http).request(
      url,
      { method: 'GET', headers: { ...request.headers }, agent: secure ? httpsAgent : httpAgent },
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
        });
      },
    );
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      resolve({ kind: 'no_response', reason: 'timeout' });
      outgoing.destroy();
    }, timeoutMs);
    // After the headers, a failure shows in the body's iteration; this listener keeps it handled.
    outgoing.on('error', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ kind: 'no_response', reason: 'network' });
    });
    outgoing.end();
  });
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
