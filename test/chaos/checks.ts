// The verdict of a chaos run, from three independent records: what the clients were answered
// (2xx only), what Payrail recorded (its database), and what the PSPs did (the simulator's
// ground truth, by our reference = the attempt id). The comparisons are pure functions over
// plain rows, so that they can be tested on hand-made cases.
import type { IntentRecord } from './flows.ts';
import { acknowledgedStatuses } from '../../src/settlement/tables.ts';
import { nextBusinessDay } from '../../sim/money-out/common.ts';
import {
  exceptionKey,
  expectedExceptionOf,
  type ExpectedException,
  type Injected,
} from '../support/reconciliation.ts';

export type IntentRow = {
  id: string;
  merchantId: string;
  ref: string | null;
  status: string;
  amountReceived: number;
  amountRefunded: number;
  amountRefunding: number;
  pendingOperation: string | null;
  declined: boolean;
};
export type AttemptRow = {
  id: string;
  intentId: string;
  connector: string;
  status: string;
  amountCaptured: number;
  abandoned: boolean;
  pspCode: string | null;
};
export type RefundRow = {
  id: string;
  intentId: string;
  attemptId: string;
  amount: number;
  status: string;
};

export type GroundTruthPayment = {
  psp: string;
  paymentId: string;
  reference: string | null;
  authorized: number;
  captured: number;
  refunded: number;
  voided: boolean;
  status: string;
};
export type GroundTruthOperation = {
  psp: string;
  type: string;
  status: string;
  reference: string | null;
  refundReference?: string | null;
  amount: number;
};
export type GroundTruth = { payments: GroundTruthPayment[]; operations: GroundTruthOperation[] };

export type Finding = { readonly kind: string; readonly detail: string };

/** Problems are counted in full and listed up to this many per kind. */
const samplesPerKind = 5;

export class Findings {
  readonly counts = new Map<string, number>();
  readonly samples: Finding[] = [];

  add(kind: string, detail: string): void {
    const count = (this.counts.get(kind) ?? 0) + 1;
    this.counts.set(kind, count);
    if (count <= samplesPerKind) this.samples.push({ kind, detail });
  }

  total(...kinds: string[]): number {
    return kinds.reduce((sum, kind) => sum + (this.counts.get(kind) ?? 0), 0);
  }
}

// ---------------------------------------------------------------------------------------------
// What the clients were answered versus what Payrail has.

/** Kinds counted as `lost`: an acknowledged payment (or refund) missing, or recorded otherwise than answered. */
export const lostKinds = [
  'lost_payment',
  'answer_disagrees',
  'lost_refund',
  'refund_disagrees',
] as const;

export function checkAnswers(
  records: Iterable<IntentRecord>,
  intents: readonly IntentRow[],
  refunds: readonly RefundRow[],
  findings: Findings,
): void {
  const intentsById = new Map(intents.map((intent) => [intent.id, intent]));
  const intentsByRef = new Map<string, IntentRow[]>();
  for (const intent of intents) {
    if (intent.ref === null) continue;
    intentsByRef.set(intent.ref, [...(intentsByRef.get(intent.ref) ?? []), intent]);
  }
  const refundsById = new Map(refunds.map((refund) => [refund.id, refund]));
  for (const record of records) {
    const sameRef = intentsByRef.get(record.ref) ?? [];
    if (sameRef.length > 1)
      findings.add(
        'duplicate_intent',
        `${record.ref}: one create made ${sameRef.length} intents (${sameRef.map((intent) => intent.id).join(', ')})`,
      );
    if (record.id === undefined) {
      // Never answered 2xx. A 402 decline still names a payment that must not have been charged.
      const intent = sameRef[0];
      if (record.declined && intent !== undefined && intent.status !== 'requires_payment_method') {
        findings.add(
          'answer_disagrees',
          `${record.ref} (${intent.id}): answered 402 (declined), recorded ${intent.status}`,
        );
      }
      continue;
    }
    const intent = intentsById.get(record.id);
    if (intent === undefined || intent.ref !== record.ref) {
      findings.add(
        'lost_payment',
        `${record.ref}: answered 2xx as ${record.id}, which Payrail does not have${intent === undefined ? '' : ` under this reference (${intent.ref})`}`,
      );
      continue;
    }
    const answered = record.answered;
    if (answered !== undefined) {
      const problem = answerProblem(answered, intent, record.declined);
      if (problem !== undefined)
        findings.add(
          'answer_disagrees',
          `${record.ref} (${intent.id}, ${record.flow}): ${problem}`,
        );
    }
    for (const [refundId, told] of record.refunds) {
      const refund = refundsById.get(refundId);
      if (refund === undefined || refund.intentId !== intent.id) {
        findings.add(
          'lost_refund',
          `${intent.id}: refund ${refundId} answered 2xx (${told.status}) but not recorded for this payment`,
        );
      } else if (
        refund.amount !== told.amount ||
        (told.status !== 'pending' && refund.status !== told.status)
      ) {
        findings.add(
          'refund_disagrees',
          `${intent.id}: refund ${refundId} answered ${told.status} ${told.amount}, recorded ${refund.status} ${refund.amount}`,
        );
      }
    }
  }
}

