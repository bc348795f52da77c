// Operator routes (admin key): merchants; their settings (merchant-settings.ts) and the
// operator's views of the ledger (ledger-operator.ts) are registered with them.
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  CreatedMerchantSchema,
  MerchantSchema,
  errorResponses,
  listOf,
  presentCreatedMerchant,
  presentMerchant,
} from '../../api-objects/index.ts';
import type { RouteContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { answerList, ListQuery } from '../list.ts';
import { Metadata } from '../schemas.ts';
import { registerLedgerOperatorRoutes } from './ledger-operator.ts';
import { registerMerchantSettingRoutes } from './merchant-settings.ts';

const MerchantBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 320 })),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);

export function registerAdminRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.post(
    '/v1/admin/merchants',
    {
      schema: {
        tags: ['operator'],
        summary: 'Create a merchant; the response carries its secret key, shown only this once',
        body: MerchantBody,
        response: { 201: CreatedMerchantSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      // Test mode: every new merchant gets the simulated PSPs and the default price.
      const { merchant, secretKey } = await context.merchants.create(
        request.body,
        (tx, merchantId) =>
          context.payments.settings.setUpTestMerchant(tx, merchantId, context.config.simulatorUrl),
      );
      request.log.info({ merchantId: merchant.id }, 'merchant created');
      reply.code(201);
      return presentCreatedMerchant(merchant, secretKey);
    },
  );

  typed.get(
    '/v1/admin/merchants',
    {
      schema: {
        tags: ['operator'],
        summary: 'List merchants',
        querystring: ListQuery,
        response: { 200: listOf(MerchantSchema), ...errorResponses },
      },
    },
    async (request) =>
      answerList(
        request.query,
        '/v1/admin/merchants',
        async (page) => {
          const found = await context.merchants.list(page);
          return { items: found.merchants, hasMore: found.hasMore };
        },
        presentMerchant,
      ),
  );

  typed.get(
    '/v1/admin/merchants/:id',
    {
      schema: {
        tags: ['operator'],
        summary: 'Retrieve a merchant',
        params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
        response: { 200: MerchantSchema, ...errorResponses },
      },
    },
    async (request) => {
      const merchant = await context.merchants.get(request.params.id);
      if (merchant === undefined)
        throw new ApiError('resource_missing', `No such merchant: '${request.params.id}'`, 'id');
      return presentMerchant(merchant);
    },
  );

  registerMerchantSettingRoutes(app, context);
  registerLedgerOperatorRoutes(app, context);
}
