// The routing engine's public surface: per-merchant rules, the pure routing decision, the
// success-rate tracker, the soft-decline map and the configuration store.
export {
  actionTypes,
  cardBrands,
  emptyRoutingConfig,
  hasNoConditions,
  parseRoutingConfig,
  paymentMethodTypes,
  routingConfigToJson,
  routingDefaults,
  routingLimits,
  RoutingConfigError,
  type ActionType,
  type AmountRange,
  type ParseOptions,
  type PaymentMethodType,
  type PriorityAction,
  type RoutingAction,
  type RoutingActionJson,
  type RoutingCardBrand,
  type RoutingConditions,
  type RoutingConditionsJson,
  type RoutingConfig,
  type RoutingConfigErrorCode,
  type RoutingConfigJson,
  type RoutingRule,
  type RoutingRuleJson,
  type SuccessRateAction,
  type VolumeSplitAction,
  type WeightedConnector,
} from './config.ts';
export { countryCodes, isCountryCode } from './countries.ts';
export {
  conditionsHold,
  eligibleConnectors,
  explainRoute,
  route,
  type ConnectorSetting,
  type RouteContext,
  type RouteDecision,
  type RouteInput,
  type RouteStrategy,
} from './engine.ts';
export { seededRandom } from '../random.ts';
export {
  declineVerdict,
  defaultDeclinePolicy,
  isRetryableDecline,
  type DeclineMap,
  type DeclinePolicy,
  type DeclineVerdict,
} from './soft-declines.ts';
export {
  SuccessRateTracker,
  classifyOutcome,
  successRateDefaults,
  type OutcomeClass,
  type SuccessRateOptions,
  type SuccessRateStats,
  type SuccessRates,
} from './success-rate.ts';
export { RoutingStore, type StoredRouting } from './store.ts';
