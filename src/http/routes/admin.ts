// Operator routes (admin key): merchants, every ledger account, and the ledger verify.
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { verifyLedger } from '../../ledger/index.ts';
import { connectorRegistry } from '../../connectors/registry.ts';
import { connectorsOf, setConnector, setUpTestMerchant } from '../../payments/merchant-settings.ts';
import type { AppContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { presentAccount, presentMerchant } from '../presenters.ts';
import { list } from '../serialize.ts';
import { ListQuery, MerchantSchema, Metadata, errorResponses, listOf } from '../schemas.ts';
import { AccountSchema } from './ledger.ts';

const MerchantBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 320 })),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);

export function registerAdminRoutes(app: FastifyInstance, context: AppContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.post('/v1/admin/merchants', {
    schema: { tags: ['operator'], summary: 'Create a merchant; the response carries its secret key, shown only this once', body: MerchantBody, response: { 201: Type.Object({ ...MerchantSchema.properties, secret_key: Type.String() }), ...errorResponses } },
  }, async (request, reply) => {
    // Test mode: every new merchant gets the simulated PSPs and the default price.
    const { merchant, secretKey } = await context.merchants.create(request.body, (tx, merchantId) => setUpTestMerchant(tx, merchantId, context.config.simulatorUrl));
    request.log.info({ merchantId: merchant.id }, 'merchant created');
    reply.code(201);
    return { ...presentMerchant(merchant), secret_key: secretKey };
  });

  typed.get('/v1/admin/merchants', {
    schema: { tags: ['operator'], summary: 'List merchants', querystring: ListQuery, response: { 200: listOf(MerchantSchema), ...errorResponses } },
  }, async (request) => {
    const page = await context.merchants.list({ limit: request.query.limit, startingAfter: request.query.starting_after });
    return list(page.merchants.map(presentMerchant), page.hasMore, '/v1/admin/merchants');
  });

  typed.get('/v1/admin/merchants/:id', {
    schema: { tags: ['operator'], summary: 'Retrieve a merchant', params: Type.Object({ id: Type.String({ maxLength: 100 }) }), response: { 200: MerchantSchema, ...errorResponses } },
  }, async (request) => {
    const merchant = await context.merchants.get(request.params.id);
    if (merchant === undefined) throw new ApiError('resource_missing', `No such merchant: '${request.params.id}'`, 'id');
    return presentMerchant(merchant);
  });

  const MerchantParams = Type.Object({ id: Type.String({ maxLength: 100 }) });
  const requireMerchant = async (id: string) => {
    if ((await context.merchants.get(id)) === undefined) throw new ApiError('resource_missing', `No such merchant: '${id}'`, 'id');
  };

  typed.get('/v1/admin/merchants/:id/connectors', {
    schema: { tags: ['operator'], summary: "A merchant's connectors in priority order (secrets are not shown)", params: MerchantParams, response: { 200: Type.Object({}, { additionalProperties: true }), ...errorResponses } },
  }, async (request) => {
    await requireMerchant(request.params.id);
    const settings = await connectorsOf(context.database, request.params.id);
    return list(settings.map((setting) => ({
      object: 'merchant_connector', connector: setting.connector, enabled: setting.enabled, priority: setting.priority,
      base_url: setting.credentials.baseUrl, api_key_hint: `…${setting.credentials.apiKey.slice(-4)}`,
    })), false, `/v1/admin/merchants/${request.params.id}/connectors`);
  });

  typed.put('/v1/admin/merchants/:id/connectors/:connector', {
    schema: {
      tags: ['operator'], summary: 'Enable or change a connector for a merchant: priority, base URL and credentials',
      params: Type.Object({ id: Type.String({ maxLength: 100 }), connector: Type.String({ maxLength: 40 }) }),
      body: Type.Object({
        enabled: Type.Boolean(),
        priority: Type.Integer({ minimum: 0, maximum: 10_000 }),
        base_url: Type.String({ format: 'uri', maxLength: 500, pattern: '^https?://' }),
        api_key: Type.String({ minLength: 1, maxLength: 500 }),
        api_secret: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
        merchant_account: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        webhook_secret: Type.Optional(Type.String({ minLength: 8, maxLength: 500, description: "The secret the PSP signs its webhooks with; without it the PSP's webhooks are refused." })),
      }, { additionalProperties: false }),
      response: { 200: Type.Object({}, { additionalProperties: true }), ...errorResponses },
    },
  }, async (request) => {
    await requireMerchant(request.params.id);
    if (!connectorRegistry.has(request.params.connector)) {
      throw new ApiError('parameter_invalid', `Unknown connector '${request.params.connector}'; known: ${[...connectorRegistry.keys()].join(', ')}.`, 'connector');
    }
    const body = request.body;
    await context.database.transaction((tx) => setConnector(tx, request.params.id, {
      connector: request.params.connector, enabled: body.enabled, priority: body.priority,
      credentials: { baseUrl: body.base_url, apiKey: body.api_key, apiSecret: body.api_secret, merchantAccount: body.merchant_account, webhookSecret: body.webhook_secret },
    }));
    context.payments.settings.invalidate(request.params.id);
    return { object: 'merchant_connector', connector: request.params.connector, enabled: body.enabled, priority: body.priority, base_url: body.base_url };
  });

  typed.get('/v1/admin/ledger/accounts', {
    schema: {
      tags: ['operator'], summary: 'List every ledger account (optionally of one owner)',
      querystring: Type.Object({ ...ListQuery.properties, owner: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }, { additionalProperties: false }),
      response: { 200: listOf(AccountSchema), ...errorResponses },
    },
  }, async (request) => {
    const page = await context.ledger.listAccounts({ owner: request.query.owner, limit: request.query.limit, startingAfter: request.query.starting_after });
    return list(page.accounts.map(presentAccount), page.hasMore, '/v1/admin/ledger/accounts');
  });

  typed.post('/v1/admin/ledger/verify', {
    schema: { tags: ['operator'], summary: 'Recompute the ledger and re-check every invariant (balances, limits, hash chains)',
      response: {
        200: Type.Object({
          object: Type.Literal('ledger_verification'), ok: Type.Boolean(), accounts: Type.Integer(), entries: Type.Integer(),
          transactions: Type.Integer(), problems: Type.Array(Type.String()), duration_ms: Type.Integer(),
        }),
        ...errorResponses,
      },
    },
  }, async (request) => {
    const started = performance.now();
    const report = await verifyLedger(context.database);
    const durationMs = Math.round(performance.now() - started);
    if (!report.ok) request.log.error({ problems: report.problems }, 'ledger verify failed');
    return { object: 'ledger_verification' as const, ok: report.ok, accounts: report.accounts, entries: report.entries, transactions: report.transactions, problems: [...report.problems], duration_ms: durationMs };
  });
}
