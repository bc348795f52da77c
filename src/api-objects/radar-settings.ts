// A merchant's risk settings (src/risk/settings.ts): whether risk decisions run, the weights of
// the score's signals (the defaults unless the merchant changed them) and the level thresholds.
import { Type, type Static } from 'typebox';
import type { RiskSettings, RiskWeights } from '../risk/settings.ts';
import { Nullable, testMode, unixSecondsOrNull } from './json.ts';

export const RadarSettingsSchema = Type.Object({
  object: Type.Literal('radar.settings'),
  enabled: Type.Boolean({ description: 'Risk decisions run on confirm (on by default).' }),
  weights: Type.Record(Type.String(), Type.Number(), {
    description: 'Signal → points added to the risk score (0–100, capped) when it is seen.',
  }),
  weights_customized: Type.Boolean({ description: 'false: the default weights.' }),
  thresholds: Type.Object({
    elevated: Type.Integer({ minimum: 0, maximum: 100 }),
    highest: Type.Integer({ minimum: 0, maximum: 100 }),
  }),
  livemode: Type.Boolean(),
  updated: Nullable(Type.Integer({ description: 'Unix seconds; null: never changed.' })),
});

export function presentRadarSettings(
  settings: RiskSettings,
  defaultWeights: RiskWeights,
  livemode = testMode,
): Static<typeof RadarSettingsSchema> {
  return {
    object: 'radar.settings',
    enabled: settings.enabled,
    weights: { ...(settings.weights ?? defaultWeights) },
    weights_customized: settings.weights !== null,
    thresholds: { ...settings.thresholds },
    livemode,
    updated: unixSecondsOrNull(settings.updatedAt),
  };
}
