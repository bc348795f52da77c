// Operator routes (admin key) for a merchant's settings: its connectors (priority, base URL,
// sealed credentials) and its prices.
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  MerchantConnectorSchema,
  MerchantPriceSchema,
  errorResponses,
  list,
  listOf,
  presentMerchantConnector,
  presentMerchantPrice,
} from '../../api-objects/index.ts';
import { connectorRegistry } from '../../connectors/registry.ts';
import { isCurrency, MAX_AMOUNT_MINOR } from '../../money/index.ts';
import type { RouteContext } from '../context.ts';
import { ApiError } from '../errors.ts';

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
        "Added to every capture, in the currency's minor units " +
        "(for '*': in the minor units of whichever currency is captured).",
    }),
  },
  { additionalProperties: false },
);

export function registerMerchantSettingRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const MerchantParams = Type.Object({ id: Type.String({ maxLength: 100 }) });
  const requireMerchant = async (id: string) => {
    const merchant = await context.merchants.get(id);
    if (merchant === undefined)
      throw new ApiError('resource_missing', `No such merchant: '${id}'`, 'id');
    return merchant;
  };

  typed.get(
    '/v1/admin/merchants/:id/connectors',
    {
      schema: {
        tags: ['operator'],
        summary: "A merchant's connectors in priority order (secrets are not shown)",
        params: MerchantParams,
        response: { 200: listOf(MerchantConnectorSchema), ...errorResponses },
      },
    },
    async (request) => {
      await requireMerchant(request.params.id);
      const settings = await context.payments.connectorSettings(request.params.id);
      return list(
        settings.map((setting) => presentMerchantConnector(setting)),
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
                  'The secret the PSP signs its webhooks with; ' +
                  "without it the PSP's webhooks are refused.",
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: MerchantConnectorSchema, ...errorResponses },
      },
    },
    async (request) => {
      const merchant = await requireMerchant(request.params.id);
      const { connector } = request.params;
      if (!connectorRegistry.has(connector)) {
        const known = [...connectorRegistry.keys()].join(', ');
        throw new ApiError(
          'parameter_invalid',
          `Unknown connector '${connector}'; known: ${known}.`,
          'connector',
        );
      }
      const body = request.body;
      // A live merchant never reaches the simulated PSPs (test mode only).
      const refusal = merchant.livemode
        ? context.testMode.liveConnectorRefusal(body.base_url)
        : undefined;
      if (refusal !== undefined) throw new ApiError('parameter_invalid', refusal, 'base_url');
      const setting = {
        connector,
        enabled: body.enabled,
        priority: body.priority,
        credentials: {
          baseUrl: body.base_url,
          apiKey: body.api_key,
          apiSecret: body.api_secret,
          merchantAccount: body.merchant_account,
          webhookSecret: body.webhook_secret,
        },
      };
      // Sealed at rest, bound to (merchant, connector); the cache of this process sees it at once.
      await context.payments.setConnector(request.params.id, setting);
      return presentMerchantConnector(setting);
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
        response: { 200: listOf(MerchantPriceSchema), ...errorResponses },
      },
    },
    async (request) => {
      await requireMerchant(request.params.id);
      const prices = await context.payments.prices(request.params.id);
      return list(
        prices.map((price) => presentMerchantPrice(request.params.id, price)),
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
          "Set a merchant's price in one currency, or its fallback ('*'): " +
          'a percentage plus a fixed amount',
        description:
          'The fee of a payment is min(captured amount, ' +
          'round_half_up(captured × percent_bps / 10000) + fixed_amount), ' +
          'computed from the price in force when its capture is recorded: ' +
          'a payment authorized before a change and captured after it pays the new price; ' +
          'captures already recorded keep their fee. Refunds return no fee. ' +
          'This server applies a change at once; other Payrail processes sharing the database ' +
          'within 5 seconds (their settings cache).',
        params: Type.Object({
          id: Type.String({ maxLength: 100 }),
          currency: Type.String({
            pattern: '^([a-z]{3}|\\*)$',
            description:
              "A lowercase ISO 4217 code, or '*' for every currency without its own price.",
          }),
        }),
        body: PriceBody,
        response: { 200: MerchantPriceSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { id, currency } = request.params;
      await requireMerchant(id);
      if (currency !== '*' && !isCurrency(currency)) {
        throw new ApiError(
          'parameter_invalid',
          `Unknown currency '${currency}'; ` +
            "give a lowercase ISO 4217 code, or '*' for the fallback price.",
          'currency',
        );
      }
      const price = {
        currency,
        percentBps: BigInt(request.body.percent_bps),
        fixedAmount: BigInt(request.body.fixed_amount),
      };
      await context.payments.setPrice(id, currency, price);
      request.log.info(
        {
          merchantId: id,
          currency,
          percentBps: request.body.percent_bps,
          fixedAmount: request.body.fixed_amount,
        },
        'merchant price set',
      );
      return presentMerchantPrice(id, price);
    },
  );
}
