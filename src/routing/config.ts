// A merchant's routing configuration: an ordered list of rules, each with conditions and an
// action. Parsed from the JSON the API accepts and the database stores (snake_case, amounts as
// JSON integers) into a typed, bigint form; every problem names its field in Stripe's bracket
// notation (`rules[0][action][splits][1][weight]`), the same notation the HTTP layer uses.
// Domain code: no HTTP, no driver.
import { DomainError } from '../errors.ts';
import { currencyExponent, isCurrency, maxAmountMinor } from '../money/index.ts';
import type { CardBrand } from '../vault/index.ts';
import { isCountryCode } from './countries.ts';

export const paymentMethodTypes = ['card'] as const;
export type PaymentMethodType = (typeof paymentMethodTypes)[number];

export const cardBrands = [
  'visa',
  'mastercard',
  'amex',
  'discover',
  'diners',
  'jcb',
  'unionpay',
] as const satisfies readonly Exclude<CardBrand, 'unknown'>[];
export type RoutingCardBrand = (typeof cardBrands)[number];

export const actionTypes = ['priority', 'volume_split', 'success_rate'] as const;
export type ActionType = (typeof actionTypes)[number];

export const routingLimits = {
  rulesMax: 50,
  currenciesMax: 50,
  countriesMax: 250,
  connectorsMax: 20,
  nameLengthMax: 100,
  weightMax: 10_000,
  minSamplesMax: 100_000,
  explorationPercentMax: 50,
} as const;

export const routingDefaults = { fallback: true, minSamples: 20, explorationPercent: 5 } as const;

/** Inclusive bounds in minor units of the rule's currencies. */
export type AmountRange = { readonly min?: bigint; readonly max?: bigint };

/** Every given condition must hold; an absent condition matches anything. */
export type RoutingConditions = {
  readonly currencies?: readonly string[];
  readonly paymentMethodTypes?: readonly PaymentMethodType[];
  readonly amount?: AmountRange;
  readonly cardBrands?: readonly RoutingCardBrand[];
  /** ISO-3166-1 alpha-2, uppercase. */
  readonly cardCountries?: readonly string[];
};

/** `fallback`: after the rule's connectors, try the merchant's other eligible connectors. */
export type PriorityAction = {
  readonly type: 'priority';
  readonly connectors: readonly string[];
  readonly fallback: boolean;
};
export type WeightedConnector = { readonly connector: string; readonly weight: number };
export type VolumeSplitAction = {
  readonly type: 'volume_split';
  readonly splits: readonly WeightedConnector[];
  readonly fallback: boolean;
};
export type SuccessRateAction = {
  readonly type: 'success_rate';
  readonly connectors: readonly string[];
  /** A connector with fewer samples in the window is not ranked; it only gets exploration traffic. */
  readonly minSamples: number;
  /** Share of payments (0–50 %) sent to a connector other than the best, so a recovering one is measured again. */
  readonly explorationPercent: number;
  readonly fallback: boolean;
};
export type RoutingAction = PriorityAction | VolumeSplitAction | SuccessRateAction;

export type RoutingRule = {
  readonly name?: string;
  readonly conditions: RoutingConditions;
  readonly action: RoutingAction;
};
export type RoutingConfig = { readonly rules: readonly RoutingRule[] };

export const emptyRoutingConfig: RoutingConfig = { rules: [] };

// --- the JSON shape (API bodies and the stored jsonb) ------------------------------------------

export type RoutingConditionsJson = {
  currency?: string[];
  payment_method_type?: PaymentMethodType[];
  amount?: { min?: number; max?: number };
  card_brand?: RoutingCardBrand[];
  card_country?: string[];
};
export type RoutingActionJson =
  | { type: 'priority'; connectors: string[]; fallback: boolean }
  | { type: 'volume_split'; splits: { connector: string; weight: number }[]; fallback: boolean }
  | {
      type: 'success_rate';
      connectors: string[];
      min_samples: number;
      exploration_percent: number;
      fallback: boolean;
    };
export type RoutingRuleJson = {
  name?: string;
  conditions: RoutingConditionsJson;
  action: RoutingActionJson;
};
export type RoutingConfigJson = { rules: RoutingRuleJson[] };

export type RoutingConfigErrorCode =
  'parameter_invalid' | 'parameter_missing' | 'parameter_unknown';

/** An invalid configuration; `code` is one of the API's catalogue codes, `param` the field path. */
export class RoutingConfigError extends DomainError<RoutingConfigErrorCode> {
  constructor(code: RoutingConfigErrorCode, message: string, param?: string) {
    super(code, 'invalid', message, param === '' ? undefined : param);
    this.name = 'RoutingConfigError';
  }
}

