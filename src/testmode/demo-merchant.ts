// The development demo merchant of `npm start`: a test merchant (so the simulated PSPs), made on
// the first start and given a fresh key on every start, so the banner can show a working key.
import type { Merchants } from '../merchants/merchants.ts';

export const demoMerchantTemplate = {
  name: 'Demo shop',
  metadata: { demo: 'true' },
  livemode: false,
} as const;

export async function demoMerchant(
  merchants: Merchants,
): Promise<{ id: string; secretKey: string }> {
  const existing = await merchants.findByMetadata('demo', demoMerchantTemplate.metadata.demo);
  if (existing !== undefined && !existing.livemode)
    return {
      id: existing.id,
      secretKey: await merchants.issueKey(existing.id, { revokeOthers: true }),
    };
  const created = await merchants.create({
    ...demoMerchantTemplate,
    metadata: { ...demoMerchantTemplate.metadata },
  });
  return { id: created.merchant.id, secretKey: created.secretKey };
}
