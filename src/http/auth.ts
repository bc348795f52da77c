// Bearer authentication. Merchant routes get `request.merchantId`; operator routes need the
// admin key. A failed check is always a 401 that does not say whether the key exists.
// A publishable key (`pk_`) authenticates too, but only a route that declares
// `config: { publishableKey: true }` takes it (a payment intent's retrieve and confirm, with the
// intent's client secret); every other route answers it 403, as Stripe does.
import type { FastifyRequest } from 'fastify';
import type { AdminKeys, Merchants } from '../merchants/merchants.ts';
import type { KeyKind } from '../merchants/mode.ts';
import { ApiError } from './errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    merchantId: string;
    /** The mode of the key (and so of the merchant): what `livemode` says on every answer. */
    livemode: boolean;
    /** Secret or publishable: what an answer may show (a publishable key sees less). */
    keyKind: KeyKind;
  }
  interface FastifyContextConfig {
    /** The route also takes a publishable key (and then checks the client secret itself). */
    publishableKey?: boolean;
  }
}

/**
 * Stripe Connect's `Stripe-Account` header (acting for a connected account) is refused, never
 * ignored: Payrail has no connected accounts, and answering for the key's own account instead
 * would be a silent difference.
 */
function refuseStripeAccount(request: FastifyRequest): void {
  if (request.headers['stripe-account'] === undefined) return;
  throw new ApiError(
    'stripe_account_unsupported',
    'The Stripe-Account header (Stripe Connect) is not supported: Payrail has no connected ' +
      "accounts, and a request acts on its API key's own account. Send the request without it.",
  );
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
    const found = await merchants.authenticate(token);
    if (found === undefined) throw new ApiError('api_key_invalid', 'Invalid API key provided.');
    refuseStripeAccount(request);
    if (found.kind === 'publishable' && request.routeOptions.config.publishableKey !== true)
      throw new ApiError(
        'secret_key_required',
        'This API call cannot be made with a publishable API key. Please use a secret API key.',
      );
    request.merchantId = found.merchantId;
    request.livemode = found.livemode;
    request.keyKind = found.kind;
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
    refuseStripeAccount(request);
    request.keyKind = 'secret';
  };
}
