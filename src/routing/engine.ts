// The routing decision: which connectors to try for a payment, in order. Pure: everything it
// reads (the merchant's connectors, capabilities, availability, randomness, success rates) comes
// in through the context, so the same inputs always give the same list.
//
// 1. Eligible connectors: the merchant's enabled ones, by priority (then name), that support the
//    payment method, currency and capture mode. Nothing else is ever returned: a connector that
//    cannot take the payment would only fail.
// 2. The first rule whose conditions all hold decides. Its action picks the first connector
//    (priority list: the first; volume split: a weighted draw; success rate: the best measured,
//    or another one for a small exploration share). The rule's other connectors follow in the
//    rule's order, then, when the rule allows fallback, the remaining eligible connectors in the
//    merchant's priority order. No rule matching means the merchant's priority order.
// 3. Availability: a connector reported unavailable (e.g. its circuit breaker is open) is not
//    chosen while an available one can be, and moves to the end of the list as a last resort
//    rather than being dropped. An open breaker is a guess from recent failures: trying it after
//    everything else failed costs one fast rejection, dropping it could fail a payment it would
//    have taken (and a half-open breaker needs a probe to ever close).
//
// An empty list means no connector can take the payment (the caller answers
// no_connector_available). Failover along the list is the caller's: only after a `failed`
// outcome that isRetryableDecline allows, never after `unknown` or `pending`.
import type { CapabilityMap, CaptureMode } from '../connectors/types.ts';
import type {
  ActionType,
  PaymentMethodType,
  RoutingAction,
  RoutingConditions,
  RoutingConfig,
  SuccessRateAction,
  VolumeSplitAction,
} from './config.ts';
import type { SuccessRates } from './success-rate.ts';

export type RouteInput = {
  readonly amount: bigint;
  readonly currency: string;
  readonly paymentMethodType: PaymentMethodType;
  /** For the capability check; automatic when absent. */
  readonly captureMode?: CaptureMode;
  /** Lowercase, as the vault reports it. A rule with a brand condition never matches without it. */
  readonly cardBrand?: string;
  /** ISO-3166-1 alpha-2 of the issuer. A rule with a country condition never matches without it. */
  readonly cardCountry?: string;
};

/** A merchant's connector setting (MerchantConnector fits). */
export type ConnectorSetting = {
  readonly connector: string;
  readonly enabled: boolean;
  readonly priority: number;
};

export type RouteContext = {
  readonly connectors: readonly ConnectorSetting[];
  /** The registry's capability map; undefined for a name no connector is registered under. */
  readonly capabilities: (connector: string) => CapabilityMap | undefined;
  /** False when the connector should not be chosen now (circuit breaker open); all available when absent. */
  readonly isAvailable?: (connector: string) => boolean;
  /** Uniform in [0, 1), like Math.random; injectable so that tests are deterministic. */
  readonly random: () => number;
  /** Read by success-rate rules; without it nothing is measured: the rule's first connector, plus exploration. */
  readonly successRates?: SuccessRates;
};

export type RouteStrategy = ActionType | 'merchant_priority';

export type RouteDecision = {
  readonly connectors: string[];
  /** The matching rule; undefined when none matched. */
  readonly ruleIndex: number | undefined;
  readonly ruleName: string | undefined;
  readonly strategy: RouteStrategy;
  /** Success-rate routing sent this payment to a connector other than the best, to measure it. */
  readonly explored: boolean;
};

export function conditionsHold(conditions: RoutingConditions, input: RouteInput): boolean {
  const { currencies, paymentMethodTypes, amount, cardBrands, cardCountries } = conditions;
  if (currencies !== undefined && !currencies.includes(input.currency)) return false;
  if (paymentMethodTypes !== undefined && !paymentMethodTypes.includes(input.paymentMethodType))
    return false;
  if (amount?.min !== undefined && input.amount < amount.min) return false;
  if (amount?.max !== undefined && input.amount > amount.max) return false;
  if (
    cardBrands !== undefined &&
    (input.cardBrand === undefined || !(cardBrands as readonly string[]).includes(input.cardBrand))
  )
    return false;
  if (
    cardCountries !== undefined &&
    (input.cardCountry === undefined || !cardCountries.includes(input.cardCountry.toUpperCase()))
  )
    return false;
  return true;
}

function supports(capabilities: CapabilityMap | undefined, input: RouteInput): boolean {
  return (
    capabilities !== undefined &&
    capabilities.paymentMethods.includes(input.paymentMethodType) &&
    capabilities.currencies.includes(input.currency) &&
    capabilities.captureModes.includes(input.captureMode ?? 'automatic')
  );
}