export type ParseOptions = {
  /** Connector names that exist (the registry); when given, any other name is refused. */
  readonly knownConnectors?: readonly string[];
};

// --- small readers that know where they are ----------------------------------------------------

type JsonObject = Record<string, unknown>;

function at(param: string, key: string | number): string {
  return param === '' ? String(key) : `${param}[${key}]`;
}

function fail(code: RoutingConfigErrorCode, param: string, message: string): never {
  throw new RoutingConfigError(code, message, param);
}

function invalid(param: string, problem: string): never {
  return fail(
    'parameter_invalid',
    param,
    `Invalid ${param === '' ? 'routing configuration' : param}: ${problem}.`,
  );
}

function readObject(
  value: unknown,
  param: string,
  allowed: readonly string[],
  required: readonly string[] = [],
): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    invalid(param, 'must be an object');
  const object = value as JsonObject;
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key))
      fail('parameter_unknown', at(param, key), `Received unknown parameter: ${at(param, key)}.`);
  }
  for (const key of required) requireKey(object, param, key);
  return object;
}

function requireKey(object: JsonObject, param: string, key: string): unknown {
  if (object[key] === undefined)
    fail('parameter_missing', at(param, key), `Missing required parameter: ${at(param, key)}.`);
  return object[key];
}

function readList(value: unknown, param: string, lengthMin: number, lengthMax: number): unknown[] {
  if (!Array.isArray(value)) invalid(param, 'must be a list');
  if (value.length < lengthMin)
    invalid(param, `must have at least ${lengthMin} ${lengthMin === 1 ? 'item' : 'items'}`);
  if (value.length > lengthMax) invalid(param, `must have at most ${lengthMax} items`);
  return value;
}

/** A list of distinct strings, each checked by `check`. */
function readStrings<T extends string>(
  value: unknown,
  param: string,
  lengthMax: number,
  check: (text: string, param: string) => T,
  lengthMin = 1,
): T[] {
  const seen = new Set<string>();
  return readList(value, param, lengthMin, lengthMax).map((item, index) => {
    const itemParam = at(param, index);
    if (typeof item !== 'string') invalid(itemParam, 'must be a string');
    if (seen.has(item)) invalid(itemParam, `'${item}' is listed twice`);
    seen.add(item);
    return check(item, itemParam);
  });
}

function oneOf<T extends string>(values: readonly T[], what: string) {
  return (text: string, param: string): T => {
    if (!(values as readonly string[]).includes(text))
      invalid(param, `'${text.slice(0, 40)}' is not a ${what}; use one of ${values.join(', ')}`);
    return text as T;
  };
}

function readInteger(value: unknown, param: string, minimum: number, maximum: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    invalid(param, 'must be an integer');
  if (value < minimum || value > maximum)
    invalid(param, `must be between ${minimum} and ${maximum}`);
  return value;
}

function readBoolean(value: unknown, param: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') invalid(param, 'must be a boolean');
  return value;
}

// --- conditions ---------------------------------------------------------------------------------

function currencyCode(text: string, param: string): string {
  if (!/^[a-z]{3}$/.test(text) || !isCurrency(text))
    invalid(param, `'${text.slice(0, 40)}' is not a known lowercase ISO-4217 currency code`);
  return text;
}

function countryCode(text: string, param: string): string {
  if (!/^[A-Z]{2}$/.test(text) || !isCountryCode(text))
    invalid(param, `'${text.slice(0, 40)}' is not an uppercase ISO-3166-1 alpha-2 country code`);
  return text;
}

/**
 * Minor units mean different amounts in different currencies, so an amount range needs a
 * currency condition, and all its currencies must have the same number of decimals.
 */
function readAmountRange(
  value: unknown,
  param: string,
  currencies: readonly string[] | undefined,
): AmountRange {
  const range = readObject(value, param, ['min', 'max']);
  if (currencies === undefined)
    invalid(
      param,
      'an amount range needs a currency condition in the same rule (amounts are minor units of those currencies)',
    );
  const exponents = new Set(currencies.map(currencyExponent));
  if (exponents.size > 1)
    invalid(
      param,
      "the rule's currencies have different numbers of decimals, so one range in minor units cannot apply to all; split the rule by currency",
    );
  if (range.min === undefined && range.max === undefined)
    fail(
      'parameter_missing',
      at(param, 'min'),
      `Missing required parameter: give ${at(param, 'min')}, ${at(param, 'max')} or both.`,
    );
  const maximum = Number(
    currencies.map(maxAmountMinor).reduce((low, cap) => (cap < low ? cap : low)),
  );
  const min =
    range.min === undefined
      ? undefined
      : BigInt(readInteger(range.min, at(param, 'min'), 0, maximum));
  const max =
    range.max === undefined
      ? undefined
      : BigInt(readInteger(range.max, at(param, 'max'), 0, maximum));
  if (min !== undefined && max !== undefined && min > max)
    invalid(at(param, 'max'), `must not be below ${at(param, 'min')} (${min})`);
  return { ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) };
}

