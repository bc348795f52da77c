import { Type, type Static } from 'typebox';
import type { Attempt, IntentWithAttempts } from '../payments/types.ts';
import {
  Enum,
  Int64,
  Nullable,
  StringMap,
  Timestamp,
  testMode,
  unixSeconds,
  unixSecondsOrNull,
} from './json.ts';

export const PaymentAttemptSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('payment_attempt'),
  connector: Type.String(),
  status: Enum([
    'pending',
    'authorized',
    'captured',
    'voided',
    'failed',
    'unknown',
    'refunded',
  ] as const),
  amount: Int64,
  currency: Type.String(),
  psp_reference: Nullable(Type.String()),
  decline_code: Nullable(Type.String()),
  psp_code: Nullable(Type.String()),
  failure_message: Nullable(Type.String()),
  abandoned: Type.Boolean({
    description:
      'Payrail moved on to another connector while this outcome was unknown; ' +
      'voided or refunded if it turns out charged.',
  }),
  created: Timestamp,
});

export const PaymentIntentSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('payment_intent'),
  amount: Int64,
  amount_capturable: Int64,
  amount_received: Int64,
  amount_refunded: Int64,
  capture_method: Type.String(),
  confirmation_method: Type.Literal('automatic'),
  created: Timestamp,
  currency: Type.String(),
  customer: Nullable(Type.String()),
  description: Nullable(Type.String()),
  last_payment_error: Nullable(
    Type.Object({
      type: Type.String(),
      code: Type.String(),
      decline_code: Nullable(Type.String()),
      message: Type.String(),
    }),
  ),
  livemode: Type.Boolean(),
  metadata: StringMap,
  payment_method: Nullable(Type.String()),
  setup_future_usage: Nullable(Enum(['on_session', 'off_session'] as const)),
  status: Enum([
    'requires_payment_method',
    'requires_confirmation',
    'requires_action',
    'processing',
    'requires_capture',
    'succeeded',
    'canceled',
  ] as const),
  canceled_at: Nullable(Timestamp),
  cancellation_reason: Nullable(Type.String()),
  connector: Nullable(Type.String()),
  attempts: Type.Array(PaymentAttemptSchema, {
    description: 'Every try at a connector (a retry or a failover is a new attempt).',
  }),
});

export function presentAttempt(attempt: Attempt): Static<typeof PaymentAttemptSchema> {
  return {
    id: attempt.id,
    object: 'payment_attempt',
    connector: attempt.connector,
    status: attempt.status,
    amount: attempt.amount,
    currency: attempt.currency,
    psp_reference: attempt.pspReference,
    decline_code: attempt.declineCode,
    psp_code: attempt.pspCode,
    failure_message: attempt.failureMessage,
    abandoned: attempt.abandoned,
    created: unixSeconds(attempt.createdAt),
  };
}

export function presentIntent(
  { intent, attempts }: IntentWithAttempts,
  livemode = testMode,
): Static<typeof PaymentIntentSchema> {
  const error = intent.lastPaymentError;
  return {
    id: intent.id,
    object: 'payment_intent',
    amount: intent.amount,
    amount_capturable: intent.amountCapturable,
    amount_received: intent.amountReceived,
    amount_refunded: intent.amountRefunded,
    capture_method: intent.captureMethod,
    confirmation_method: 'automatic',
    created: unixSeconds(intent.createdAt),
    currency: intent.currency,
    customer: intent.customerId,
    description: intent.description,
    last_payment_error:
      error === null
        ? null
        : {
            type: 'card_error',
            code: error.code,
            decline_code: error.decline_code ?? null,
            message: error.message,
          },
    livemode,
    metadata: intent.metadata,
    payment_method: intent.paymentMethodId,
    setup_future_usage: intent.setupFutureUsage,
    status: intent.status,
    canceled_at: unixSecondsOrNull(intent.canceledAt),
    cancellation_reason: intent.cancellationReason,
    connector: intent.connector,
    attempts: attempts.map(presentAttempt),
  };
}
