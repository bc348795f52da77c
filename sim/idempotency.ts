// Header-keyed idempotency for Stripe and Razorpay (CONTRACT.md "Idempotency"). A handler runs
// synchronously from lookup to store, so of any number of concurrent requests with one key
// exactly one performs the operation; the others find its stored response. The response is
// stored when the operation is performed, before any delay, so a retry that arrives while the
// first answer is held back (timeout) gets it at once.
import type { SimResponse } from './http.ts';
import type { PspBook } from './store.ts';

/** A handler's result: keep=false for answers that must not be replayed (validation errors, 500s). */
export type Performed = SimResponse & { readonly keep: boolean };

export type IdempotencyAnswers = {
  /** Same key, different request. */
  readonly conflict: () => SimResponse;
  /** Extra headers on a replayed response (Stripe: Idempotent-Replayed). */
  readonly replayHeaders?: Readonly<Record<string, string>>;
};

export const IDEMPOTENCY_KEY_LENGTH_MAX = 255;

export function withIdempotency<P, R>(
  book: PspBook<P, R>,
  key: string | undefined,
  fingerprint: () => string,
  perform: () => Performed,
  answers: IdempotencyAnswers,
): SimResponse {
  if (key === undefined) return perform();
  const print = fingerprint();
  const stored = book.recall(key);
  if (stored !== undefined) {
    if (stored.fingerprint !== print) return answers.conflict();
    return answers.replayHeaders === undefined
      ? { status: stored.status, text: stored.text }
      : { status: stored.status, text: stored.text, headers: answers.replayHeaders };
  }
  book.assertCanRemember();
  const performed = perform();
  if (performed.keep)
    book.remember(key, { fingerprint: print, status: performed.status, text: performed.text });
  return performed;
}
