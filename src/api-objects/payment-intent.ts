import { Type, type Static } from 'typebox';
import { latestChargeId } from '../ids.ts';
import type { Attempt, IntentWithAttempts, PaymentIntent } from '../payments/types.ts';
import {
  Enum,
  Int64,
  Nullable,
  searchResultOf,
  StringMap,
  Timestamp,
  testMode,
  unixSeconds,
  unixSecondsOrNull,
} from './json.ts';
import { ChargeSchema, reviewOfAttempt } from './charge.ts';
import { CustomerOrDeletedSchema } from './customer.ts';
import { PaymentMethodSchema } from './payment-method.ts';

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

const LastPaymentError = Nullable(
  Type.Object({
    type: Type.String(),
    code: Type.String(),
    decline_code: Nullable(Type.String()),
    message: Type.String(),
  }),
);
const IntentStatus = Enum([
  'requires_payment_method',
  'requires_confirmation',
  'requires_action',
  'processing',
  'requires_capture',
  'succeeded',
  'canceled',
] as const);
const NextAction = Nullable(
  Type.Object(
    {
      type: Type.Literal('redirect_to_url'),
      redirect_to_url: Type.Object({
        url: Type.String({ description: "The issuer's 3-D Secure challenge page." }),
        return_url: Nullable(Type.String()),
      }),
    },
    { description: 'What the card holder must do while the intent requires_action.' },
  ),
);
const PaymentMethodOptions = Type.Object({
  card: Type.Object({
    installments: Type.Null(),
    mandate_options: Type.Null(),
    network: Type.Null(),
    request_three_d_secure: Enum(['automatic', 'any', 'challenge'] as const),
  }),
});
const AutomaticPaymentMethods = Nullable(
  Type.Object({
    enabled: Type.Boolean(),
    allow_redirects: Type.Optional(Enum(['always', 'never'] as const)),
  }),
);

/**
 * What a publishable key sees of an intent (with its client secret): Stripe's fields marked
 * "retrievable with publishable key" that Payrail has; never metadata, amounts received or
 * refunded, attempts or connectors.
 */
export const PaymentIntentPublishableSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('payment_intent'),
  amount: Int64,
  automatic_payment_methods: AutomaticPaymentMethods,
  canceled_at: Nullable(Timestamp),
  cancellation_reason: Nullable(Type.String()),
  capture_method: Type.String(),
  client_secret: Type.String({
    description: 'Lets a browser with the publishable key retrieve and confirm this intent.',
  }),
  confirmation_method: Type.Literal('automatic'),
  created: Timestamp,
  currency: Type.String(),
  description: Nullable(Type.String()),
  last_payment_error: LastPaymentError,
  livemode: Type.Boolean(),
  next_action: NextAction,
  payment_method: Nullable(Type.String()),
  payment_method_types: Type.Array(Type.String()),
  receipt_email: Nullable(Type.String()),
  status: IntentStatus,
});

export const PaymentIntentSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('payment_intent'),
  amount: Int64,
  amount_capturable: Int64,
  amount_received: Int64,
  amount_refunded: Int64,
  automatic_payment_methods: AutomaticPaymentMethods,
  capture_method: Type.String(),
  client_secret: Type.String({
    description: 'Lets a browser with the publishable key retrieve and confirm this intent.',
  }),
  confirmation_method: Type.Literal('automatic'),
  created: Timestamp,
  currency: Type.String(),
  customer: Nullable(
    Type.Union([Type.String(), CustomerOrDeletedSchema], {
      description: 'The id; the Customer itself with expand[]=customer.',
    }),
  ),
  description: Nullable(Type.String()),
  latest_charge: Nullable(
    Type.Union([Type.String(), ChargeSchema], {
      description:
        'The charge of the latest attempt: its id; the Charge itself with expand[]=latest_charge.',
    }),
  ),
  last_payment_error: LastPaymentError,
  livemode: Type.Boolean(),
  metadata: StringMap,
  next_action: NextAction,
  payment_method_options: PaymentMethodOptions,
  payment_method: Nullable(
    Type.Union([Type.String(), PaymentMethodSchema], {
      description: 'The id; the PaymentMethod itself with expand[]=payment_method.',
    }),
  ),
  payment_method_types: Type.Array(Type.String()),
  receipt_email: Nullable(Type.String()),
  review: Nullable(Type.String({ description: 'The review holding the latest charge, if any.' })),
  statement_descriptor: Type.Null({
    description: 'Always null: Stripe refuses it for card charges (use the suffix).',
  }),
  statement_descriptor_suffix: Nullable(Type.String()),
  setup_future_usage: Nullable(Enum(['on_session', 'off_session'] as const)),
  status: IntentStatus,
  canceled_at: Nullable(Timestamp),
  cancellation_reason: Nullable(Type.String()),
  connector: Nullable(Type.String()),
  attempts: Type.Array(PaymentAttemptSchema, {
    description: 'Every try at a connector (a retry or a failover is a new attempt).',
  }),
});

