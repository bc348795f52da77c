// Which API request caused an event (Stripe's `event.request`: its request id and Idempotency-Key).
// The HTTP layer opens a scope for each request (src/http/app.ts) in an AsyncLocalStorage, so that
// the one function that builds events (newEvent) reads it where the event is made, without every
// service signature carrying the request. An event made outside any request (the event bus's
// consumers, status sync, settlement, a worker) or for an account other than the one whose key
// made the request (an operator's settlement run writes merchants' events) has no request:
// `{id: null, idempotency_key: null}`, as Stripe shows for events it caused itself.
import { AsyncLocalStorage } from 'node:async_hooks';

export type EventRequest = {
  readonly id: string | null;
  readonly idempotencyKey: string | null;
};

export const noRequest: EventRequest = Object.freeze({ id: null, idempotencyKey: null });

/** One API request as the events see it; the account and key are read when an event is made. */
export type RequestScope = {
  readonly id: string;
  /** The account whose key made the request (undefined until authenticated, or for an operator). */
  account(): string | undefined;
  /** The Idempotency-Key the request was accepted under, if any. */
  idempotencyKey(): string | null;
  /** Cleared when the response is sent: later work started by the request is no longer its. */
  open: boolean;
};

const storage = new AsyncLocalStorage<RequestScope>();

/** Runs `work` (and everything it starts) inside the request's scope. */
export function runInRequest<T>(scope: RequestScope, work: () => T): T {
  return storage.run(scope, work);
}

/** Runs `work` outside any request: for background loops started while a request is under way. */
export function outsideRequest<T>(work: () => T): T {
  return storage.exit(work);
}

/** The request that causes an event of `merchantId` made now, or `noRequest`. */
export function requestCausing(merchantId: string): EventRequest {
  const scope = storage.getStore();
  if (scope === undefined || !scope.open || scope.account() !== merchantId) return noRequest;
  return { id: scope.id, idempotencyKey: scope.idempotencyKey() };
}
