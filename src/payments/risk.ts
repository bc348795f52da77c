// Risk on the payment path: what a decision reads of a payment, what a block looks like, and what
// velocity counts of an attempt once its outcome is known. The decision itself is src/risk's.
import type { PaymentOutcome } from '../connectors/types.ts';
import type { StoredEvent } from '../events/events.ts';
import { attemptIdOf } from '../ids.ts';
import type { RiskRecord, VelocityEvent } from '../risk/types.ts';
import type { Queryable } from '../storage/database.ts';
import type { PaymentMethod } from '../vault/index.ts';
import type { RiskFacts } from './dependencies.ts';
import type { Attempt, PaymentIntent } from './types.ts';

/** The email a decision reads: the receipt email, else the card's billing email. */
function emailOf(intent: PaymentIntent, card: PaymentMethod): string | null {
  const email = intent.receiptEmail ?? card.billingDetails.email ?? null;
  return email === null ? null : email.toLowerCase();
}

export function riskFactsOf(
  intent: PaymentIntent,
  card: PaymentMethod,
  now: Date,
  authentication?: RiskFacts['authentication'],
): RiskFacts {
  return {
    merchantId: intent.merchantId,
    amount: intent.amount,
    currency: intent.currency,
    card,
    email: emailOf(intent, card),
    ipAddress: intent.radarOptions?.ip_address ?? null,
    ipCountry: intent.radarOptions?.ip_country ?? null,
    customerId: intent.customerId,
    metadata: intent.metadata,
    ...(authentication === undefined ? {} : { authentication }),
    now,
  };
}

/** Stripe's words for a payment Radar blocked. */
export const blockedMessage = 'Your card was declined.';

/** The outcome recorded for a blocked attempt: declined before it reached any network. */
export function blockedOutcome(): PaymentOutcome {
  return {
    status: 'failed',
    declineCode: 'fraudulent',
    pspCode: 'blocked',
    message: blockedMessage,
  };
}

export function isBlocked(attempt: Attempt): boolean {
  return attempt.risk?.action === 'block';
}

/** A review holds the money without taking it: the attempt authorizes with manual capture. */
export function captureMethodFor(
  intent: PaymentIntent,
  risk: RiskRecord | undefined,
): PaymentIntent['captureMethod'] {
  return risk?.action === 'review' ? 'manual' : intent.captureMethod;
}

/**
 * The velocity events of a batch of charge events (charge.succeeded, charge.failed), from their
 * attempts' risk records, in one query. An attempt without a record (risk off), or one the issuer
 * only asked to authenticate, is not counted.
 */
export async function velocityEventsOf(
  tx: Queryable,
  wanted: readonly StoredEvent[],
): Promise<VelocityEvent[]> {
  const attemptIds = wanted
    .map((event) => attemptIdOf(event.objectId))
    .filter((id) => id !== undefined);
  if (attemptIds.length === 0) return [];
  // The issuer's request to authenticate is no decline of the card holder: 3-D Secure follows,
  // and counting it would make every payment that needs authentication look like card testing.
  const found = await tx.query<{ id: string; risk: RiskRecord | null }>(
    `SELECT id, risk FROM payment_attempts WHERE id = ANY($1::text[]) AND risk IS NOT NULL
        AND decline_code IS DISTINCT FROM 'authentication_required'`,
    [attemptIds],
  );
  const risks = new Map(found.rows.map((row) => [row.id, row.risk]));
  return wanted.flatMap((event) => {
    const attemptId = attemptIdOf(event.objectId);
    const risk = attemptId === undefined ? undefined : risks.get(attemptId);
    if (attemptId === undefined || risk === undefined || risk === null) return [];
    const result = event.type === 'charge.succeeded' ? 'authorized' : 'declined';
    return [
      {
        attemptId,
        at: event.createdAt,
        result,
        amountInUsd: result === 'authorized' ? (risk.amountInUsd ?? undefined) : undefined,
        entities: risk.entities,
        cardFingerprint: risk.cardFingerprint ?? undefined,
      },
    ];
  });
}
