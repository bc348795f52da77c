// The risk decision of one payment about to be sent (the payments service's PaymentRisk): its
// attributes (the payment, the card as the vault knows it — never its number —, the customer's
// IP and email, 3-D Secure once done, and velocity), the merchant's compiled rules and value
// lists, the score, and the pure decision (engine.ts). In process, with one velocity read (one
// Redis round trip, or memory) per decision.
import type { PaymentRisk, RiskFacts } from '../payments/dependencies.ts';
import { metadataAttribute, type AttributeValue } from './attributes.ts';
import { decide } from './engine.ts';
import type { RuleSet } from './rule-set-cache.ts';
import type { RiskRecord, VelocityEntities, VelocityStore } from './types.ts';
import { amountInUsd, referenceUsdRates, type UsdRates } from './usd-rates.ts';

/** A merchant's risk settings as a decision uses them (the cached rule set), and its mode. */
export type RiskPolicy = RuleSet & { readonly livemode?: boolean };

export type RiskAssessorDependencies = {
  readonly policy: (merchantId: string) => Promise<RiskPolicy>;
  readonly velocity: VelocityStore;
  readonly usdRates?: UsdRates;
  /** Told of every decision (metrics). */
  readonly onDecision?: (record: RiskRecord) => void;
};

/** The entities velocity counts a payment under (absent ones are not counted). */
function entitiesOf(facts: RiskFacts): VelocityEntities {
  const entities: { card_number?: string; email?: string; ip_address?: string; customer?: string } =
    {};
  if (facts.card.fingerprint !== null) entities.card_number = facts.card.fingerprint;
  if (facts.email !== null) entities.email = facts.email;
  if (facts.ipAddress !== null) entities.ip_address = facts.ipAddress;
  if (facts.customerId !== null) entities.customer = facts.customerId;
  return entities;
}

/** The payment's own attributes (velocity's are added by the caller); missing ones absent. */
export function paymentAttributesOf(
  facts: RiskFacts,
  usd: number | undefined,
  livemode: boolean | undefined,
): Record<string, AttributeValue | undefined> {
  const { card, authentication } = facts;
  const attributes: Record<string, AttributeValue | undefined> = {
    amount: Number(facts.amount),
    amount_in_usd: usd,
    currency: facts.currency,
    card_brand: card.brand,
    card_country: card.country ?? undefined,
    card_bin: card.bin ?? undefined,
    card_fingerprint: card.fingerprint ?? undefined,
    ip_address: facts.ipAddress ?? undefined,
    ip_country: facts.ipCountry ?? undefined,
    email: facts.email ?? undefined,
    email_domain: facts.email?.split('@')[1],
    customer: facts.customerId ?? undefined,
    is_3d_secure_authenticated: authentication?.authenticated,
    has_liability_shift: authentication?.liabilityShift,
    three_d_secure_eci: authentication?.eci ?? undefined,
    livemode,
  };
  for (const [key, value] of Object.entries(facts.metadata))
    attributes[metadataAttribute(key)] = value;
  return attributes;
}

export class RiskAssessor implements PaymentRisk {
  readonly #dependencies: RiskAssessorDependencies;

  constructor(dependencies: RiskAssessorDependencies) {
    this.#dependencies = dependencies;
  }

  async assess(facts: RiskFacts): Promise<RiskRecord | undefined> {
    const { policy: policyOf, velocity } = this.#dependencies;
    const entities = entitiesOf(facts);
    const fingerprint = facts.card.fingerprint ?? undefined;
    // The policy is cached in process: read first, so a merchant with risk off costs no velocity.
    const policy = await policyOf(facts.merchantId);
    if (!policy.enabled) return undefined;
    const reading = await velocity.read(entities, fingerprint, facts.now);
    const usd = amountInUsd(
      facts.amount,
      facts.currency,
      this.#dependencies.usdRates ?? referenceUsdRates,
    );
    const decision = decide({
      rules: policy.rules,
      attributes: { ...paymentAttributesOf(facts, usd, policy.livemode), ...reading.values },
      lists: policy.lists,
      weights: policy.weights,
      thresholds: policy.thresholds,
      authenticated: facts.authentication !== undefined,
      velocityUnavailable: reading.unavailable,
    });
    const record: RiskRecord = {
      action: decision.action,
      riskScore: decision.riskScore,
      riskLevel: decision.riskLevel,
      rule: decision.rule ?? null,
      matched: decision.matched,
      entities,
      cardFingerprint: facts.card.fingerprint,
      amountInUsd: usd ?? null,
    };
    this.#dependencies.onDecision?.(record);
    return record;
  }
}
