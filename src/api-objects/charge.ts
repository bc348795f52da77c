// Stripe's charge: the view of one payment attempt (src/ids.ts derives its id from
// the attempt's), with the card it was made with, the attempt's outcome, what of it was captured
// and refunded, and the balance transaction of its capture once the ledger posted it. Fields of
// Stripe's charge that have no counterpart in Payrail (Connect, shipping, receipts)
// are answered with Stripe's empty value.
import { Type, type Static } from 'typebox';
import { chargeIdOf, reviewIdOf } from '../ids.ts';
import type { Attempt, ChargeCard, ChargeView } from '../payments/types.ts';
import type { RiskRecord } from '../risk/types.ts';
import {
  Enum,
  Int64,
  Nullable,
  StringMap,
  Timestamp,
  list,
  testMode,
  unixSeconds,
  searchResultOf,
} from './json.ts';
import { RefundSchema, presentRefund } from './refund.ts';

const NullString = Nullable(Type.String());

const RuleMatchSchema = Type.Object({
  id: Type.String(),
  version: Type.Integer(),
  action: Enum(['request_3ds', 'allow', 'block', 'review'] as const),
  mode: Enum(['enforced', 'shadow'] as const),
  predicate: Type.String(),
  seen: Type.Record(
    Type.String(),
    Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]),
    { description: 'The values the predicate read; null where the attribute was missing.' },
  ),
});

const ChargeOutcomeSchema = Type.Object({
  advice_code: NullString,
  network_advice_code: NullString,
  network_decline_code: NullString,
  network_status: NullString,
  reason: NullString,
  risk_level: Type.String(),
  risk_score: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 100, description: 'Present when risk assessed it.' }),
  ),
  rule: Type.Optional(Type.String({ description: 'The rule that decided (blocked or held).' })),
  seller_message: NullString,
  type: Type.String(),
  rules: Type.Array(RuleMatchSchema, {
    description: 'Payrail: every rule that matched (shadow ones too), with the values it saw.',
  }),
});

const ChargeCardDetailsSchema = Type.Object({
  amount_authorized: Nullable(Int64),
  authorization_code: NullString,
  brand: NullString,
  checks: Type.Null(),
  country: NullString,
  electronic_commerce_indicator: NullString,
  exp_month: Type.Integer(),
  exp_year: Type.Integer(),
  fingerprint: NullString,
  funding: NullString,
  installments: Type.Null(),
  last4: NullString,
  mandate: Type.Null(),
  network: NullString,
  network_transaction_id: NullString,
  regulated_status: Type.Null(),
  three_d_secure: Type.Null(),
  transaction_link_id: Type.Null(),
  wallet: Type.Null(),
});

export const ChargeSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('charge'),
  amount: Int64,
  amount_captured: Int64,
  amount_refunded: Int64,
  application: Type.Null(),
  application_fee: Type.Null(),
  application_fee_amount: Type.Null(),
  balance_transaction: NullString,
  billing_details: Type.Object({
    address: Type.Null(),
    email: NullString,
    name: NullString,
    phone: NullString,
    tax_id: NullString,
  }),
  calculated_statement_descriptor: NullString,
  captured: Type.Boolean(),
  created: Timestamp,
  customer: Nullable(
    Type.String({ description: "The intent's customer, when it has one (expandable)." }),
  ),
  currency: Type.String(),
  description: NullString,
  disputed: Type.Boolean(),
  failure_balance_transaction: Type.Null(),
  failure_code: NullString,
  failure_message: NullString,
  fraud_details: Type.Object({}),
  livemode: Type.Boolean(),
  metadata: StringMap,
  on_behalf_of: Type.Null(),
  outcome: Nullable(ChargeOutcomeSchema),
  paid: Type.Boolean(),
  payment_intent: Type.String({ description: 'The id (expandable: expand[]=payment_intent).' }),
  payment_method: Nullable(Type.String({ description: 'The id (expandable).' })),
  payment_method_details: Nullable(
    Type.Object({ type: Type.Literal('card'), card: ChargeCardDetailsSchema }),
  ),
  receipt_email: NullString,
  receipt_number: NullString,
  receipt_url: NullString,
  refunded: Type.Boolean(),
  refunds: Type.Object({
    object: Type.Literal('list'),
    data: Type.Array(RefundSchema),
    has_more: Type.Boolean(),
    url: Type.String(),
  }),
  review: Nullable(Type.String({ description: 'The review holding this charge, if any.' })),
  shipping: Type.Null(),
  source: Type.Null(),
  source_transfer: Type.Null(),
  statement_descriptor: NullString,
  statement_descriptor_suffix: NullString,
  status: Enum(['succeeded', 'pending', 'failed'] as const),
  transfer_data: Type.Null(),
  transfer_group: NullString,
  connector: Type.String({ description: 'Payrail: the connector (PSP) the attempt went to.' }),
});

