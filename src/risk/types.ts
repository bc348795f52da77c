// The contracts between the parts of the risk engine (src/risk): the rule language
// (rules/), velocity (velocity/), 3-D Secure (three-d-secure/) and the decision (engine.ts).
import type { AttributeValue, Attributes, VelocityEntity } from './attributes.ts';

export type { AttributeValue, Attributes } from './attributes.ts';

/** What a rule does when it matches. Evaluated in this order; first match within a kind wins. */
export type RuleAction = 'request_3ds' | 'allow' | 'block' | 'review';
export const ruleActionOrder: readonly RuleAction[] = ['request_3ds', 'allow', 'block', 'review'];

/** Enforced rules decide; shadow rules are evaluated and recorded only. */
export type RuleMode = 'enforced' | 'shadow';

export type RiskLevel = 'normal' | 'elevated' | 'highest' | 'unknown';

/** Value lists a rule refers to as `@alias`: is `value` on the list now? */
export type ListLookup = (alias: string, value: string) => boolean;

/** A rule parsed and compiled once, when saved (rules/). */
export type CompiledRule = {
  readonly action: RuleAction;
  /** The predicate's text as written after the action (`:card_country: != :ip_country:`). */
  readonly predicate: string;
  /** The attributes the predicate reads (names as in `Attributes`), for the record of a match. */
  readonly attributes: readonly string[];
  /** The value lists it refers to (aliases without `@`). */
  readonly lists: readonly string[];
  /** Whether the predicate holds. A comparison on a missing attribute does not hold. */
  readonly matches: (attributes: Attributes, lists: ListLookup) => boolean;
};

/** One of the merchant's rules, as a decision takes it: a version, compiled once when saved. */
export type RuleEntry = {
  readonly id: string;
  readonly version: number;
  readonly mode: RuleMode;
  readonly compiled: CompiledRule;
};

/** A payment's outcome as velocity counts it, once per payment attempt. */
export type VelocityEvent = {
  /** Deduplicates: the same attempt recorded twice counts once. */
  readonly attemptId: string;
  readonly at: Date;
  readonly result: 'authorized' | 'declined';
  /** The authorized amount in US dollars (with cents), when a reference rate exists. */
  readonly amountInUsd: number | undefined;
  readonly entities: VelocityEntities;
  /** The card's fingerprint, for distinct cards per IP address and per email. */
  readonly cardFingerprint: string | undefined;
};

/** The entities of one payment that velocity counts per (absent ones are not counted). */
export type VelocityEntities = Partial<Record<VelocityEntity, string>>;

/**
 * The velocity attributes for a decision: values by attribute name (`total_charges_per_email_daily`
 * …); `unavailable` when the store could not be read (Redis down): those attributes are then
 * missing, and the decision says so (risk_level unknown) instead of failing.
 */
export type VelocityReading = {
  readonly values: Readonly<Record<string, AttributeValue>>;
  readonly unavailable: boolean;
};

export interface VelocityStore {
  /** Counts one outcome; idempotent per attemptId. Throws when the store cannot be written. */
  record(event: VelocityEvent): Promise<void>;
  /** The windows ending at `now` for these entities; never throws (unavailable instead). */
  read(
    entities: VelocityEntities,
    cardFingerprint: string | undefined,
    now: Date,
  ): Promise<VelocityReading>;
  close(): Promise<void>;
}

/** A rule that matched, with the values its predicate read (null: the attribute was missing). */
export type RuleMatch = {
  readonly id: string;
  readonly version: number;
  readonly action: RuleAction;
  readonly mode: RuleMode;
  readonly predicate: string;
  readonly seen: Readonly<Record<string, AttributeValue | null>>;
};

/**
 * What a decision recorded on the attempt it let through or stopped (payment_attempts.risk):
 * the action taken ('none' when no rule matched), the score and level, the deciding rule and
 * every match (shadow ones too), and what velocity counts the attempt under. Never a card number.
 */
export type RiskRecord = {
  readonly action: RuleAction | 'none';
  readonly riskScore: number;
  readonly riskLevel: RiskLevel;
  readonly rule: RuleMatch | null;
  readonly matched: readonly RuleMatch[];
  readonly entities: VelocityEntities;
  readonly cardFingerprint: string | null;
  readonly amountInUsd: number | null;
};
