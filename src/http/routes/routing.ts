// Merchant routes for the routing configuration: read it, replace it. The schema checks the
// outline (types, unknown fields, sizes) and names the param; parseRoutingConfig then checks what
// a schema cannot (known currencies and connectors, amount ranges, duplicates, dead rules) and
// names the param the same way.
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { listConnectorNames } from '../../connectors/registry.ts';
import {
  actionTypes,
  cardBrands,
  parseRoutingConfig,
  paymentMethodTypes,
  routingConfigToJson,
  routingLimits,
  RoutingConfigError,
  type RoutingConfig,
} from '../../routing/config.ts';
import type { RoutingStore, StoredRouting } from '../../routing/store.ts';
import { ApiError } from '../errors.ts';
import { errorResponses } from '../schemas.ts';
import { unixSeconds } from '../serialize.ts';

/** What these routes need; AppContext fits once it carries the store. */
export type RoutingRoutesContext = { readonly routing: RoutingStore };

const Enum = <T extends string>(values: readonly T[]) =>
  Type.Unsafe<T>({ type: 'string', enum: [...values] });
const List = <T extends Parameters<typeof Type.Array>[0]>(
  item: T,
  itemsMax: number,
  description: string,
) => Type.Array(item, { minItems: 1, maxItems: itemsMax, uniqueItems: true, description });
const ConnectorName = Type.String({ minLength: 1, maxLength: 40, pattern: '^[a-z0-9_]+$' });
const AmountBound = Type.Integer({
  minimum: 0,
  description: "Minor units of the rule's currencies (inclusive).",
});

const Conditions = Type.Object(
  {
    currency: Type.Optional(
      List(
        Type.String({ pattern: '^[a-z]{3}$' }),
        routingLimits.currenciesMax,
        'Lowercase ISO-4217 codes.',
      ),
    ),
    payment_method_type: Type.Optional(
      List(Enum(paymentMethodTypes), paymentMethodTypes.length, 'Payment method types.'),
    ),
    amount: Type.Optional(
      Type.Object(
        { min: Type.Optional(AmountBound), max: Type.Optional(AmountBound) },
        {
          additionalProperties: false,
          description:
            'Needs a currency condition; all its currencies must have the same number of decimals.',
        },
      ),
    ),
    card_brand: Type.Optional(List(Enum(cardBrands), cardBrands.length, 'Card brands.')),
    card_country: Type.Optional(
      List(
        Type.String({ pattern: '^[A-Z]{2}$' }),
        routingLimits.countriesMax,
        'Issuing countries, uppercase ISO-3166-1 alpha-2.',
      ),
    ),
  },
  {
    additionalProperties: false,
    description: 'Every given condition must hold; none at all matches every payment.',
  },
);

const Split = Type.Object(
  {
    connector: ConnectorName,
    weight: Type.Integer({ minimum: 0, maximum: routingLimits.weightMax }),
  },
  { additionalProperties: false },
);

// One object with a `type` rather than a union: a union's validation error would name a field of
// whichever branch the validator tried first, not the one the caller meant.
const Action = Type.Object(
  {
    type: Enum(actionTypes),
    connectors: Type.Optional(
      List(
        ConnectorName,
        routingLimits.connectorsMax,
        'priority and success_rate: the connectors, in order.',
      ),
    ),
    splits: Type.Optional(
      List(
        Split,
        routingLimits.connectorsMax,
        'volume_split: connectors with integer weights (0 = failover only).',
      ),
    ),
    min_samples: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: routingLimits.minSamplesMax,
        description: 'success_rate: samples needed before a connector is ranked (default 20).',
      }),
    ),
    exploration_percent: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: routingLimits.explorationPercentMax,
        description:
          'success_rate: share of payments sent to a connector other than the best (default 5).',
      }),
    ),
    fallback: Type.Optional(
      Type.Boolean({
        description:
          "After the rule's connectors, try the merchant's other connectors (default true).",
      }),
    ),
  },
  { additionalProperties: false },
);

const Rule = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: routingLimits.nameLengthMax })),
    conditions: Type.Optional(Conditions),
    action: Action,
  },
  { additionalProperties: false },
);

const Rules = Type.Array(Rule, {
  maxItems: routingLimits.rulesMax,
  description:
    "Ordered; the first rule whose conditions hold decides. No match: the merchant's connector priority order.",
});
const RoutingBody = Type.Object({ rules: Rules }, { additionalProperties: false });

const RoutingSchema = Type.Object({
  object: Type.Literal('routing_config'),
  rules: Rules,
  updated: Type.Union([Type.Integer(), Type.Null()], {
    description: 'Unix seconds of the last change; null when never set.',
  }),
  livemode: Type.Boolean(),
});

const responses = { 200: RoutingSchema, ...errorResponses };

function present(stored: StoredRouting) {
  return {
    object: 'routing_config' as const,
    rules: routingConfigToJson(stored.config).rules,
    updated: stored.updatedAt === null ? null : unixSeconds(stored.updatedAt),
    livemode: false,
  };
}

function parseBody(body: unknown): RoutingConfig {
  try {
    return parseRoutingConfig(body, { knownConnectors: listConnectorNames() });
  } catch (error) {
    if (error instanceof RoutingConfigError)
      throw new ApiError(error.code, error.message, error.param);
    throw error;
  }
}

export function registerRoutingRoutes(app: FastifyInstance, context: RoutingRoutesContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.get(
    '/v1/routing',
    { schema: { tags: ['routing'], summary: "The merchant's routing rules", response: responses } },
    async (request) => present(await context.routing.get(request.merchantId)),
  );

  typed.post(
    '/v1/routing',
    {
      schema: {
        tags: ['routing'],
        summary: "Replace the merchant's routing rules (an empty list restores the priority order)",
        body: RoutingBody,
        response: responses,
      },
    },
    async (request) =>
      present(await context.routing.put(request.merchantId, parseBody(request.body))),
  );
}
