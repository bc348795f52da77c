// The merchant's publishable key (pk_test_… / pk_live_…), for the browser. A merchant gets one
// when it is created; this route, with the secret key, rolls it (a new key, the earlier one stops
// working), as a Stripe account has one publishable key that can be rolled.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  PublishableKeySchema,
  errorResponses,
  presentPublishableKey,
} from '../../api-objects/index.ts';
import type { RouteContext } from '../context.ts';
import { Empty } from '../schemas.ts';

export function registerPublishableKeyRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  typed.post(
    '/v1/publishable_keys',
    {
      schema: {
        tags: ['keys'],
        summary:
          "Roll the merchant's publishable key: a new one of its mode, shown only this once; " +
          'the earlier one stops working',
        body: Empty,
        response: { 200: PublishableKeySchema, ...errorResponses },
      },
    },
    async (request) =>
      presentPublishableKey(await context.merchants.rollPublishableKey(request.merchantId)),
  );
}
