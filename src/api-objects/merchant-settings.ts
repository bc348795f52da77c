// A merchant's connector settings and prices, as the operator API shows them.
import { Type, type Static } from 'typebox';
import type { MerchantConnector, MerchantPrice } from '../payments/merchant-settings.ts';
import { Int64 } from './json.ts';

export const MerchantConnectorSchema = Type.Object({
  object: Type.Literal('merchant_connector'),
  connector: Type.String(),
  enabled: Type.Boolean(),
  priority: Type.Integer(),
  base_url: Type.String(),
  api_key_hint: Type.String({
    description: 'The last four characters of the API key; secrets are never shown.',
  }),
});

export const MerchantPriceSchema = Type.Object({
  object: Type.Literal('merchant_price'),
  merchant: Type.String(),
  currency: Type.String(),
  percent_bps: Type.Integer(),
  fixed_amount: Int64,
});

export function presentMerchantConnector(
  setting: MerchantConnector,
): Static<typeof MerchantConnectorSchema> {
  return {
    object: 'merchant_connector',
    connector: setting.connector,
    enabled: setting.enabled,
    priority: setting.priority,
    base_url: setting.credentials.baseUrl,
    api_key_hint: `…${setting.credentials.apiKey.slice(-4)}`,
  };
}

export function presentMerchantPrice(
  merchantId: string,
  price: MerchantPrice,
): Static<typeof MerchantPriceSchema> {
  return {
    object: 'merchant_price',
    merchant: merchantId,
    currency: price.currency,
    percent_bps: Number(price.percentBps),
    fixed_amount: price.fixedAmount,
  };
}
