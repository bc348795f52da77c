// A merchant's risk settings: whether risk decisions run at all (on by default), the weights of
// the score's signals (src/risk/score.ts defines them and their defaults) and the score
// thresholds of the risk levels (Stripe's: elevated from 65, highest from 75).
import {
  checkRiskThresholds,
  checkRiskWeights,
  defaultRiskThresholds,
  defaultRiskWeights,
  type RiskThresholds,
  type RiskWeights,
} from './score.ts';

export type { RiskThresholds, RiskWeights } from './score.ts';
export { defaultRiskThresholds } from './score.ts';

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

/** The score's own (src/risk/score.ts); a test may give others. */
export const defaultRiskScoring: RiskScoring = {
  defaultWeights: defaultRiskWeights,
  checkWeights: (value) => checkRiskWeights(value),
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
  const thresholds = checkRiskThresholds({
    elevated: change.thresholds?.elevated ?? current.thresholds.elevated,
    highest: change.thresholds?.highest ?? current.thresholds.highest,
  });
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
