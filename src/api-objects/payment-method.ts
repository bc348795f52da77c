import { Type, type Static } from 'typebox';
import type { PaymentMethod } from '../vault/index.ts';
import { Nullable, StringMap, Timestamp, testMode, unixSeconds } from './json.ts';

export const PaymentMethodSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('payment_method'),
  type: Type.Literal('card'),
  card: Type.Object({
    brand: Type.String(),
    last4: Type.String(),
    exp_month: Type.Integer(),
    exp_year: Type.Integer(),
    fingerprint: Type.String(),
    country: Nullable(
      Type.String({
        pattern: '^[A-Z]{2}$',
        description: 'Issuing country (ISO 3166-1 alpha-2) from the BIN; null when unknown',
      }),
    ),
  }),
  billing_details: Type.Object({ name: Nullable(Type.String()) }),
  created: Timestamp,
  livemode: Type.Boolean(),
  metadata: StringMap,
});

export function presentPaymentMethod(
  method: PaymentMethod,
  livemode = testMode,
): Static<typeof PaymentMethodSchema> {
  return {
    id: method.id,
    object: 'payment_method',
    type: 'card',
    card: {
      brand: method.brand,
      last4: method.last4,
      exp_month: method.expMonth,
      exp_year: method.expYear,
      fingerprint: method.fingerprint,
      country: method.country,
    },
    billing_details: { name: method.holderName },
    created: unixSeconds(method.createdAt),
    livemode,
    metadata: method.metadata,
  };
}
