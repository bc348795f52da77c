// An update of a payment intent (Stripe's POST /v1/payment_intents/:id): what is charged (amount,
// currency, payment method, capture method) only before confirmation, what describes it
// (metadata, description) in every status. The state machine says which statuses allow which
// (actions update_payment, attach_payment_method, describe). One short transaction under the
// intent's row lock, so a concurrent confirm sees the intent before or after, never half of it.
import type { CaptureMode } from '../connectors/types.ts';
import { assertPositiveAmount, isCurrency, MoneyError } from '../money/index.ts';
import type { Queryable } from '../storage/database.ts';
import { mergeMetadata, metadataKeysMax, type MetadataChange } from '../metadata.ts';
import { PaymentError } from './errors.ts';
import { moveIntent } from './state-machine.ts';
import { paymentIntents } from './tables.ts';
import type { Metadata, PaymentIntent } from './types.ts';

/** Stripe's limit on a payment's metadata, checked after a merge too. */

export type UpdateIntentInput = {
  readonly amount?: unknown;
  readonly currency?: string;
  readonly paymentMethod?: string;
  readonly captureMethod?: CaptureMode;
  /**
   * Merged into the intent's metadata (Stripe's semantics): a key given the empty string is
   * removed; the empty string instead of an object removes every key.
   */
  readonly metadata?: Readonly<Record<string, string>> | '';
  /** The empty string clears the description. */
  readonly description?: string;
};

const updateFields = paymentIntents.update([
  'amount',
  'currency',
  'status',
  'paymentMethodId',
  'captureMethod',
  'metadata',
  'description',
]);

/** An intent's or a refund's metadata after Stripe's merge (src/metadata.ts). */
export function mergePaymentMetadata(current: Metadata, change: MetadataChange): Metadata {
  return mergeMetadata(
    current,
    change,
    (count) =>
      new PaymentError(
        'parameter_invalid',
        `Metadata can have at most ${metadataKeysMax} keys; this update would leave ${count}.`,
        { param: 'metadata' },
      ),
  );
}

/** The intent's status after this update; a refused one throws payment_intent_unexpected_state. */
function statusAfter(intent: PaymentIntent, input: UpdateIntentInput): PaymentIntent['status'] {
  let status = moveIntent(intent.id, intent.status, 'describe');
  const changesPayment =
    input.amount !== undefined || input.currency !== undefined || input.captureMethod !== undefined;
  if (changesPayment) status = moveIntent(intent.id, status, 'update_payment');
  if (input.paymentMethod !== undefined)
    status = moveIntent(intent.id, status, 'attach_payment_method');
  return status;
}

/** Checks what needs no database: the currency and the amount (against the new currency). */
export function checkUpdate(
  intent: Pick<PaymentIntent, 'currency'>,
  input: UpdateIntentInput,
): {
  amount?: bigint;
  currency?: string;
} {
  const currency = input.currency?.toLowerCase();
  if (currency !== undefined && !isCurrency(currency))
    throw new MoneyError(
      'unknown_currency',
      `Invalid currency: ${input.currency}. Use an ISO-4217 code such as "usd".`,
      'currency',
    );
  const amount =
    input.amount === undefined
      ? undefined
      : assertPositiveAmount(input.amount, 'amount', currency ?? intent.currency);
  return { amount, currency };
}

/** Applies the update to the locked intent and writes it; returns the intent as written. */
export async function applyUpdate(
  tx: Queryable,
  intent: PaymentIntent,
  input: UpdateIntentInput,
  now: Date,
): Promise<PaymentIntent> {
  const status = statusAfter(intent, input);
  const { amount, currency } = checkUpdate(intent, input);
  // An amount given for another currency is checked against that currency's limits, and an
  // amount kept is checked again against a new currency's.
  const newAmount =
    amount ??
    (currency === undefined
      ? intent.amount
      : assertPositiveAmount(intent.amount, 'amount', currency));
  return updateFields.run(
    tx,
    intent.id,
    {
      amount: newAmount,
      currency: currency ?? intent.currency,
      status,
      paymentMethodId: input.paymentMethod ?? intent.paymentMethodId,
      captureMethod: input.captureMethod ?? intent.captureMethod,
      metadata: mergePaymentMetadata(intent.metadata, input.metadata),
      description:
        input.description === undefined
          ? intent.description
          : input.description === ''
            ? null
            : input.description,
    },
    now,
  );
}