function readConditions(value: unknown, param: string): RoutingConditions {
  const object = readObject(value, param, [
    'currency',
    'payment_method_type',
    'amount',
    'card_brand',
    'card_country',
  ]);
  const conditions: { -readonly [K in keyof RoutingConditions]: RoutingConditions[K] } = {};
  if (object.currency !== undefined)
    conditions.currencies = readStrings(
      object.currency,
      at(param, 'currency'),
      routingLimits.currenciesMax,
      currencyCode,
    );
  if (object.payment_method_type !== undefined) {
    conditions.paymentMethodTypes = readStrings(
      object.payment_method_type,
      at(param, 'payment_method_type'),
      paymentMethodTypes.length,
      oneOf(paymentMethodTypes, 'payment method type'),
    );
  }
  if (object.amount !== undefined)
    conditions.amount = readAmountRange(object.amount, at(param, 'amount'), conditions.currencies);
  if (object.card_brand !== undefined)
    conditions.cardBrands = readStrings(
      object.card_brand,
      at(param, 'card_brand'),
      cardBrands.length,
      oneOf(cardBrands, 'card brand'),
    );
  if (object.card_country !== undefined)
    conditions.cardCountries = readStrings(
      object.card_country,
      at(param, 'card_country'),
      routingLimits.countriesMax,
      countryCode,
    );
  return conditions;
}

export function hasNoConditions(conditions: RoutingConditions): boolean {
  return Object.values(conditions).every((condition) => condition === undefined);
}

// --- actions ------------------------------------------------------------------------------------

function connectorName(options: ParseOptions) {
  return (text: string, param: string): string => {
    if (!/^[a-z0-9_]{1,40}$/.test(text))
      invalid(param, 'a connector name is 1 to 40 lowercase letters, digits or underscores');
    const known = options.knownConnectors;
    if (known !== undefined && !known.includes(text))
      invalid(param, `there is no connector '${text}'; known connectors: ${known.join(', ')}`);
    return text;
  };
}

const actionKeys: Record<ActionType, readonly string[]> = {
  priority: ['type', 'connectors', 'fallback'],
  volume_split: ['type', 'splits', 'fallback'],
  success_rate: ['type', 'connectors', 'min_samples', 'exploration_percent', 'fallback'],
};

function readAction(value: unknown, param: string, options: ParseOptions): RoutingAction {
  const head = readObject(value, param, [...new Set(Object.values(actionKeys).flat())], ['type']);
  if (typeof head.type !== 'string') invalid(at(param, 'type'), 'must be a string');
  const type = oneOf(actionTypes, 'routing action type')(head.type, at(param, 'type'));
  for (const key of Object.keys(head)) {
    if (!actionKeys[type].includes(key))
      fail(
        'parameter_unknown',
        at(param, key),
        `Received unknown parameter: ${at(param, key)} (not used by a '${type}' action).`,
      );
  }
  const fallback = readBoolean(head.fallback, at(param, 'fallback'), routingDefaults.fallback);
  switch (type) {
    case 'priority':
      return {
        type,
        connectors: readStrings(
          requireKey(head, param, 'connectors'),
          at(param, 'connectors'),
          routingLimits.connectorsMax,
          connectorName(options),
        ),
        fallback,
      };
    case 'volume_split':
      return {
        type,
        splits: readSplits(requireKey(head, param, 'splits'), at(param, 'splits'), options),
        fallback,
      };
    case 'success_rate': {
      // Choosing "the best" of one connector is a priority list: at least two are asked for.
      const connectors = readStrings(
        requireKey(head, param, 'connectors'),
        at(param, 'connectors'),
        routingLimits.connectorsMax,
        connectorName(options),
        2,
      );
      const minSamples =
        head.min_samples === undefined
          ? routingDefaults.minSamples
          : readInteger(head.min_samples, at(param, 'min_samples'), 1, routingLimits.minSamplesMax);
      const explorationPercent = readExploration(
        head.exploration_percent,
        at(param, 'exploration_percent'),
      );
      return { type, connectors, minSamples, explorationPercent, fallback };
    }
  }
}

function readExploration(value: unknown, param: string): number {
  if (value === undefined) return routingDefaults.explorationPercent;
  if (typeof value !== 'number' || !Number.isFinite(value)) invalid(param, 'must be a number');
  if (value < 0 || value > routingLimits.explorationPercentMax)
    invalid(param, `must be between 0 and ${routingLimits.explorationPercentMax}`);
  return value;
}

