// A merchant's HTTP client as it must behave to survive a server that dies: every POST carries an
// Idempotency-Key, and a request that got no definitive answer (network error, 5xx, 429, or 409
// "key in use" while the first try still holds it) is sent again with the SAME key until it gets
// one, within a bounded time.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Random } from './random.ts';

export type ApiError = {
  type?: string;
  code?: string;
  message?: string;
  decline_code?: string;
  param?: string;
};
/** Loosely typed JSON as Payrail answers it. */
export type Json = Record<string, unknown> & { error?: ApiError };

export type Answer = {
  readonly status: number;
  readonly body: Json;
  readonly replayed: boolean;
  readonly tries: number;
};

export type ClientStats = {
  requests: number;
  retries: { network: number; server: number; keyInUse: number; rateLimited: number };
  /** Requests that never got a definitive answer within their time limit. */
  gaveUp: number;
  byStatus: Record<string, number>;
};

export function newClientStats(): ClientStats {
  return {
    requests: 0,
    retries: { network: 0, server: 0, keyInUse: 0, rateLimited: 0 },
    gaveUp: 0,
    byStatus: {},
  };
}

export type ClientOptions = {
  readonly baseUrl: string;
  readonly secretKey: string;
  readonly random: Random;
  readonly stats: ClientStats;
  /** One try's limit (the server's own PSP timeouts and retries fit well inside it). */
  readonly tryTimeoutMs?: number;
  /** A request's limit over all its tries. */
  readonly requestTimeoutMs?: number;
  /** Once set, no new try starts (the run is shutting down). */
  readonly aborted?: () => boolean;
};

const retryDelayMsMax = 1_000;

export class PayrailClient {
  readonly #options: ClientOptions;
  readonly #keyPrefix: string;
  #keys = 0;

  constructor(options: ClientOptions, keyPrefix: string) {
    this.#options = options;
    this.#keyPrefix = keyPrefix;
  }

  /** A fresh idempotency key, unique in the run. */
  newKey(label: string): string {
    return `${this.#keyPrefix}-${++this.#keys}-${label}`;
  }

  /** A POST with a fresh key (or the given one), retried with it until a definitive answer. */
  post(
    path: string,
    body: unknown,
    key = this.newKey(path.split('/').pop() ?? 'post'),
  ): Promise<Answer | undefined> {
    return this.send('POST', path, body, key);
  }

  get(path: string): Promise<Answer | undefined> {
    return this.send('GET', path, undefined, undefined);
  }

  async send(
    method: string,
    path: string,
    body: unknown,
    idempotencyKey: string | undefined,
  ): Promise<Answer | undefined> {
    const options = this.#options;
    const deadline = Date.now() + (options.requestTimeoutMs ?? 60_000);
    const headers: Record<string, string> = { authorization: `Bearer ${options.secretKey}` };
    if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const text = body === undefined ? undefined : JSON.stringify(body);
    options.stats.requests++;
    for (let tries = 1; ; tries++) {
      const answer = await this.#try(method, path, headers, text, tries);
      if (answer !== undefined && !this.#retryable(answer)) {
        options.stats.byStatus[answer.status] = (options.stats.byStatus[answer.status] ?? 0) + 1;
        return answer;
      }
      if (Date.now() >= deadline || options.aborted?.() === true) {
        options.stats.gaveUp++;
        return undefined;
      }
      const waitMs = Math.min(retryDelayMsMax, 50 * 2 ** Math.min(tries, 5));
      await sleep(Math.round(waitMs * (0.5 + options.random.next())));
    }
  }

  async #try(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
    tries: number,
  ): Promise<Answer | undefined> {
    try {
      const response = await fetch(`${this.#options.baseUrl}${path}`, {
        method,
        headers,
        body,
        signal: AbortSignal.timeout(this.#options.tryTimeoutMs ?? 20_000),
      });
      const text = await response.text();
      let parsed: Json;
      try {
        parsed = text === '' ? {} : (JSON.parse(text) as Json);
      } catch {
        parsed = { error: { message: `not JSON: ${text.slice(0, 200)}` } };
      }
      return {
        status: response.status,
        body: parsed,
        replayed: response.headers.get('idempotent-replayed') === 'true',
        tries,
      };
    } catch {
      // The connection died (a killed server) or the try timed out: the outcome is unknown.
      this.#options.stats.retries.network++;
      return undefined;
    }
  }

  #retryable(answer: Answer): boolean {
    const retries = this.#options.stats.retries;
    if (answer.status >= 500) {
      retries.server++;
      return true;
    }
    if (answer.status === 429) {
      retries.rateLimited++;
      return true;
    }
    if (answer.status === 409 && answer.body.error?.code === 'idempotency_key_in_use') {
      retries.keyInUse++;
      return true;
    }
    return false;
  }
}
