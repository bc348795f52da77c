// The development demo merchant of `npm start`: a test merchant (so the simulated PSPs), made on
// the first start and given a fresh key on every start, so the banner can show a working key.
import crypto from 'node:crypto';
import type { DashboardUsers } from '../dashboard/users.ts';
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

export const demoUserEmail = 'demo@payrail.local';

/**
 * The demo merchant's dashboard user (an admin), made on the first start and given a fresh random
 * password on every start, like the key: the banner shows both, nothing else keeps them.
 */
export async function demoDashboardUser(
  users: DashboardUsers,
  merchantId: string,
): Promise<{ email: string; password: string }> {
  const password = crypto.randomBytes(12).toString('base64url');
  if (!(await users.setPassword(demoUserEmail, password)))
    await users.create({ email: demoUserEmail, password, role: 'admin', merchantId });
  return { email: demoUserEmail, password };
}
