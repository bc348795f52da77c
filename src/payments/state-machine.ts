// Every status change of a payment intent or an attempt goes through these tables (DESIGN §5).
import { PaymentError } from './errors.ts';

export type IntentStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'requires_capture'
  | 'succeeded'
  | 'canceled';

export type AttemptStatus =
  'pending' | 'authorized' | 'captured' | 'voided' | 'failed' | 'unknown' | 'refunded';

const intentTransitions: Readonly<Record<IntentStatus, readonly IntentStatus[]>> = {
  requires_payment_method: ['requires_confirmation', 'processing', 'canceled'],
  requires_confirmation: ['requires_payment_method', 'processing', 'canceled'],
  requires_action: ['processing', 'requires_payment_method', 'canceled'],
  // An authorization whose outcome is being learned; also a capture or cancel in flight.
  // Back to requires_confirmation only when nothing reached a PSP (every connector unavailable).
  processing: [
    'processing',
    'requires_capture',
    'succeeded',
    'requires_payment_method',
    'requires_confirmation',
    'canceled',
  ],
  requires_capture: ['processing', 'succeeded', 'canceled'],
  succeeded: [],
  canceled: [],
};

const attemptTransitions: Readonly<Record<AttemptStatus, readonly AttemptStatus[]>> = {
  pending: ['authorized', 'captured', 'failed', 'unknown'],
  unknown: ['unknown', 'authorized', 'captured', 'failed'],
  authorized: ['captured', 'voided'],
  // Refunded in full: only an abandoned attempt that turned out captured after a failover.
  captured: ['refunded'],
  voided: [],
  // Reopened as an abandoned orphan (to be voided or refunded) when the PSP reports it charged after all.
  failed: ['unknown'],
  refunded: [],
};

export function canMoveIntent(from: IntentStatus, to: IntentStatus): boolean {
  return intentTransitions[from].includes(to);
}

/** Throws the typed error the API answers with when a payment intent cannot make this move. */
export function moveIntent(
  id: string,
  from: IntentStatus,
  to: IntentStatus,
  action: string,
): IntentStatus {
  if (!canMoveIntent(from, to)) {
    throw new PaymentError(
      'payment_intent_unexpected_state',
      `You cannot ${action} this PaymentIntent because it has a status of ${from}.`,
      { paymentIntentId: id },
    );
  }
  return to;
}

export function moveAttempt(id: string, from: AttemptStatus, to: AttemptStatus): AttemptStatus {
  if (!attemptTransitions[from].includes(to)) {
    // Attempts only move by PSP outcomes recorded under a row lock: this is a bug, not input.
    throw new Error(`illegal attempt transition ${from} → ${to} for ${id}`);
  }
  return to;
}

export function isFinalIntent(status: IntentStatus): boolean {
  return intentTransitions[status].length === 0;
}