function answerProblem(
  answered: NonNullable<IntentRecord['answered']>,
  intent: IntentRow,
  declined: boolean,
): string | undefined {
  switch (answered.status) {
    case 'succeeded':
      if (intent.status !== 'succeeded') return `answered succeeded, recorded ${intent.status}`;
      if (intent.amountReceived !== answered.amountReceived)
        return `answered amount_received ${answered.amountReceived}, recorded ${intent.amountReceived}`;
      return undefined;
    case 'canceled':
      return intent.status === 'canceled'
        ? undefined
        : `answered canceled, recorded ${intent.status}`;
    case 'requires_capture':
      return intent.status === 'succeeded' || intent.status === 'canceled'
        ? undefined
        : `answered requires_capture, recorded ${intent.status}`;
    default:
      if (declined && intent.status !== 'requires_payment_method')
        return `answered 402 (declined), recorded ${intent.status}`;
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// What the PSPs did versus what Payrail recorded, per payment (summed over its attempts).

/** Kinds counted as `double_charges`: the customer paid more than Payrail recorded. */
export const doubleChargeKinds = ['double_charge', 'psp_payment_unknown_to_payrail'] as const;
/** Kinds counted as `mismatches`: any other disagreement between the PSP and Payrail. */
export const mismatchKinds = [
  'duplicate_intent',
  'capture_mismatch',
  'refund_mismatch',
  'missing_capture',
  'refund_unknown_to_payrail',
  'void_not_sent',
  'authorization_left',
] as const;

export function checkMoney(
  intents: readonly IntentRow[],
  attempts: readonly AttemptRow[],
  refunds: readonly RefundRow[],
  truth: GroundTruth,
  findings: Findings,
): void {
  const pspPayments = new Map<string, GroundTruthPayment[]>();
  for (const payment of truth.payments) {
    if (payment.reference === null) continue;
    pspPayments.set(payment.reference, [...(pspPayments.get(payment.reference) ?? []), payment]);
  }
  const attemptsByIntent = new Map<string, AttemptRow[]>();
  for (const attempt of attempts)
    attemptsByIntent.set(attempt.intentId, [
      ...(attemptsByIntent.get(attempt.intentId) ?? []),
      attempt,
    ]);
  const refundsByAttempt = new Map<string, RefundRow[]>();
  for (const refund of refunds)
    refundsByAttempt.set(refund.attemptId, [
      ...(refundsByAttempt.get(refund.attemptId) ?? []),
      refund,
    ]);

  for (const intent of intents) {
    let pspNet = 0;
    const charged: string[] = [];
    for (const attempt of attemptsByIntent.get(intent.id) ?? []) {
      const psp = pspPayments.get(attempt.id) ?? [];
      if (psp.filter((payment) => payment.authorized > 0).length > 1)
        findings.add(
          'double_charge',
          `${intent.id}: attempt ${attempt.id} has ${psp.length} payments at ${attempt.connector}`,
        );
      const pspCaptured = psp.reduce((sum, payment) => sum + payment.captured, 0);
      const pspRefunded = psp.reduce((sum, payment) => sum + payment.refunded, 0);
      const recordedCaptured =
        attempt.status === 'captured' || attempt.status === 'refunded' ? attempt.amountCaptured : 0;
      const recordedRefunded =
        attempt.status === 'refunded'
          ? attempt.amountCaptured
          : (refundsByAttempt.get(attempt.id) ?? [])
              .filter((refund) => refund.status === 'succeeded')
              .reduce((sum, refund) => sum + refund.amount, 0);
      if (pspCaptured !== recordedCaptured)
        findings.add(
          'capture_mismatch',
          `${intent.id}: attempt ${attempt.id} (${attempt.connector}, ${attempt.status}${attempt.abandoned ? ', abandoned' : ''}) captured ${pspCaptured} at the PSP, ${recordedCaptured} recorded`,
        );
      if (pspRefunded !== recordedRefunded)
        findings.add(
          'refund_mismatch',
          `${intent.id}: attempt ${attempt.id} (${attempt.connector}) refunded ${pspRefunded} at the PSP, ${recordedRefunded} recorded`,
        );
      if (attempt.status === 'authorized') {
        findings.add(
          'authorization_left',
          `${intent.id} (${intent.status}): attempt ${attempt.id} (${attempt.connector}) is still authorized (${psp.map((payment) => payment.status).join(', ') || 'no payment'} at the PSP): the customer's funds stay held`,
        );
      }
      if (
        attempt.status === 'voided' &&
        attempt.pspCode !== 'released_by_psp' &&
        psp.some((payment) => payment.status === 'authorized')
      ) {
        findings.add(
          'void_not_sent',
          `${intent.id}: attempt ${attempt.id} (${attempt.connector}) recorded voided, still authorized at the PSP`,
        );
      }
      pspNet += pspCaptured - pspRefunded;
      if (pspCaptured - pspRefunded > 0) charged.push(attempt.id);
    }
    const recordedNet = intent.amountReceived - intent.amountRefunded;
    if (pspNet > recordedNet || charged.length > 1) {
      findings.add(
        'double_charge',
        `${intent.id}: the PSPs hold ${pspNet} net (attempts ${charged.join(', ')}), Payrail recorded ${recordedNet}`,
      );
    } else if (pspNet < recordedNet) {
      findings.add(
        'missing_capture',
        `${intent.id}: the PSPs hold ${pspNet} net, Payrail recorded ${recordedNet}`,
      );
    }
  }
  checkRefundOperations(attempts, refunds, truth, pspPayments, findings);
}

function checkRefundOperations(
  attempts: readonly AttemptRow[],
  refunds: readonly RefundRow[],
  truth: GroundTruth,
  pspPayments: ReadonlyMap<string, GroundTruthPayment[]>,
  findings: Findings,
): void {
  const operationsByRefund = new Map<string, GroundTruthOperation[]>();
  for (const operation of truth.operations) {
    if (
      operation.type !== 'refund' ||
      operation.status !== 'succeeded' ||
      operation.refundReference === undefined ||
      operation.refundReference === null
    )
      continue;
    operationsByRefund.set(operation.refundReference, [
      ...(operationsByRefund.get(operation.refundReference) ?? []),
      operation,
    ]);
  }
  const known = new Set([
    ...refunds.map((refund) => refund.id),
    ...attempts.map((attempt) => `orphan_${attempt.id}`),
  ]);
  for (const refund of refunds) {
    const operations = operationsByRefund.get(refund.id) ?? [];
    const expected = refund.status === 'succeeded' ? 1 : 0;
    if (
      operations.length !== expected ||
      operations.some((operation) => operation.amount !== refund.amount)
    ) {
      findings.add(
        'refund_mismatch',
        `refund ${refund.id} of ${refund.intentId} is ${refund.status} (${refund.amount}); the PSP made ${operations.length} refund(s) for it (${operations.map((operation) => operation.amount).join(', ')})`,
      );
    }
  }
  for (const [reference, operations] of operationsByRefund) {
    if (!known.has(reference))
      findings.add(
        'refund_unknown_to_payrail',
        `the PSP refunded ${operations.map((operation) => operation.amount).join(', ')} under reference ${reference}, which Payrail does not know`,
      );
  }
  const attemptIds = new Set(attempts.map((attempt) => attempt.id));
  for (const [reference, payments] of pspPayments) {
    if (attemptIds.has(reference)) continue;
    const net = payments.reduce((sum, payment) => sum + payment.captured - payment.refunded, 0);
    if (net > 0)
      findings.add(
        'psp_payment_unknown_to_payrail',
        `the PSP holds ${net} for reference ${reference}, which is no attempt of Payrail`,
      );
  }
}

// ---------------------------------------------------------------------------------------------
// Nothing left half-done.

export function checkTerminal(
  intents: readonly IntentRow[],
  attempts: readonly AttemptRow[],
  refunds: readonly RefundRow[],
  findings: Findings,
): void {
  const unresolvedAttempts = new Set(
    attempts
      .filter((attempt) => attempt.status === 'pending' || attempt.status === 'unknown')
      .map((attempt) => attempt.intentId),
  );
  const pendingRefunds = new Set(
    refunds.filter((refund) => refund.status === 'pending').map((refund) => refund.intentId),
  );
  for (const intent of intents) {
    const terminal =
      intent.status === 'succeeded' ||
      intent.status === 'canceled' ||
      (intent.status === 'requires_payment_method' && intent.declined);
    const reasons = [
      terminal ? undefined : intent.status,
      unresolvedAttempts.has(intent.id) ? 'an attempt pending or unknown' : undefined,
      pendingRefunds.has(intent.id) ? 'a refund pending' : undefined,
      intent.pendingOperation === null
        ? undefined
        : `operation ${intent.pendingOperation} in flight`,
      intent.amountRefunding === 0 ? undefined : `${intent.amountRefunding} refunding`,
    ].filter((reason) => reason !== undefined);
    if (reasons.length > 0) findings.add('non_terminal', `${intent.id}: ${reasons.join(', ')}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Webhooks: every event Payrail has for a merchant was received with a valid signature.

export function missingEvents(
  eventIds: readonly string[],
  received: ReadonlySet<string>,
): string[] {
  return eventIds.filter((id) => !received.has(id));
}

// ---------------------------------------------------------------------------------------------
// Money out (issue 11): the acquirer's and the bank's ground truth (the simulator's
// `/_sim/ground_truth/money_out`) against Payrail's batches, items, payouts and ledger.

export type AcquirerTruthBatch = {
  batch_id: string;
  connector: string;
  currency: string;
  cutoff_at?: string;
  executions: number;
  submissions: number;
  item_count: number;
  accepted_count: number;
  rejected_count: number;
  accepted_amount: number;
  items?: { item_id: string; psp_reference: string; result: string; reason_code?: string }[];
};
export type BankTruthPayout = {
  payout_id: string;
  executions: number;
  requests: number;
  amount: number;
  currency: string;
  status: 'paid' | 'rejected' | 'returned';
  trace_id: string | null;
  returned_on: string | null;
};
/** A PSP's settlement as the bank booked it (one entry, or two when split). */
export type BankTruthCredit = {
  settlement_reference: string;
  connector: string;
  batch_id: string;
  currency: string;
  amount: number;
  entries: { entry_reference: string; amount: number; booked_on: string }[];
};
export type MoneyOutTruth = {
  acquirer: { batches: Record<string, AcquirerTruthBatch> };
  bank: { payouts: Record<string, BankTruthPayout>; credits?: BankTruthCredit[] };
};

export type BatchRow = {
  id: string;
  connector: string;
  currency: string;
  status: string;
  itemCount: number;
  acceptedCount: number;
  acceptedAmount: number;
};
/** An item (charge or refund) whose clearing is not final (neither accepted nor an exception). */
export type UnsettledItemRow = { id: string; batchId: string | null; clearingStatus: string };
export type PayoutRow = {
  id: string;
  merchantId: string;
  currency: string;
  amount: number;
  status: string;
  sendAttempts: number;
  /** The amounts of the payout's ledger transactions (0 when there is none). */
  ledger: { created: number; paid: number; failed: number; returned: number; canceled: number };
};
export type MoneyOutRows = {
  batches: readonly BatchRow[];
  unsettledItems: readonly UnsettledItemRow[];
  payouts: readonly PayoutRow[];
  /** What src/payouts/verify.ts found (allocations, ledger transfers of each payout, in transit). */
  payoutProblems: readonly string[];
};

/** Kinds counted as `double_submissions`: the acquirer cleared a batch or an item twice. */
export const doubleSubmissionKinds = [
  'batch_executed_twice',
  'item_accepted_twice',
  'batch_unknown_to_payrail',
] as const;
/** Kinds counted as `double_payouts`: the bank executed a payout twice or one Payrail never made. */
export const doublePayoutKinds = ['payout_executed_twice', 'payout_unknown_to_payrail'] as const;
/** Kinds counted as `payout_mismatches`: the bank's outcome and the ledger's disagree. */
export const payoutMismatchKinds = [
  'payout_mismatch',
  'payout_total_mismatch',
  'payouts_verify',
] as const;
/** Kinds counted as `money_out_lost`: work left unfinished once the pipeline has run its course. */
export const moneyOutLostKinds = [
  'batch_unfinished',
  'batch_mismatch',
  'item_unsettled',
  'payout_unfinished',
] as const;

const finishedBatchStatuses: ReadonlySet<string> = new Set(acknowledgedStatuses);

export function checkSettlement(
  truth: MoneyOutTruth,
  rows: Pick<MoneyOutRows, 'batches' | 'unsettledItems'>,
  findings: Findings,
): void {
  const ours = new Map(rows.batches.map((batch) => [batch.id, batch]));
  const acceptedTimes = new Map<string, string[]>();
  for (const batch of Object.values(truth.acquirer.batches)) {
    if (batch.executions !== 1)
      findings.add(
        'batch_executed_twice',
        `batch ${batch.batch_id} (${batch.connector} ${batch.currency}) was executed ${batch.executions} times by the acquirer`,
      );
    if (!ours.has(batch.batch_id))
      findings.add(
        'batch_unknown_to_payrail',
        `the acquirer cleared batch ${batch.batch_id} (${batch.item_count} items), which Payrail does not have`,
      );
    for (const item of batch.items ?? []) {
      if (item.result === 'accepted')
        acceptedTimes.set(item.item_id, [
          ...(acceptedTimes.get(item.item_id) ?? []),
          batch.batch_id,
        ]);
      else if (item.reason_code === 'duplicate')
        findings.add(
          'item_accepted_twice',
          `item ${item.item_id} (${item.psp_reference}) in batch ${batch.batch_id} was rejected as a duplicate: its capture or refund was presented before`,
        );
    }
  }
  for (const [itemId, batches] of acceptedTimes)
    if (batches.length > 1)
      findings.add('item_accepted_twice', `item ${itemId} was accepted in ${batches.join(', ')}`);
  for (const batch of rows.batches) {
    const cleared = truth.acquirer.batches[batch.id];
    if (!finishedBatchStatuses.has(batch.status)) {
      findings.add(
        'batch_unfinished',
        `batch ${batch.id} (${batch.connector} ${batch.currency}, ${batch.itemCount} items) is still ${batch.status}${cleared === undefined ? '' : `; the acquirer cleared it`}`,
      );
    } else if (
      cleared === undefined ||
      cleared.item_count !== batch.itemCount ||
      cleared.accepted_count !== batch.acceptedCount ||
      cleared.accepted_amount !== batch.acceptedAmount
    ) {
      findings.add(
        'batch_mismatch',
        `batch ${batch.id} is ${batch.status} with ${batch.acceptedCount}/${batch.itemCount} accepted (${batch.acceptedAmount}); the acquirer has ${cleared === undefined ? 'no such batch' : `${cleared.accepted_count}/${cleared.item_count} (${cleared.accepted_amount})`}`,
      );
    }
  }
  for (const item of rows.unsettledItems)
    findings.add(
      'item_unsettled',
      `item ${item.id} is ${item.clearingStatus}${item.batchId === null ? '' : ` in batch ${item.batchId}`}: neither accepted nor an exception`,
    );
}

/** What the payout's ledger transactions must be for the bank's outcome (undefined: they are). */
function payoutProblem(payout: PayoutRow, bank: BankTruthPayout | undefined): string | undefined {
  const { ledger, amount } = payout;
  const expect = (
    status: string,
    paid: number,
    failed: number,
    returned: number,
    canceled: number,
  ) =>
    payout.status === status &&
    ledger.created === amount &&
    ledger.paid === paid &&
    ledger.failed === failed &&
    ledger.returned === returned &&
    ledger.canceled === canceled;
  if (bank === undefined) {
    if (payout.status === 'canceled' && expect('canceled', 0, 0, 0, amount)) return undefined;
    if (
      payout.status === 'pending' ||
      payout.status === 'canceled' ||
      payout.status === 'in_transit'
    )
      return undefined; // unfinished (counted apart) or never sent
    return `Payrail has it ${payout.status}, the bank never executed it`;
  }
  if (bank.amount !== amount || bank.currency !== payout.currency)
    return `the bank executed ${bank.amount} ${bank.currency}, Payrail's payout is ${amount} ${payout.currency}`;
  if (payout.status === 'pending' || payout.status === 'in_transit') return undefined;
  const ok =
    bank.status === 'paid'
      ? expect('paid', amount, 0, 0, 0)
      : bank.status === 'rejected'
        ? expect('failed', 0, amount, 0, 0)
        : expect('failed', amount, 0, amount, 0);
  return ok
    ? undefined
    : `the bank has it ${bank.status}; Payrail has it ${payout.status} with ledger ${JSON.stringify(ledger)}`;
}

export function checkPayouts(
  truth: MoneyOutTruth,
  rows: Pick<MoneyOutRows, 'payouts' | 'payoutProblems'>,
  findings: Findings,
): void {
  const ours = new Map(rows.payouts.map((payout) => [payout.id, payout]));
  const bankPaid = new Map<string, number>();
  for (const bank of Object.values(truth.bank.payouts)) {
    if (bank.executions !== 1)
      findings.add(
        'payout_executed_twice',
        `payout ${bank.payout_id} (${bank.amount} ${bank.currency}) was executed ${bank.executions} times by the bank`,
      );
    if (!ours.has(bank.payout_id))
      findings.add(
        'payout_unknown_to_payrail',
        `the bank executed payout ${bank.payout_id} (${bank.amount} ${bank.currency}, ${bank.status}), which Payrail does not have`,
      );
    if (bank.status === 'paid')
      bankPaid.set(bank.currency, (bankPaid.get(bank.currency) ?? 0) + bank.amount);
  }
  const ledgerPaid = new Map<string, number>();
  for (const payout of rows.payouts) {
    const bank = truth.bank.payouts[payout.id];
    if (payout.status === 'pending' || payout.status === 'in_transit')
      findings.add(
        'payout_unfinished',
        `payout ${payout.id} (${payout.amount} ${payout.currency}) is still ${payout.status} after ${payout.sendAttempts} send(s)${bank === undefined ? '' : `; the bank has it ${bank.status}`}`,
      );
    const problem = payoutProblem(payout, bank);
    if (problem !== undefined) findings.add('payout_mismatch', `payout ${payout.id}: ${problem}`);
    ledgerPaid.set(
      payout.currency,
      (ledgerPaid.get(payout.currency) ?? 0) + payout.ledger.paid - payout.ledger.returned,
    );
  }
  for (const currency of new Set([...bankPaid.keys(), ...ledgerPaid.keys()])) {
    const bank = bankPaid.get(currency) ?? 0;
    const ledger = ledgerPaid.get(currency) ?? 0;
    if (bank !== ledger)
      findings.add(
        'payout_total_mismatch',
        `${currency}: the bank paid out ${bank} (net of returns), the ledger says ${ledger}`,
      );
  }
  for (const problem of rows.payoutProblems) findings.add('payouts_verify', problem);
}

export function checkMoneyOut(truth: MoneyOutTruth, rows: MoneyOutRows, findings: Findings): void {
  checkSettlement(truth, rows, findings);
  checkPayouts(truth, rows, findings);
}

// ---------------------------------------------------------------------------------------------
// Reconciliation (issue 12): the exceptions a run raised against what the simulator says made a
// difference: the discrepancies its seeding injected (`/_sim/ground_truth/reconciliation`) and the
// settlement credits its bank booked late by the `lateRate` fault, which that list leaves out
// (they are in `/_sim/ground_truth/money_out`). Compared as `<reason> <subject>` (see
// test/support/reconciliation.ts), as multisets.

/** An exception the run must raise, with what in the simulator's record calls for it. */
export type ReconExpected = ExpectedException & { readonly why: string };
/** An open exception of the run, with its subject. */
export type ReconRaised = ExpectedException & { readonly id: string };

/** Kinds: an expected exception the run did not raise (recall), one it raised that nothing calls for (precision). */
export const reconciliationKinds = ['recon_missed', 'recon_unexpected'] as const;

/**
 * Settlement credits the bank booked after the settlement day (the business day after the
 * batch's cutoff date, as the simulator's bank books them): the `lateRate` fault's, which
 * reconciliation rightly raises as `late` on the batch's expectation (`batch:<id>`).
 */
export function lateCredits(truth: MoneyOutTruth): ReconExpected[] {
  const late: ReconExpected[] = [];
  for (const credit of truth.bank.credits ?? []) {
    const cutoff = truth.acquirer.batches[credit.batch_id]?.cutoff_at;
    if (cutoff === undefined || credit.entries.length === 0) continue;
    const due = nextBusinessDay(cutoff.slice(0, 10));
    const booked = credit.entries.map((entry) => entry.booked_on).sort();
    const last = booked.at(-1) as string;
    if (last > due)
      late.push({
        reason: 'late',
        subject: `batch:${credit.batch_id}`,
        why: `bank lateRate: ${credit.connector} ${credit.currency} settlement due ${due}, booked ${last}`,
      });
  }
  return late;
}

/** What the run must raise: one exception per injected discrepancy (none for a split), and the late credits. */
export function expectedReconciliation(
  injected: readonly Injected[],
  truth: MoneyOutTruth,
): ReconExpected[] {
  const seeded = injected.flatMap((entry) => {
    const expected = expectedExceptionOf(entry);
    if (expected === undefined) return [];
    const cause = typeof entry.details.cause === 'string' ? `, ${entry.details.cause}` : '';
    return [
      {
        ...expected,
        why: `${entry.kind} (${entry.connector ?? 'bank'} ${entry.currency}${cause})`,
      },
    ];
  });
  return [...seeded, ...lateCredits(truth)];
}

export type ReconScore = {
  expected: number;
  raised: number;
  missed: number;
  unexpected: number;
  /** Found of expected (1 when nothing was expected). */
  recall: number;
  /** Expected of raised (1 when nothing was raised). */
  precision: number;
};

/** Each expected exception must be raised once, and nothing else: recall and precision 100 %. */
export function checkReconciliation(
  expected: readonly ReconExpected[],
  raised: readonly ReconRaised[],
  findings: Findings,
): ReconScore {
  const open = new Map<string, ReconRaised[]>();
  for (const exception of raised) {
    const key = exceptionKey(exception);
    open.set(key, [...(open.get(key) ?? []), exception]);
  }
  let missed = 0;
  for (const wanted of expected) {
    const key = exceptionKey(wanted);
    const candidates = open.get(key) ?? [];
    if (candidates.length > 0) {
      candidates.shift();
      continue;
    }
    missed++;
    findings.add('recon_missed', `no ${key} exception for the ${wanted.why}`);
  }
  let unexpected = 0;
  for (const left of open.values())
    for (const exception of left) {
      unexpected++;
      findings.add(
        'recon_unexpected',
        `${exception.id}: ${exceptionKey(exception)}, which nothing injected or faulted calls for`,
      );
    }
  const ratio = (part: number, whole: number) => (whole === 0 ? 1 : part / whole);
  return {
    expected: expected.length,
    raised: raised.length,
    missed,
    unexpected,
    recall: ratio(expected.length - missed, expected.length),
    precision: ratio(raised.length - unexpected, raised.length),
  };
}
