// The simulator's own request/response types: PSP modules see a parsed request and return a
// response value; only server.ts touches node:http. A response is serialized once, so the same
// text can be stored for idempotent replay and sent again byte for byte.
import type { IncomingHttpHeaders } from 'node:http';
import type { Psp, SimStore } from './store.ts';
import type { Webhooks } from './webhooks.ts';

// Kept here for the PSP modules; it lives in json.ts, which imports nothing (no import cycle).
export { isPlainObject } from './json.ts';

export type SimRequest = {
  readonly method: string;
  /** Path segments after the PSP prefix, without empty ones: /stripe/v1/refunds → ['v1', 'refunds']. */
  readonly segments: readonly string[];
  /** The raw query string, without '?'. */
  readonly query: string;
  readonly headers: IncomingHttpHeaders;
  readonly bodyText: string;
  /** A PSP module may cache its parse of the body here (Paytm parses it to authenticate). */
  parsedBody?: unknown;
};

export type SimResponse = {
  readonly status: number;
  readonly text: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Extra delay before the response is sent (the timeout test card). */
  readonly delayMs?: number;
  /** Destroy the connection instead of answering (the lost-response test card). */
  readonly lose?: boolean;
};

export type Route = {
  /** Mutating calls get every fault; reads get only latency and errors. */
  readonly mutating: boolean;
  readonly handle: (request: SimRequest) => SimResponse;
};

/** The PSP's own wording for the errors the server produces outside a route handler. */
export type PspErrors = {
  readonly notFound: () => SimResponse;
  readonly serverError: () => SimResponse;
  readonly tooLarge: () => SimResponse;
  /** 503: a bound of the simulator's store was reached. */
  readonly unavailable: (message: string) => SimResponse;
};

/** 3-D Secure data as a PSP receives it with an authorization (checked by three-d-secure.ts). */
export type ThreeDSecureEvidence = {
  readonly cardNumber: string;
  readonly amount: number;
  /** Any case; compared lowercase. */
  readonly currency: string;
  readonly authenticationValue: string;
  /** Checked when given (Stripe makes it optional). */
  readonly eci: string | undefined;
  readonly dsTransactionId: string;
};

/** The simulator's 3-D Secure server, as the PSPs ask it about data sent with an authorization. */
export type ThreeDSecureVerifier = {
  /** Whether the server issued this cryptogram (status Y or A) for this card, amount and currency. */
  verify(evidence: ThreeDSecureEvidence): boolean;
};

/** What every PSP module is built from. */
export type PspContext = {
  readonly store: SimStore;
  readonly threeDSecure: ThreeDSecureVerifier;
  /** How long the timeout test card holds its response back (SIM_TIMEOUT_DELAY_MS). */
  readonly timeoutDelayMs: number;
  /** Where the PSP module registers its webhook format. */
  readonly webhooks: Webhooks;
};

export interface PspApi {
  readonly psp: Psp;
  readonly errors: PspErrors;
  match(method: string, segments: readonly string[]): Route | undefined;
  /** An error response when the credentials are wrong, else undefined. */
  authenticate(request: SimRequest): SimResponse | undefined;
}

/** One PSP of the simulator, as its file under sim/psps/ exports it; sim/psps/registry.ts lists them. */
export type SimPspModule = {
  /** The path prefix and the name in the admin API (/_sim/faults/<psp> …). */
  readonly psp: Psp;
  create(context: PspContext): PspApi;
};

export function json(
  status: number,
  value: unknown,
  headers?: Readonly<Record<string, string>>,
): SimResponse {
  return headers === undefined
    ? { status, text: JSON.stringify(value) }
    : { status, text: JSON.stringify(value), headers };
}

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export type StringMap = Record<string, string>;