/** An intent as the asking key may see it: the secret key's view, or the publishable key's. */
export const PaymentIntentEitherViewSchema = Type.Union([
  PaymentIntentSchema,
  PaymentIntentPublishableSchema,
]);

/** GET /v1/payment_intents/search (Stripe's search_result of payment intents). */
export const PaymentIntentSearchResultSchema = searchResultOf(PaymentIntentSchema);

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

function presentLastPaymentError(intent: PaymentIntent): Static<typeof LastPaymentError> {
  const error = intent.lastPaymentError;
  return error === null
    ? null
    : {
        // A failed authentication is not the card's error (Stripe's type for it).
        type:
          error.code === 'payment_intent_authentication_failure'
            ? 'invalid_request_error'
            : 'card_error',
        code: error.code,
        decline_code: error.decline_code ?? null,
        message: error.message,
      };
}

/** The intent as a publishable key (with the client secret) sees it: Stripe's reduced view. */
export function presentIntentForPublishableKey(
  { intent }: IntentWithAttempts,
  livemode = testMode,
): Static<typeof PaymentIntentPublishableSchema> {
  return {
    id: intent.id,
    object: 'payment_intent',
    amount: intent.amount,
    automatic_payment_methods: intent.automaticPaymentMethods,
    canceled_at: unixSecondsOrNull(intent.canceledAt),
    cancellation_reason: intent.cancellationReason,
    capture_method: intent.captureMethod,
    client_secret: intent.clientSecret,
    confirmation_method: 'automatic',
    created: unixSeconds(intent.createdAt),
    currency: intent.currency,
    description: intent.description,
    last_payment_error: presentLastPaymentError(intent),
    livemode,
    next_action: intent.nextAction,
    payment_method: intent.paymentMethodId,
    payment_method_types: [...intent.paymentMethodTypes],
    receipt_email: intent.receiptEmail,
    status: intent.status,
  };
}

export function presentIntent(
  { intent, attempts }: IntentWithAttempts,
  livemode = testMode,
): Static<typeof PaymentIntentSchema> {
  const latest = attempts.at(-1);
  return {
    id: intent.id,
    object: 'payment_intent',
    amount: intent.amount,
    amount_capturable: intent.amountCapturable,
    amount_received: intent.amountReceived,
    amount_refunded: intent.amountRefunded,
    automatic_payment_methods: intent.automaticPaymentMethods,
    capture_method: intent.captureMethod,
    client_secret: intent.clientSecret,
    confirmation_method: 'automatic',
    created: unixSeconds(intent.createdAt),
    currency: intent.currency,
    customer: intent.customerId,
    description: intent.description,
    latest_charge: latestChargeId(attempts),
    last_payment_error: presentLastPaymentError(intent),
    livemode,
    metadata: intent.metadata,
    next_action: intent.nextAction,
    payment_method_options: {
      card: {
        installments: null,
        mandate_options: null,
        network: null,
        request_three_d_secure: intent.requestThreeDSecure,
      },
    },
    payment_method: intent.paymentMethodId,
    payment_method_types: [...intent.paymentMethodTypes],
    receipt_email: intent.receiptEmail,
    review: latest === undefined ? null : reviewOfAttempt(latest),
    statement_descriptor: null,
    statement_descriptor_suffix: intent.statementDescriptorSuffix,
    setup_future_usage: intent.setupFutureUsage,
    status: intent.status,
    canceled_at: unixSecondsOrNull(intent.canceledAt),
    cancellation_reason: intent.cancellationReason,
    connector: intent.connector,
    attempts: attempts.map(presentAttempt),
  };
}
