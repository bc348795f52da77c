// A merchant's risk settings: whether risk decisions run at all (on by default), the weights of
// the score's signals (src/risk/score.ts defines them and their defaults) and the score
// thresholds of the risk levels (Stripe's: elevated from 65, highest from 75).
import { invalidRiskParameter } from './errors.ts';

/** Signal name → weight (points added to the score when the signal is seen). */
export type RiskWeights = Readonly<Record<string, number>>;

export type RiskThresholds = { readonly elevated: number; readonly highest: number };

export const defaultRiskThresholds: RiskThresholds = { elevated: 65, highest: 75 };

export type RiskSettings = {
  readonly merchantId: string;
  readonly enabled: boolean;
  /** The merchant's own weights; null: the defaults. */
  readonly weights: RiskWeights | null;
  readonly thresholds: RiskThresholds;
  /** When last changed; null for a merchant that never changed them. */
  readonly updatedAt: Date | null;
};

/** What scoring gives the settings: the default weights and the check of a posted set. */
export type RiskScoring = {
  readonly defaultWeights: RiskWeights;
  /** The weights as typed, or throws naming the field (`weights[<signal>]`). */
  readonly checkWeights: (value: unknown) => RiskWeights;
};

export const weightsSignalsMax = 64;
const signalPattern = /^[a-z][a-z0-9_]{0,63}$/;

/**
 * A check used until the score's own lands, and kept as the fallback: at most 64 signals, each
 * named in lowercase snake case, each weight a number from 0 to 100.
 */
export function checkWeightsShape(value: unknown): RiskWeights {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidRiskParameter('weights', 'Invalid weights: an object of signal → weight.');
  const entries = Object.entries(value);
  if (entries.length > weightsSignalsMax)
    throw invalidRiskParameter('weights', `Invalid weights: at most ${weightsSignalsMax} signals.`);
  const weights: Record<string, number> = {};
  for (const [name, weight] of entries) {
    if (!signalPattern.test(name))
      throw invalidRiskParameter(
        'weights',
        'Invalid weights: a signal name is lowercase snake case.',
      );
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0 || weight > 100)
      throw invalidRiskParameter(
        `weights[${name}]`,
        `Invalid weights[${name}]: a number from 0 to 100.`,
      );
    weights[name] = weight;
  }
  return weights;
}

export const shapeOnlyScoring: RiskScoring = {
  defaultWeights: {},
  checkWeights: checkWeightsShape,
};

/** The change a merchant posts; undefined leaves a field as it is, weights null resets them. */
export type RiskSettingsChange = {
  readonly enabled?: boolean;
  readonly weights?: Readonly<Record<string, number>> | null;
  readonly thresholds?: { readonly elevated?: number; readonly highest?: number };
};

/** The settings after a change: posted weights are merged over the current ones, then checked. */
export function changedSettings(
  current: RiskSettings,
  change: RiskSettingsChange,
  scoring: RiskScoring,
  now: Date,
): RiskSettings {
  const weights =
    change.weights === undefined
      ? current.weights
      : change.weights === null
        ? null
        : scoring.checkWeights({
            ...(current.weights ?? scoring.defaultWeights),
            ...change.weights,
          });
  const thresholds = { ...current.thresholds, ...change.thresholds };
  for (const level of ['elevated', 'highest'] as const) {
    const score = thresholds[level];
    if (!Number.isInteger(score) || score < 0 || score > 100)
      throw invalidRiskParameter(
        `thresholds[${level}]`,
        `Invalid thresholds[${level}]: an integer score from 0 to 100.`,
      );
  }
  if (thresholds.elevated > thresholds.highest)
    throw invalidRiskParameter(
      'thresholds[elevated]',
      'Invalid thresholds[elevated]: it must not be above thresholds[highest].',
    );
  return {
    merchantId: current.merchantId,
    enabled: change.enabled ?? current.enabled,
    weights,
    thresholds,
    updatedAt: now,
  };
}

export function defaultRiskSettings(merchantId: string): RiskSettings {
  return {
    merchantId,
    enabled: true,
    weights: null,
    thresholds: defaultRiskThresholds,
    updatedAt: null,
  };
}
