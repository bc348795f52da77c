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

/** The answer to creating a merchant: the only time its secret key is shown. */
export const CreatedMerchantSchema = Type.Object({
  ...MerchantSchema.properties,
  secret_key: Type.String(),
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
  secretKey: string,
): Static<typeof CreatedMerchantSchema> {
  return { ...presentMerchant(merchant), secret_key: secretKey };
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
