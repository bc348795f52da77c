// Operator routes (admin key) for a merchant's API rate limits (src/http/rate-limit.ts).
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { errorResponses } from '../../api-objects/index.ts';
import {
  MerchantRateLimitsSchema,
  presentMerchantRateLimits,
} from '../../api-objects/rate-limits.ts';
import { rateLimitValueMax } from '../../merchants/rate-limits.ts';
import type { RouteContext } from '../context.ts';
import { ApiError } from '../errors.ts';

const Limit = (description: string) =>
  Type.Optional(
    Type.Union([Type.Integer({ minimum: 1, maximum: rateLimitValueMax }), Type.Null()], {
      description: `${description} Null goes back to the default.`,
    }),
  );

const RateLimitsBody = Type.Object(
  {
    live_per_second: Limit('Requests per second with a live key.'),
    test_per_second: Limit('Requests per second with a test key.'),
    endpoint_per_second: Limit('Requests per second to any one endpoint (route).'),
    concurrent: Limit('Requests in flight at once.'),
  },
  { additionalProperties: false },
);

export function registerRateLimitRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const MerchantParams = Type.Object({ id: Type.String({ maxLength: 100 }) });
  const requireMerchant = async (id: string) => {
    const merchant = await context.merchants.get(id);
    if (merchant === undefined)
      throw new ApiError('resource_missing', `No such merchant: '${id}'`, 'id');
  };
  const defaults = context.config.rateLimits;

  typed.get(
    '/v1/admin/merchants/:id/rate_limits',
    {
      schema: {
        tags: ['operator'],
        summary: "A merchant's API rate limits: the operator's overrides and the defaults",
        params: MerchantParams,
        response: { 200: MerchantRateLimitsSchema, ...errorResponses },
      },
    },
    async (request) => {
      await requireMerchant(request.params.id);
      const stored = await context.rateLimitOverrides.get(request.params.id);
      return presentMerchantRateLimits(request.params.id, stored, defaults);
    },
  );

  typed.post(
    '/v1/admin/merchants/:id/rate_limits',
    {
      schema: {
        tags: ['operator'],
        summary:
          "Set a merchant's API rate limits; fields not given stay as they are, null restores " +
          'the default. Other processes apply it within a few seconds.',
        params: MerchantParams,
        body: RateLimitsBody,
        response: { 200: MerchantRateLimitsSchema, ...errorResponses },
      },
    },
    async (request) => {
      await requireMerchant(request.params.id);
      const body = request.body;
      const stored = await context.rateLimitOverrides.set(request.params.id, {
        livePerSecond: body.live_per_second,
        testPerSecond: body.test_per_second,
        endpointPerSecond: body.endpoint_per_second,
        concurrent: body.concurrent,
      });
      request.log.info({ merchantId: request.params.id }, 'rate limits set');
      return presentMerchantRateLimits(request.params.id, stored, defaults);
    },
  );
}
