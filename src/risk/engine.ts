// The risk decision for one payment: pure and synchronous (everything it needs is read before:
// the merchant's compiled rules, value lists, velocity, settings), so it costs microseconds and
// is tested without any store.
//
// Radar's order: request_3ds rules, then allow, block, review; within a kind the merchant's order,
// and the first enforced match decides. A request_3ds match ends the decision (the payment asks
// for authentication and is decided again once authenticated, when request_3ds rules are skipped
// and the 3-D Secure attributes are known); an allow match skips block and review; after the
// merchant's block rules comes the built-in `block if :risk_level: = 'highest'`. Shadow rules are
// evaluated on every decision, wherever the enforced ones stopped, and recorded, never enforced:
// what a merchant needs to judge a rule before enforcing it is how often its predicate matches.
import type { AttributeValue, Attributes } from './attributes.ts';
import { compileRule } from './rules/index.ts';
import { containsCardNumber } from './rules/card-numbers.ts';
import { riskLevelOf, scoreOf } from './score.ts';
import type { RiskSignal, RiskThresholds, RiskWeights } from './score.ts';
import { ruleActionOrder } from './types.ts';
import type { ListLookup, RiskLevel, RuleAction, RuleEntry, RuleMatch } from './types.ts';

export type { RuleEntry } from './types.ts';

export type DecisionInput = {
  /** Enforced and shadow rules, active only, in the merchant's order. */
  readonly rules: readonly RuleEntry[];
  /** The payment's attributes and velocity, without risk_score and risk_level (decided here). */
  readonly attributes: Attributes;
  readonly lists: ListLookup;
  readonly weights: RiskWeights;
  readonly thresholds: RiskThresholds;
  /** 3-D Secure is done for this payment: request_3ds rules are skipped. */
  readonly authenticated: boolean;
  /** Velocity could not be read: the level is 'unknown' (and the built-in block cannot fire). */
  readonly velocityUnavailable: boolean;
};

/** A rule that matched, with the values its predicate read (null: missing). */
export type MatchedRule = RuleMatch;

export type RiskDecision = {
  /** What to do; 'none' when no enforced rule matched (authorize). */
  readonly action: RuleAction | 'none';
  readonly riskScore: number;
  readonly riskLevel: RiskLevel;
  /** The enforced rule that decided, if any. */
  readonly rule?: MatchedRule;
  /** Every match evaluated, enforced and shadow, in evaluation order. */
  readonly matched: readonly MatchedRule[];
  readonly signals: readonly RiskSignal[];
};

export const builtinBlockHighestId = 'builtin_block_highest';

/** Radar's default rule: always after the merchant's block rules, always enforced. */
export const builtinBlockHighest: RuleEntry = {
  id: builtinBlockHighestId,
  version: 1,
  mode: 'enforced',
  compiled: compileRule("block if :risk_level: = 'highest'"),
};

/** Decides one payment (see the file's comment for the order). */
export function decide(input: DecisionInput): RiskDecision {
  const { score, signals } = scoreOf(input.attributes, input.weights);
  const riskLevel: RiskLevel = input.velocityUnavailable
    ? 'unknown'
    : riskLevelOf(score, input.thresholds);
  const attributes: Attributes = { ...input.attributes, risk_score: score, risk_level: riskLevel };
  const matched: MatchedRule[] = [];
  let decided: MatchedRule | undefined;
  for (const action of ruleActionOrder) {
    if (action === 'request_3ds' && input.authenticated) continue;
    for (const rule of input.rules) {
      if (rule.compiled.action !== action) continue;
      const enforced = rule.mode === 'enforced';
      if (enforced && decided !== undefined) continue;
      if (!rule.compiled.matches(attributes, input.lists)) continue;
      const record = matchedRule(rule, attributes);
      matched.push(record);
      if (enforced) decided = record;
    }
    if (action === 'block' && decided === undefined) {
      if (builtinBlockHighest.compiled.matches(attributes, input.lists)) {
        decided = matchedRule(builtinBlockHighest, attributes);
        matched.push(decided);
      }
    }
  }
  if (decided === undefined)
    return { action: 'none', riskScore: score, riskLevel, matched, signals };
  return { action: decided.action, riskScore: score, riskLevel, rule: decided, matched, signals };
}

function matchedRule(rule: RuleEntry, attributes: Attributes): MatchedRule {
  const seen: Record<string, AttributeValue | null> = {};
  for (const name of rule.compiled.attributes) seen[name] = seenValue(attributes[name]);
  return {
    id: rule.id,
    version: rule.version,
    action: rule.compiled.action,
    mode: rule.mode,
    predicate: rule.compiled.predicate,
    seen,
  };
}

/** A value as recorded: metadata is merchant text, so a card number in it is never copied. */
function seenValue(value: AttributeValue | undefined): AttributeValue | null {
  if (value === undefined) return null;
  if (typeof value === 'string' && containsCardNumber(value)) return '[redacted]';
  return value;
}
