// Radar rules (src/risk/service.ts): Stripe's `radar.rule` (id, action, predicate) with what
// Payrail adds: the whole rule, its mode (enforced or shadow), version, status and position.
import { Type, type Static } from 'typebox';
import type { RadarRule, RadarRuleVersion } from '../risk/store.ts';
import { Enum, Nullable, Timestamp, testMode, unixSeconds } from './json.ts';

const ruleActions = ['request_3ds', 'allow', 'block', 'review'] as const;
const ruleModes = ['enforced', 'shadow'] as const;
const ruleStatuses = ['active', 'disabled'] as const;

const ruleFields = {
  action: Enum(ruleActions),
  predicate: Type.String({ description: 'The condition, as written after `if`.' }),
  rule: Type.String({ description: 'The whole rule as written (`block if …`).' }),
  mode: Enum(ruleModes),
  version: Type.Integer({ minimum: 1, description: 'Every change is a new version.' }),
  status: Enum(ruleStatuses),
  description: Nullable(Type.String()),
  position: Type.Integer({
    minimum: 0,
    description: 'Rules run in ascending position within their action (ties: the older first).',
  }),
  created: Timestamp,
  livemode: Type.Boolean(),
};

export const RadarRuleSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('radar.rule'),
  ...ruleFields,
  updated: Timestamp,
});

/** One version of a rule as it was written (`created`: when this version was). */
export const RadarRuleVersionSchema = Type.Object({
  id: Type.String({ description: 'The rule.' }),
  object: Type.Literal('radar.rule_version'),
  ...ruleFields,
});

export function presentRadarRule(
  rule: RadarRule,
  livemode = testMode,
): Static<typeof RadarRuleSchema> {
  return {
    id: rule.id,
    object: 'radar.rule',
    action: rule.action,
    predicate: rule.predicate,
    rule: rule.text,
    mode: rule.mode,
    version: rule.version,
    status: rule.status,
    description: rule.description,
    position: rule.position,
    created: unixSeconds(rule.createdAt),
    updated: unixSeconds(rule.updatedAt),
    livemode,
  };
}

export function presentRadarRuleVersion(
  version: RadarRuleVersion,
  livemode = testMode,
): Static<typeof RadarRuleVersionSchema> {
  return {
    id: version.ruleId,
    object: 'radar.rule_version',
    action: version.action,
    predicate: version.predicate,
    rule: version.text,
    mode: version.mode,
    version: version.version,
    status: version.status,
    description: version.description,
    position: version.position,
    created: unixSeconds(version.createdAt),
    livemode,
  };
}