function readSplits(value: unknown, param: string, options: ParseOptions): WeightedConnector[] {
  const seen = new Set<string>();
  const splits = readList(value, param, 1, routingLimits.connectorsMax).map((item, index) => {
    const itemParam = at(param, index);
    const split = readObject(item, itemParam, ['connector', 'weight'], ['connector', 'weight']);
    if (typeof split.connector !== 'string')
      invalid(at(itemParam, 'connector'), 'must be a string');
    const connector = connectorName(options)(split.connector, at(itemParam, 'connector'));
    if (seen.has(connector)) invalid(at(itemParam, 'connector'), `'${connector}' is listed twice`);
    seen.add(connector);
    return {
      connector,
      weight: readInteger(split.weight, at(itemParam, 'weight'), 0, routingLimits.weightMax),
    };
  });
  // A weight of 0 keeps a connector as failover only; all zero would leave nothing to split.
  if (splits.every((split) => split.weight === 0))
    invalid(param, 'at least one weight must be above 0');
  return splits;
}

// --- rules --------------------------------------------------------------------------------------

function readRule(value: unknown, param: string, options: ParseOptions): RoutingRule {
  const rule = readObject(value, param, ['name', 'conditions', 'action'], ['action']);
  const conditions =
    rule.conditions === undefined ? {} : readConditions(rule.conditions, at(param, 'conditions'));
  const action = readAction(rule.action, at(param, 'action'), options);
  if (rule.name === undefined) return { conditions, action };
  if (
    typeof rule.name !== 'string' ||
    rule.name.length === 0 ||
    rule.name.length > routingLimits.nameLengthMax
  ) {
    invalid(
      at(param, 'name'),
      `must be a string of 1 to ${routingLimits.nameLengthMax} characters`,
    );
  }
  return { name: rule.name, conditions, action };
}

/** Validates and converts the JSON form; throws RoutingConfigError naming the first bad field. */
export function parseRoutingConfig(value: unknown, options: ParseOptions = {}): RoutingConfig {
  const object = readObject(value, '', ['rules'], ['rules']);
  const rules = readList(object.rules, 'rules', 0, routingLimits.rulesMax).map((rule, index) =>
    readRule(rule, at('rules', index), options),
  );
  // First match wins, so anything after a rule without conditions is dead configuration.
  const catchAll = rules.findIndex((rule) => hasNoConditions(rule.conditions));
  if (catchAll !== -1 && catchAll < rules.length - 1) {
    invalid(
      at('rules', catchAll + 1),
      `this rule can never match: rules[${catchAll}] has no conditions and matches every payment`,
    );
  }
  return { rules };
}

// --- back to JSON -------------------------------------------------------------------------------

function conditionsToJson(conditions: RoutingConditions): RoutingConditionsJson {
  const json: RoutingConditionsJson = {};
  if (conditions.currencies !== undefined) json.currency = [...conditions.currencies];
  if (conditions.paymentMethodTypes !== undefined)
    json.payment_method_type = [...conditions.paymentMethodTypes];
  if (conditions.amount !== undefined) {
    // Bounded by maxAmountMinor (< 2^53) at parse time, so exact as JSON numbers.
    const { min, max } = conditions.amount;
    json.amount = {
      ...(min === undefined ? {} : { min: Number(min) }),
      ...(max === undefined ? {} : { max: Number(max) }),
    };
  }
  if (conditions.cardBrands !== undefined) json.card_brand = [...conditions.cardBrands];
  if (conditions.cardCountries !== undefined) json.card_country = [...conditions.cardCountries];
  return json;
}

function actionToJson(action: RoutingAction): RoutingActionJson {
  switch (action.type) {
    case 'priority':
      return { type: action.type, connectors: [...action.connectors], fallback: action.fallback };
    case 'volume_split':
      return {
        type: action.type,
        splits: action.splits.map((split) => ({
          connector: split.connector,
          weight: split.weight,
        })),
        fallback: action.fallback,
      };
    case 'success_rate':
      return {
        type: action.type,
        connectors: [...action.connectors],
        min_samples: action.minSamples,
        exploration_percent: action.explorationPercent,
        fallback: action.fallback,
      };
  }
}

/** The JSON form (defaults filled in); `parseRoutingConfig` reads it back to an equal config. */
export function routingConfigToJson(config: RoutingConfig): RoutingConfigJson {
  return {
    rules: config.rules.map((rule) => ({
      ...(rule.name === undefined ? {} : { name: rule.name }),
      conditions: conditionsToJson(rule.conditions),
      action: actionToJson(rule.action),
    })),
  };
}
