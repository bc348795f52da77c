// What the three PSP modules share: amount bounds and how a test card's outcome shapes timing.
import type { CardOutcome } from '../cards.ts';

/** The largest amount accepted, in minor units (Payrail's own maximum). */
export const AMOUNT_MAX = 99_999_999_999;
export const REFERENCE_LENGTH_MAX = 255;
export const DESCRIPTION_LENGTH_MAX = 1000;
export const LIST_LIMIT_MAX = 100;

/** Delay or loss of the response for the timeout and lost-response cards. */
export function cardTiming(
  outcome: CardOutcome,
  timeoutDelayMs: number,
): { delayMs?: number; lose?: boolean } {
  if (outcome.kind === 'timeout') return { delayMs: timeoutDelayMs };
  if (outcome.kind === 'lost') return { lose: true };
  return {};
}

/** Seconds since the epoch, as Stripe's `created` and Razorpay's `created_at`. */
export function unixSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}
