import { Type, type Static } from 'typebox';
import type { Merchant } from '../merchants/merchants.ts';
import { StringMap, Timestamp, Nullable, testMode, unixSeconds } from './json.ts';

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

export function presentMerchant(
  merchant: Merchant,
  livemode = testMode,
): Static<typeof MerchantSchema> {
  return {
    id: merchant.id,
    object: 'merchant',
    name: merchant.name,
    email: merchant.email,
    created: unixSeconds(merchant.createdAt),
    livemode,
    metadata: merchant.metadata,
  };
}

export function presentCreatedMerchant(
  merchant: Merchant,
  secretKey: string,
  livemode = testMode,
): Static<typeof CreatedMerchantSchema> {
  return { ...presentMerchant(merchant, livemode), secret_key: secretKey };
}
