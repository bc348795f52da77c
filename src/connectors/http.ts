// The one way connectors talk to a PSP: an HTTP request with a hard deadline. Its result is either
// an HTTP response (any status) or "no response". No response — a timeout, a refused or reset
// connection, a connection destroyed mid-body — never means the call failed: the PSP may have
// acted, so connectors turn it into an 'unknown' outcome that sync resolves later.

import http from 'node:http';
import https from 'node:https';

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

export type HttpNoResponse = {
  readonly kind: 'no_response';
  readonly reason: 'timeout' | 'network';
};

export type HttpResult = HttpResponse | HttpNoResponse;

export const DEFAULT_MAX_RESPONSE_BYTES = 1_048_576;
/** No PSP call may wait longer than this, whatever the caller asks. */
export const TIMEOUT_MS_MAX = 120_000;

// node:http with kept-alive connections rather than fetch: on the busiest path (one PSP call per
// payment) fetch's web streams, AbortSignal and DOMException cost about twice the CPU.
const httpAgent = new http.Agent({ keepAlive: true, scheduling: 'lifo' });
const httpsAgent = new https.Agent({ keepAlive: true, scheduling: 'lifo' });

export async function httpRequest(request: HttpRequest): Promise<HttpResult> {
  assertTimeout(request.timeoutMs);
  // A malformed URL is a configuration bug, not a lost response: nothing could have been sent.
  const url = URL.canParse(request.url) ? new URL(request.url) : undefined;
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new TypeError(
      'httpRequest: the URL does not parse as http(s) (check the connector baseUrl)',
    );
  }
  const maxBytes = request.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const headers: Record<string, string> = { ...request.headers };
  if (request.body !== undefined)
    headers['content-length'] = String(Buffer.byteLength(request.body));
  return new Promise<HttpResult>((resolve) => {
    let settled = false;
    const settle = (result: HttpResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const secure = url.protocol === 'https:';
    // A PSP API never redirects, and node:http never follows one (following could replay a POST elsewhere).
    const outgoing = (secure ? https : http).request(
      url,
      { method: request.method, headers, agent: secure ? httpsAgent : httpAgent },
      (response) => {
        const chunks: Buffer[] = [];
        let total = 0;
        response.on('data', (chunk: Buffer) => {
          total += chunk.byteLength;
          if (total > maxBytes) {
            // Too large to parse: the status stands, the rest is discarded with the connection.
            settle({
              kind: 'response',
              status: response.statusCode ?? 0,
              body: undefined,
              text: '',
            });
            outgoing.destroy();
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          settle({
            kind: 'response',
            status: response.statusCode ?? 0,
            body: parseJson(text),
            text,
          });
        });
        // Closed before the end of the body: whatever arrived is not an answer.
        response.on('close', () => settle({ kind: 'no_response', reason: 'network' }));
        response.on('error', () => settle({ kind: 'no_response', reason: 'network' }));
      },
    );
    const timer = setTimeout(() => {
      settle({ kind: 'no_response', reason: 'timeout' });
      outgoing.destroy();
    }, request.timeoutMs);
    // A timeout has settled already (our timer destroys the request); any other error is the network's.
    outgoing.on('error', () => settle({ kind: 'no_response', reason: 'network' }));
    outgoing.end(request.body);
  });
}

function assertTimeout(timeoutMs: number): void {
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > TIMEOUT_MS_MAX) {
    throw new RangeError(
      `timeoutMs must be an integer in 1..${TIMEOUT_MS_MAX}, got ${String(timeoutMs)}`,
    );
  }
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