export type ChargeObject = Static<typeof ChargeSchema>;
type ChargeStatus = ChargeObject['status'];

/** How many of a charge's refunds it shows inline (Stripe: the 10 most recent). */
export const chargeRefundsShownMax = 10;

function chargeStatus({ attempt }: ChargeView): ChargeStatus {
  if (attempt.status === 'failed') return 'failed';
  return attempt.status === 'pending' || attempt.status === 'unknown' ? 'pending' : 'succeeded';
}

/** Stripe's failure_code of a failed attempt (the code its payment intent's error carried). */
function failureCode({ attempt }: ChargeView): string | null {
  if (attempt.status !== 'failed') return null;
  if (attempt.declineCode === 'expired_card') return 'expired_card';
  return attempt.declineCode === null ? 'processing_error' : 'card_declined';
}

/** The risk decision's part of Stripe's `outcome`; a charge made with risk off is 'normal'. */
function riskOf(risk: RiskRecord | null) {
  return {
    risk_level: risk?.riskLevel ?? 'normal',
    ...(risk === null ? {} : { risk_score: Math.round(risk.riskScore) }),
    ...(risk?.rule === null || risk === null ? {} : { rule: risk.rule.id }),
    rules: (risk?.matched ?? []).map((match) => ({ ...match, seen: { ...match.seen } })),
  };
}

/** Why Radar stopped or held a payment: its own highest-risk block, or a merchant's rule. */
function riskReason(risk: RiskRecord): string {
  if (risk.rule === null || risk.rule.id.startsWith('builtin_'))
    return risk.action === 'review' ? 'elevated_risk_level' : 'highest_risk_level';
  return 'rule';
}

/** What the attempt's authorization looked like to the network (Stripe's `outcome`). */
function outcomeOf(view: ChargeView): Static<typeof ChargeOutcomeSchema> | null {
  const { attempt } = view;
  const status = chargeStatus(view);
  if (status === 'pending') return null;
  const blank = { advice_code: null, network_advice_code: null, network_decline_code: null };
  const risk = attempt.risk;
  if (status === 'succeeded') {
    const held = risk?.action === 'review';
    return {
      ...blank,
      ...riskOf(risk),
      network_status: 'approved_by_network',
      reason: held ? riskReason(risk) : null,
      seller_message: held
        ? 'Payrail held this payment for review: approve it to capture.'
        : 'Payment complete.',
      type: held ? 'manual_review' : 'authorized',
    };
  }
  if (risk?.action === 'block')
    return {
      ...blank,
      ...riskOf(risk),
      network_status: 'not_sent_to_network',
      reason: riskReason(risk),
      seller_message: 'Payrail blocked this payment as too risky.',
      type: 'blocked',
    };
  if (attempt.declineCode === null)
    return {
      ...blank,
      ...riskOf(risk),
      network_status: 'not_sent_to_network',
      reason: null,
      seller_message: attempt.failureMessage ?? 'The payment could not be processed.',
      type: 'invalid',
    };
  const generic = attempt.declineCode === 'generic_decline';
  return {
    ...blank,
    ...riskOf(risk),
    network_decline_code: attempt.pspCode,
    network_status: 'declined_by_network',
    reason: attempt.declineCode,
    seller_message: generic
      ? 'The bank did not return any further details with this decline.'
      : `The bank returned the decline code \`${attempt.declineCode}\`.`,
    type: 'issuer_declined',
  };
}

