import { Type, type Static } from 'typebox';
import type { SetupIntent } from '../customers/types.ts';
import { Enum, Nullable, StringMap, Timestamp, testMode, unixSeconds } from './json.ts';

export const SetupIntentSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('setup_intent'),
  application: Type.Null(),
  automatic_payment_methods: Type.Null(),
  cancellation_reason: Nullable(Type.String()),
  client_secret: Type.String(),
  created: Timestamp,
  customer: Nullable(Type.String()),
  description: Nullable(Type.String()),
  flow_directions: Type.Null(),
  last_setup_error: Nullable(
    Type.Object({
      type: Type.String(),
      code: Type.String(),
      decline_code: Nullable(Type.String()),
      message: Type.String(),
    }),
  ),
  latest_attempt: Type.Null(),
  livemode: Type.Boolean(),
  mandate: Type.Null(),
  metadata: StringMap,
  next_action: Type.Null(),
  on_behalf_of: Type.Null(),
  payment_method: Nullable(Type.String()),
  payment_method_types: Type.Array(Type.Literal('card')),
  single_use_mandate: Type.Null(),
  status: Enum([
    'requires_payment_method',
    'requires_confirmation',
    'requires_action',
    'processing',
    'canceled',
    'succeeded',
  ] as const),
  usage: Enum(['on_session', 'off_session'] as const),
  connector: Nullable(
    Type.String({ description: 'Payrail: the connector that verified the card.' }),
  ),
});

export function presentSetupIntent(
  setup: SetupIntent,
  livemode = testMode,
): Static<typeof SetupIntentSchema> {
  const error = setup.lastSetupError;
  return {
    id: setup.id,
    object: 'setup_intent',
    application: null,
    automatic_payment_methods: null,
    cancellation_reason: setup.cancellationReason,
    client_secret: setup.clientSecret,
    created: unixSeconds(setup.createdAt),
    customer: setup.customerId,
    description: setup.description,
    flow_directions: null,
    last_setup_error:
      error === null
        ? null
        : {
            type: error.type,
            code: error.code,
            decline_code: error.decline_code ?? null,
            message: error.message,
          },
    latest_attempt: null,
    livemode,
    mandate: null,
    metadata: setup.metadata,
    next_action: null,
    on_behalf_of: null,
    payment_method: setup.paymentMethodId,
    payment_method_types: ['card'],
    single_use_mandate: null,
    status: setup.status,
    usage: setup.usage,
    connector: setup.connector,
  };
}
