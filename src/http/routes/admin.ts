// Operator routes (admin key): merchants with their connectors and prices, every ledger account,
// and the ledger verify.
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { verifyLedger } from '../../ledger/index.ts';
import { connectorRegistry } from '../../connectors/registry.ts';
import { isCurrency, MAX_AMOUNT_MINOR } from '../../money/index.ts';
import type { MerchantPrice } from '../../payments/merchant-settings.ts';
import type { AppContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { presentAccount, presentMerchant } from '../presenters.ts';
import { list } from '../serialize.ts';
import { Int64, ListQuery, MerchantSchema, Metadata, errorResponses, listOf } from '../schemas.ts';
import { AccountSchema } from './ledger.ts';

const MerchantBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 320 })),
    metadata: Type.Optional(Metadata),
    livemode: Type.Optional(
      Type.Boolean({
        description:
          'A live merchant has sk_live_ keys and only the connectors set through its connector settings; ' +
          'a test merchant (the default) has sk_test_ keys and starts with the simulated PSPs. Fixed for life.',
      }),
    ),
  },
  { additionalProperties: false },
);

const PriceSchema = Type.Object({
  object: Type.Literal('merchant_price'),
  merchant: Type.String(),
  currency: Type.String(),
  percent_bps: Type.Integer(),
  fixed_amount: Int64,
});

const PriceBody = Type.Object(
  {
    percent_bps: Type.Integer({
      minimum: 0,
      maximum: 10_000,
      description:
        'Basis points of the captured amount (290 = 2.9 %), rounded half up to the minor unit.',
    }),
    fixed_amount: Type.Integer({
      minimum: 0,
      maximum: Number(MAX_AMOUNT_MINOR),
      description:
        "Added to every capture, in the currency's minor units (for '*': in the minor units of whichever currency is captured).",
    }),
  },
  { additionalProperties: false },
);

function presentPrice(merchantId: string, price: MerchantPrice) {
  return {
    object: 'merchant_price' as const,
    merchant: merchantId,
    currency: price.currency,
    percent_bps: Number(price.percentBps),
    fixed_amount: price.fixedAmount,
  };
}

