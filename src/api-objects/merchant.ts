import { Type, type Static } from 'typebox';
import type { Merchant } from '../merchants/merchants.ts';
import { StringMap, Timestamp, Nullable, unixSeconds } from './json.ts';

export const MerchantSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('merchant'),
  name: Type.String(),
  email: Nullable(Type.String()),
  created: Timestamp,
  livemode: Type.Boolean(),
  metadata: StringMap,
});

/** The answer to creating a merchant: the only time its secret and publishable keys are shown. */
export const CreatedMerchantSchema = Type.Object({
  ...MerchantSchema.properties,
  secret_key: Type.String(),
  publishable_key: Type.String({
    description:
      'pk_test_… or pk_live_…: for the browser (Stripe.js); rolled with POST /v1/publishable_keys.',
  }),
});

export function presentMerchant(merchant: Merchant): Static<typeof MerchantSchema> {
  return {
    id: merchant.id,
    object: 'merchant',
    name: merchant.name,
    email: merchant.email,
    created: unixSeconds(merchant.createdAt),
    livemode: merchant.livemode,
    metadata: merchant.metadata,
  };
}

export function presentCreatedMerchant(
  merchant: Merchant,
  keys: { secretKey: string; publishableKey: string },
): Static<typeof CreatedMerchantSchema> {
  return {
    ...presentMerchant(merchant),
    secret_key: keys.secretKey,
    publishable_key: keys.publishableKey,
  };
}

/**
 * A merchant's new publishable key (the earlier one stops working): shown only this once, like
 * every key, since only its hash is kept.
 */
export const PublishableKeySchema = Type.Object({
  object: Type.Literal('publishable_key'),
  livemode: Type.Boolean(),
  publishable_key: Type.String(),
});

export function presentPublishableKey(rolled: {
  key: string;
  livemode: boolean;
}): Static<typeof PublishableKeySchema> {
  return { object: 'publishable_key', livemode: rolled.livemode, publishable_key: rolled.key };
}

/** A secret key the operator issued: shown only this once, of the merchant's mode. */
export const ApiKeySchema = Type.Object({
  object: Type.Literal('api_key'),
  merchant: Type.String(),
  livemode: Type.Boolean(),
  secret_key: Type.String(),
});

export function presentApiKey(merchant: Merchant, secretKey: string): Static<typeof ApiKeySchema> {
  return {
    object: 'api_key',
    merchant: merchant.id,
    livemode: merchant.livemode,
    secret_key: secretKey,
  };
}
