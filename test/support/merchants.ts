// Merchants made the way an operator makes them: through the admin API of a running server.
import { call, testAdminKey } from './server.ts';

export type Merchant = { readonly id: string; readonly key: string };

export async function createMerchantKey(
  server: { readonly url: string },
  name = 'Shop',
): Promise<Merchant> {
  const created = await call(server, 'POST', '/v1/admin/merchants', {
    key: testAdminKey,
    body: { name },
  });
  if (created.status !== 201)
    throw new Error(`creating merchant ${name}: ${created.status} ${JSON.stringify(created.body)}`);
  return { id: String(created.body.id), key: String(created.body.secret_key) };
}
