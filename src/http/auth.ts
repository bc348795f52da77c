// Bearer authentication. Merchant routes get `request.merchantId`; operator routes need the
// admin key. A failed check is always a 401 that does not say whether the key exists.
import type { FastifyRequest } from 'fastify';
import type { AdminKeys, Merchants } from '../merchants/merchants.ts';
import { ApiError } from './errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    merchantId: string;
    /** The mode of the key (and so of the merchant): what `livemode` says on every answer. */
    livemode: boolean;
  }
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S{1,300})$/i.exec(header);
  if (match !== null) return match[1];
  // Stripe's SDKs may send the key as the user of HTTP Basic auth.
  const basic = /^Basic\s+([A-Za-z0-9+/=]{1,400})$/i.exec(header);
  if (basic?.[1] !== undefined)
    return Buffer.from(basic[1], 'base64').toString('utf8').split(':')[0];
  return undefined;
}

export function merchantAuth(merchants: Merchants) {
  return async (request: FastifyRequest): Promise<void> => {
    const token = bearerToken(request);
    if (token === undefined)
      throw new ApiError(
        'api_key_missing',
        'No API key provided. Send it as "Authorization: Bearer sk_test_…".',
      );
    const found = token.startsWith('sk_') ? await merchants.authenticate(token) : undefined;
    if (found === undefined) throw new ApiError('api_key_invalid', 'Invalid API key provided.');
    request.merchantId = found.merchantId;
    request.livemode = found.livemode;
  };
}

export function adminAuth(adminKeys: AdminKeys) {
  return async (request: FastifyRequest): Promise<void> => {
    const token = bearerToken(request);
    if (token === undefined)
      throw new ApiError(
        'api_key_missing',
        'No admin key provided. Send it as "Authorization: Bearer ak_…".',
      );
    if (!(await adminKeys.authenticate(token)))
      throw new ApiError('admin_key_invalid', 'Invalid admin key provided.');
  };
}