/** The review holding the charge: one opens when a review decision's attempt is authorized. */
export function reviewOfAttempt(attempt: Attempt): string | null {
  const authorized = attempt.amountAuthorized > 0n;
  return attempt.risk?.action === 'review' && authorized ? reviewIdOf(attempt.id) : null;
}

function cardDetails(
  card: ChargeCard,
  amountAuthorized: bigint,
): Static<typeof ChargeCardDetailsSchema> {
  return {
    amount_authorized: amountAuthorized > 0n ? amountAuthorized : null,
    authorization_code: null,
    brand: card.brand ?? null,
    checks: null,
    country: card.country ?? null,
    electronic_commerce_indicator: null,
    exp_month: card.expMonth ?? 0,
    exp_year: card.expYear ?? 0,
    fingerprint: card.fingerprint ?? null,
    funding: card.funding ?? null,
    installments: null,
    last4: card.last4 ?? null,
    mandate: null,
    network: card.brand ?? null,
    network_transaction_id: null,
    regulated_status: null,
    three_d_secure: null,
    transaction_link_id: null,
    wallet: null,
  };
}

/**
 * What of the attempt was given back: a voided authorization in full (Stripe refunds an
 * uncaptured charge when its intent is canceled), an orphan's capture refunded by Payrail in full,
 * otherwise its succeeded refunds.
 */
function amountRefunded({ attempt, refunds }: ChargeView): bigint {
  if (attempt.status === 'voided') return attempt.amount;
  if (attempt.status === 'refunded') return attempt.amountCaptured;
  let total = 0n;
  for (const refund of refunds)
    if (refund.attemptId === attempt.id && refund.status === 'succeeded') total += refund.amount;
  return total;
}

export function presentCharge(view: ChargeView, livemode = testMode): ChargeObject {
  const { intent, attempt, card } = view;
  const id = chargeIdOf(attempt.id);
  const status = chargeStatus(view);
  const refunded = amountRefunded(view);
  const refundable = attempt.amountCaptured > 0n ? attempt.amountCaptured : attempt.amount;
  const refunds = view.refunds.filter((refund) => refund.attemptId === attempt.id).toReversed();
  return {
    id,
    object: 'charge',
    amount: attempt.amount,
    amount_captured: attempt.amountCaptured,
    amount_refunded: refunded,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: view.balanceTransactionId,
    billing_details: {
      address: null,
      email: null,
      name: card?.holderName ?? null,
      phone: null,
      tax_id: null,
    },
    calculated_statement_descriptor: null,
    captured: attempt.amountCaptured > 0n,
    created: unixSeconds(attempt.createdAt),
    customer: intent.customerId,
    currency: attempt.currency,
    description: intent.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: failureCode(view),
    failure_message: attempt.status === 'failed' ? attempt.failureMessage : null,
    fraud_details: {},
    livemode,
    metadata: intent.metadata,
    on_behalf_of: null,
    outcome: outcomeOf(view),
    paid: status === 'succeeded',
    payment_intent: intent.id,
    payment_method: intent.paymentMethodId,
    payment_method_details:
      card === undefined
        ? null
        : { type: 'card', card: cardDetails(card, attempt.amountAuthorized) },
    receipt_email: null,
    receipt_number: null,
    receipt_url: null,
    refunded: refunded > 0n && refunded >= refundable,
    refunds: list(
      refunds.slice(0, chargeRefundsShownMax).map((refund) => presentRefund(refund, livemode)),
      refunds.length > chargeRefundsShownMax,
      `/v1/refunds?charge=${id}`,
    ),
    review: reviewOfAttempt(attempt),
    shipping: null,
    source: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status,
    transfer_data: null,
    transfer_group: null,
    connector: attempt.connector,
  };
}

/** GET the objects' /search (Stripe's search_result). */
export const ChargeSearchResultSchema = searchResultOf(ChargeSchema);