export function registerAdminRoutes(app: FastifyInstance, context: AppContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.post(
    '/v1/admin/merchants',
    {
      schema: {
        tags: ['operator'],
        summary: 'Create a merchant; the response carries its secret key, shown only this once',
        body: MerchantBody,
        response: {
          201: Type.Object({ ...MerchantSchema.properties, secret_key: Type.String() }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      // Default prices for every merchant; the simulated PSPs for a test merchant (runtime.ts).
      const { merchant, secretKey } = await context.merchants.create(request.body);
      request.log.info(
        { merchantId: merchant.id, livemode: merchant.livemode },
        'merchant created',
      );
      reply.code(201);
      return { ...presentMerchant(merchant), secret_key: secretKey };
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
    async (request) => {
      const page = await context.merchants.list({
        limit: request.query.limit,
        startingAfter: request.query.starting_after,
      });
      return list(page.merchants.map(presentMerchant), page.hasMore, '/v1/admin/merchants');
    },
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

  const MerchantParams = Type.Object({ id: Type.String({ maxLength: 100 }) });
  const requireMerchant = async (id: string) => {
    const merchant = await context.merchants.get(id);
    if (merchant === undefined)
      throw new ApiError('resource_missing', `No such merchant: '${id}'`, 'id');
    return merchant;
  };

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
          'Issue a merchant a new secret key of its mode (sk_live_ or sk_test_), shown only this once',
        params: MerchantParams,
        body: Type.Object(
          {
            revoke_others: Type.Optional(
              Type.Boolean({
                description: "The merchant's other keys stop working (default false).",
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            object: Type.Literal('api_key'),
            merchant: Type.String(),
            livemode: Type.Boolean(),
            secret_key: Type.String(),
          }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const merchant = await requireMerchant(request.params.id);
      const secretKey = await context.merchants.issueKey(merchant.id, {
        revokeOthers: request.body.revoke_others ?? false,
      });
      request.log.info({ merchantId: merchant.id }, 'merchant key issued');
      reply.code(201);
      return {
        object: 'api_key' as const,
        merchant: merchant.id,
        livemode: merchant.livemode,
        secret_key: secretKey,
      };
    },
  );

  typed.get(
    '/v1/admin/merchants/:id/connectors',
    {
      schema: {
        tags: ['operator'],
        summary: "A merchant's connectors in priority order (secrets are not shown)",
        params: MerchantParams,
        response: { 200: Type.Object({}, { additionalProperties: true }), ...errorResponses },
      },
    },
    async (request) => {
      await requireMerchant(request.params.id);
      const settings = await context.payments.settings.storedConnectors(request.params.id);
      return list(
        settings.map((setting) => ({
          object: 'merchant_connector',
          connector: setting.connector,
          enabled: setting.enabled,
          priority: setting.priority,
          base_url: setting.credentials.baseUrl,
          api_key_hint: `…${setting.credentials.apiKey.slice(-4)}`,
        })),
        false,
        `/v1/admin/merchants/${request.params.id}/connectors`,
      );
    },
  );

  typed.put(
    '/v1/admin/merchants/:id/connectors/:connector',
    {
      schema: {
        tags: ['operator'],
        summary: 'Enable or change a connector for a merchant: priority, base URL and credentials',
        params: Type.Object({
          id: Type.String({ maxLength: 100 }),
          connector: Type.String({ maxLength: 40 }),
        }),
        body: Type.Object(
          {
            enabled: Type.Boolean(),
            priority: Type.Integer({ minimum: 0, maximum: 10_000 }),
            base_url: Type.String({ format: 'uri', maxLength: 500, pattern: '^https?://' }),
            api_key: Type.String({ minLength: 1, maxLength: 500 }),
            api_secret: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
            merchant_account: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            webhook_secret: Type.Optional(
              Type.String({
                minLength: 8,
                maxLength: 500,
                description:
                  "The secret the PSP signs its webhooks with; without it the PSP's webhooks are refused.",
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({}, { additionalProperties: true }), ...errorResponses },
      },
    },
    async (request) => {
      const merchant = await requireMerchant(request.params.id);
      if (!connectorRegistry.has(request.params.connector)) {
        throw new ApiError(
          'parameter_invalid',
          `Unknown connector '${request.params.connector}'; known: ${[...connectorRegistry.keys()].join(', ')}.`,
          'connector',
        );
      }
      const body = request.body;
      const refusal = merchant.livemode
        ? context.testMode.liveConnectorRefusal(body.base_url)
        : undefined;
      if (refusal !== undefined) throw new ApiError('parameter_invalid', refusal, 'base_url');
      // Sealed at rest, bound to (merchant, connector); the cache of this process sees it at once.
      await context.payments.settings.setConnector(request.params.id, {
        connector: request.params.connector,
        enabled: body.enabled,
        priority: body.priority,
        credentials: {
          baseUrl: body.base_url,
          apiKey: body.api_key,
          apiSecret: body.api_secret,
          merchantAccount: body.merchant_account,
          webhookSecret: body.webhook_secret,
        },
      });
      return {
        object: 'merchant_connector',
        connector: request.params.connector,
        enabled: body.enabled,
        priority: body.priority,
        base_url: body.base_url,
      };
    },
  );

  typed.get(
    '/v1/admin/merchants/:id/prices',
    {
      schema: {
        tags: ['operator'],
        summary: "A merchant's prices per currency, the '*' fallback last",
        description:
          "A capture in a currency without its own price pays the '*' price; with neither, no fee.",
        params: MerchantParams,
        response: { 200: listOf(PriceSchema), ...errorResponses },
      },
    },
    async (request) => {
      await requireMerchant(request.params.id);
      const prices = await context.payments.settings.storedPrices(request.params.id);
      return list(
        prices.map((price) => presentPrice(request.params.id, price)),
        false,
        `/v1/admin/merchants/${request.params.id}/prices`,
      );
    },
  );

  typed.put(
    '/v1/admin/merchants/:id/prices/:currency',
    {
      schema: {
        tags: ['operator'],
        summary:
          "Set a merchant's price in one currency, or its fallback ('*'): a percentage plus a fixed amount",
        description:
          'The fee of a payment is min(captured amount, round_half_up(captured × percent_bps / 10000) + fixed_amount), ' +
          'computed from the price in force when its capture is recorded: a payment authorized before a change and captured after it ' +
          'pays the new price; captures already recorded keep their fee. Refunds return no fee. This server applies a change at once; ' +
          'other Payrail processes sharing the database within 5 seconds (their settings cache).',
        params: Type.Object({
          id: Type.String({ maxLength: 100 }),
          currency: Type.String({
            pattern: '^([a-z]{3}|\\*)$',
            description:
              "A lowercase ISO 4217 code, or '*' for every currency without its own price.",
          }),
        }),
        body: PriceBody,
        response: { 200: PriceSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { id, currency } = request.params;
      await requireMerchant(id);
      if (currency !== '*' && !isCurrency(currency)) {
        throw new ApiError(
          'parameter_invalid',
          `Unknown currency '${currency}'; give a lowercase ISO 4217 code, or '*' for the fallback price.`,
          'currency',
        );
      }
      const price = {
        currency,
        percentBps: BigInt(request.body.percent_bps),
        fixedAmount: BigInt(request.body.fixed_amount),
      };
      await context.payments.settings.setPrice(id, currency, price);
      request.log.info(
        {
          merchantId: id,
          currency,
          percentBps: request.body.percent_bps,
          fixedAmount: request.body.fixed_amount,
        },
        'merchant price set',
      );
      return presentPrice(id, price);
    },
  );

  typed.get(
    '/v1/admin/ledger/accounts',
    {
      schema: {
        tags: ['operator'],
        summary: 'List every ledger account (optionally of one owner)',
        querystring: Type.Object(
          {
            ...ListQuery.properties,
            owner: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: listOf(AccountSchema), ...errorResponses },
      },
    },
    async (request) => {
      const page = await context.ledger.listAccounts({
        owner: request.query.owner,
        limit: request.query.limit,
        startingAfter: request.query.starting_after,
      });
      return list(page.accounts.map(presentAccount), page.hasMore, '/v1/admin/ledger/accounts');
    },
  );

  typed.post(
    '/v1/admin/ledger/verify',
    {
      schema: {
        tags: ['operator'],
        summary:
          'Recompute the ledger and re-check every invariant (balances, limits, hash chains)',
        response: {
          200: Type.Object({
            object: Type.Literal('ledger_verification'),
            ok: Type.Boolean(),
            accounts: Type.Integer(),
            entries: Type.Integer(),
            transactions: Type.Integer(),
            problems: Type.Array(Type.String()),
            duration_ms: Type.Integer(),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const started = performance.now();
      const report = await verifyLedger(context.database);
      const durationMs = Math.round(performance.now() - started);
      if (!report.ok) request.log.error({ problems: report.problems }, 'ledger verify failed');
      return {
        object: 'ledger_verification' as const,
        ok: report.ok,
        accounts: report.accounts,
        entries: report.entries,
        transactions: report.transactions,
        problems: [...report.problems],
        duration_ms: durationMs,
      };
    },
  );
}