/** Enabled, capable connectors in the merchant's priority order. */
export function eligibleConnectors(input: RouteInput, context: RouteContext): string[] {
  const enabled = context.connectors
    .filter((setting) => setting.enabled)
    .toSorted(
      (a, b) =>
        a.priority - b.priority ||
        (a.connector < b.connector ? -1 : a.connector > b.connector ? 1 : 0),
    );
  const names = enabled
    .filter((setting) => supports(context.capabilities(setting.connector), input))
    .map((setting) => setting.connector);
  return [...new Set(names)];
}

function draw(random: () => number): number {
  const value = random();
  if (!(value >= 0 && value < 1))
    throw new Error(`routing: the random source returned ${value}, outside [0, 1)`);
  return value;
}

function pickWeighted(
  action: VolumeSplitAction,
  candidates: readonly string[],
  random: () => number,
): string | undefined {
  const weights = candidates.map(
    (name) => action.splits.find((split) => split.connector === name)?.weight ?? 0,
  );
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  // Only weight-0 (failover-only) connectors left: take them in the rule's order.
  if (total === 0) return candidates[0];
  let remaining = draw(random) * total;
  for (const [index, weight] of weights.entries()) {
    if (remaining < weight) return candidates[index];
    remaining -= weight;
  }
  return candidates.findLast((_, index) => (weights[index] ?? 0) > 0);
}

/**
 * The connector with the best rate among those with at least minSamples in the window (ties: the
 * rule's order; none measured: the first). With probability explorationPercent, one of the
 * others instead, uniformly, so unmeasured and recovering connectors keep getting samples.
 */
function pickBest(
  action: SuccessRateAction,
  candidates: readonly string[],
  context: RouteContext,
): { connector: string | undefined; explored: boolean } {
  let best = candidates[0];
  let bestRate = -1;
  for (const name of candidates) {
    const stats = context.successRates?.stats(name);
    if (stats?.rate === undefined || stats.samples < action.minSamples) continue;
    if (stats.rate > bestRate) {
      best = name;
      bestRate = stats.rate;
    }
  }
  if (candidates.length < 2 || draw(context.random) * 100 >= action.explorationPercent)
    return { connector: best, explored: false };
  const others = candidates.filter((name) => name !== best);
  return { connector: others[Math.floor(draw(context.random) * others.length)], explored: true };
}

function actionConnectors(action: RoutingAction): readonly string[] {
  return action.type === 'volume_split'
    ? action.splits.map((split) => split.connector)
    : action.connectors;
}

function choose(
  action: RoutingAction,
  candidates: readonly string[],
  context: RouteContext,
): { connector: string | undefined; explored: boolean } {
  switch (action.type) {
    case 'priority':
      return { connector: candidates[0], explored: false };
    case 'volume_split':
      return { connector: pickWeighted(action, candidates, context.random), explored: false };
    case 'success_rate':
      return pickBest(action, candidates, context);
  }
}

/** Available connectors keep their order; unavailable ones follow, as a last resort. */
function lastResortLast(
  connectors: readonly string[],
  isAvailable: (connector: string) => boolean,
): string[] {
  return [...connectors.filter(isAvailable), ...connectors.filter((name) => !isAvailable(name))];
}

/** The ordered candidates with why they were chosen (for logs and the attempt record). */
export function explainRoute(
  input: RouteInput,
  config: RoutingConfig,
  context: RouteContext,
): RouteDecision {
  const eligible = eligibleConnectors(input, context);
  const isAvailable = context.isAvailable ?? (() => true);
  const ruleIndex = config.rules.findIndex((rule) => conditionsHold(rule.conditions, input));
  const rule = config.rules[ruleIndex];
  if (rule === undefined) {
    return {
      connectors: lastResortLast(eligible, isAvailable),
      ruleIndex: undefined,
      ruleName: undefined,
      strategy: 'merchant_priority',
      explored: false,
    };
  }
  const ruleConnectors = actionConnectors(rule.action).filter((name) => eligible.includes(name));
  const available = ruleConnectors.filter(isAvailable);
  const { connector: chosen, explored } = choose(
    rule.action,
    available.length > 0 ? available : ruleConnectors,
    context,
  );
  const ordered =
    chosen === undefined ? [] : [chosen, ...ruleConnectors.filter((name) => name !== chosen)];
  if (rule.action.fallback)
    ordered.push(...eligible.filter((name) => !ruleConnectors.includes(name)));
  return {
    connectors: lastResortLast(ordered, isAvailable),
    ruleIndex,
    ruleName: rule.name,
    strategy: rule.action.type,
    explored,
  };
}

/** The connectors to try, in order: the chosen first, then failover candidates. */
export function route(input: RouteInput, config: RoutingConfig, context: RouteContext): string[] {
  return explainRoute(input, config, context).connectors;
}
