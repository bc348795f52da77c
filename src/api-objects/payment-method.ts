import { Type, type Static } from 'typebox';
import type { Address, PaymentMethod } from '../vault/index.ts';
import { Nullable, StringMap, Timestamp, testMode, unixSeconds } from './json.ts';

/** Stripe's address: every field present, null when not given. */
export const AddressSchema = Type.Object({
  city: Nullable(Type.String()),
  country: Nullable(Type.String()),
  line1: Nullable(Type.String()),
  line2: Nullable(Type.String()),
  postal_code: Nullable(Type.String()),
  state: Nullable(Type.String()),
});

export function presentAddress(address: Address | undefined): Static<typeof AddressSchema> {
  return {
    city: address?.city ?? null,
    country: address?.country ?? null,
    line1: address?.line1 ?? null,
    line2: address?.line2 ?? null,
    postal_code: address?.postal_code ?? null,
    state: address?.state ?? null,
  };
}

export const PaymentMethodSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('payment_method'),
  type: Type.Literal('card'),
  card: Type.Object({
    brand: Type.String(),
    last4: Type.String(),
    exp_month: Type.Integer(),
    exp_year: Type.Integer(),
    fingerprint: Nullable(
      Type.String({ description: 'Null once the card was detached or its customer erased.' }),
    ),
    country: Nullable(
      Type.String({
        pattern: '^[A-Z]{2}$',
        description: 'Issuing country (ISO 3166-1 alpha-2) from the BIN; null when unknown',
      }),
    ),
  }),
  billing_details: Type.Object({
    address: AddressSchema,
    email: Nullable(Type.String()),
    name: Nullable(Type.String()),
    phone: Nullable(Type.String()),
  }),
  customer: Nullable(Type.String({ description: 'The customer the card is saved to.' })),
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
    billing_details: {
      address: presentAddress(method.billingDetails.address),
      email: method.billingDetails.email ?? null,
      name: method.holderName,
      phone: method.billingDetails.phone ?? null,
    },
    customer: method.customerId,
    created: unixSeconds(method.createdAt),
    livemode,
    metadata: method.metadata,
  };
}
