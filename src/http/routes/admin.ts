// Operator routes (admin key): merchants; their settings (merchant-settings.ts) and the
// operator's views of the ledger (ledger-operator.ts) are registered with them.
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  ApiKeySchema,
  CreatedMerchantSchema,
  MerchantSchema,
  errorResponses,
  listOf,
  presentApiKey,
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
    livemode: Type.Optional(
      Type.Boolean({
        description:
          'A live merchant has sk_live_ keys and only the connectors set through its connector ' +
          'settings; a test merchant (the default) has sk_test_ keys and starts with the ' +
          'simulated PSPs. Fixed for life.',
      }),
    ),
  },
  { additionalProperties: false },
);

const IssueKeyBody = Type.Object(
  {
    revoke_others: Type.Optional(
      Type.Boolean({ description: "The merchant's other keys stop working (default false)." }),
    ),
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
        summary:
          'Create a merchant; the response carries its secret and publishable keys, ' +
          'shown only this once',
        body: MerchantBody,
        response: { 201: CreatedMerchantSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      // Default prices for every merchant; the simulated PSPs for a test merchant (runtime.ts).
      const { merchant, secretKey, publishableKey } = await context.merchants.create(request.body);
      request.log.info(
        { merchantId: merchant.id, livemode: merchant.livemode },
        'merchant created',
      );
      reply.code(201);
      return presentCreatedMerchant(merchant, { secretKey, publishableKey });
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

  typed.post(
    '/v1/admin/merchants/:id/keys',
    {
      // A POST with no body at all asks for the defaults.
      preValidation: async (request) => {
        if (request.body === undefined) request.body = {};
      },
      schema: {
        tags: ['operator'],
        summary:
          'Issue a merchant a new secret key of its mode (sk_live_ or sk_test_), shown only once',
        params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
        body: IssueKeyBody,
        response: { 201: ApiKeySchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const merchant = await context.merchants.get(request.params.id);
      if (merchant === undefined)
        throw new ApiError('resource_missing', `No such merchant: '${request.params.id}'`, 'id');
      const secretKey = await context.merchants.issueKey(merchant.id, {
        revokeOthers: request.body.revoke_others ?? false,
      });
      request.log.info({ merchantId: merchant.id }, 'merchant key issued');
      reply.code(201);
      return presentApiKey(merchant, secretKey);
    },
  );

  registerMerchantSettingRoutes(app, context);
  registerLedgerOperatorRoutes(app, context);
}
