// The one way connectors talk to a PSP: global fetch with a hard deadline. Its result is either
// an HTTP response (any status) or "no response". No response — a timeout, a refused or reset
// connection, a connection destroyed mid-body — never means the call failed: the PSP may have
// acted, so connectors turn it into an 'unknown' outcome that sync resolves later.

export type HttpMethod = 'GET' | 'POST';

export type HttpRequest = {
  readonly method: HttpMethod;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Deadline for the whole exchange, body included. */
  readonly timeoutMs: number;
  /** Larger bodies are not parsed (body undefined); default DEFAULT_MAX_RESPONSE_BYTES. */
  readonly maxResponseBytes?: number;
};

export type HttpResponse = {
  readonly kind: 'response';
  readonly status: number;
  /** Parsed JSON, or undefined when the body is empty, not JSON, or too large. */
  readonly body: unknown;
  readonly text: string;
};

export type HttpNoResponse = { readonly kind: 'no_response'; readonly reason: 'timeout' | 'network' };

export type HttpResult = HttpResponse | HttpNoResponse;

export const DEFAULT_MAX_RESPONSE_BYTES = 1_048_576;
/** No PSP call may wait longer than this, whatever the caller asks. */
export const TIMEOUT_MS_MAX = 120_000;

export async function httpRequest(request: HttpRequest): Promise<HttpResult> {
  assertTimeout(request.timeoutMs);
  // A malformed URL is a configuration bug, not a lost response: nothing could have been sent.
  if (!URL.canParse(request.url)) throw new TypeError('httpRequest: the URL does not parse (check the connector baseUrl)');
  const signal = AbortSignal.timeout(request.timeoutMs);
  const maxBytes = request.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal,
      // A PSP API never redirects; following one could replay a POST elsewhere.
      redirect: 'manual',
    });
    const read = await readLimited(response, maxBytes);
    return { kind: 'response', status: response.status, body: read.complete ? parseJson(read.text) : undefined, text: read.text };
  } catch (error) {
    return { kind: 'no_response', reason: signal.aborted || isTimeoutError(error) ? 'timeout' : 'network' };
  }
}

function assertTimeout(timeoutMs: number): void {
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > TIMEOUT_MS_MAX) {
    throw new RangeError(`timeoutMs must be an integer in 1..${TIMEOUT_MS_MAX}, got ${String(timeoutMs)}`);
  }
}

/** Reads at most maxBytes; beyond that the rest is discarded and `complete` is false. */
async function readLimited(response: Response, maxBytes: number): Promise<{ text: string; complete: boolean }> {
  if (response.body === null) return { text: '', complete: true };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      return { text: '', complete: false };
    }
    chunks.push(value);
  }
  return { text: Buffer.concat(chunks).toString('utf8'), complete: true };
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isTimeoutError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}
