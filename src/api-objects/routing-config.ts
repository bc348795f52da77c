// A merchant's routing rules. The rules' schema is also the body of the request that replaces
// them: what is accepted is exactly what is shown.
import { Type, type Static } from 'typebox';
import {
  actionTypes,
  cardBrands,
  paymentMethodTypes,
  routingConfigToJson,
  routingLimits,
} from '../routing/config.ts';
import type { StoredRouting } from '../routing/store.ts';
import { Enum, Nullable, testMode, unixSecondsOrNull } from './json.ts';

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

export const RoutingRulesSchema = Type.Array(Rule, {
  maxItems: routingLimits.rulesMax,
  description:
    'Ordered; the first rule whose conditions hold decides. ' +
    "No match: the merchant's connector priority order.",
});
export const RoutingConfigSchema = Type.Object({
  object: Type.Literal('routing_config'),
  rules: RoutingRulesSchema,
  updated: Nullable(
    Type.Integer({ description: 'Unix seconds of the last change; null when never set.' }),
  ),
  livemode: Type.Boolean(),
});

export function presentRoutingConfig(
  stored: StoredRouting,
  livemode = testMode,
): Static<typeof RoutingConfigSchema> {
  return {
    object: 'routing_config',
    rules: routingConfigToJson(stored.config).rules as Static<typeof RoutingRulesSchema>,
    updated: unixSecondsOrNull(stored.updatedAt),
    livemode,
  };
}
