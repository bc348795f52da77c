// The chaos run's checks on hand-made cases, so that a passing run means something: each kind of
// disagreement between the answers, Payrail's records and the PSPs' ground truth is found.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  checkAnswers,
  checkMoney,
  checkMoneyOut,
  checkReconciliation,
  checkTerminal,
  expectedReconciliation,
  Findings,
  lateCredits,
  type MoneyOutRows,
  type MoneyOutTruth,
  type PayoutRow,
  type AttemptRow,
  type GroundTruth,
  type IntentRow,
  type RefundRow,
} from './checks.ts';
import type { IntentRecord } from './flows.ts';
import type { Injected } from '../support/reconciliation.ts';

const intent = (overrides: Partial<IntentRow> = {}): IntentRow => ({
  id: 'pi_1',
  merchantId: 'm',
  ref: 'c0-1',
  status: 'succeeded',
  amountReceived: 1_000,
  amountRefunded: 0,
  amountRefunding: 0,
  pendingOperation: null,
  declined: false,
  ...overrides,
});
const attempt = (overrides: Partial<AttemptRow> = {}): AttemptRow => ({
  id: 'pa_1',
  intentId: 'pi_1',
  connector: 'stripe',
  status: 'captured',
  amountCaptured: 1_000,
  abandoned: false,
  pspCode: null,
  ...overrides,
});
const pspPayment = (reference: string, captured: number, refunded = 0, status = 'captured') => ({
  psp: 'stripe',
  paymentId: `pi_psp_${reference}`,
  reference,
  authorized: 1_000,
  captured,
  refunded,
  voided: false,
  status,
});
const refundOperation = (reference: string, refundReference: string, amount: number) => ({
  psp: 'stripe',
  type: 'refund',
  status: 'succeeded',
  reference,
  refundReference,
  amount,
});

function money(
  intents: IntentRow[],
  attempts: AttemptRow[],
  refunds: RefundRow[],
  truth: GroundTruth,
): Map<string, number> {
  const findings = new Findings();
  checkMoney(intents, attempts, refunds, truth, findings);
  return findings.counts;
}

describe('checkMoney', () => {
  test('agreement is no finding', () => {
    const refunds = [
      { id: 're_1', intentId: 'pi_1', attemptId: 'pa_1', amount: 400, status: 'succeeded' },
    ];
    const counts = money([intent({ amountRefunded: 400 })], [attempt()], refunds, {
      payments: [pspPayment('pa_1', 1_000, 400)],
      operations: [refundOperation('pa_1', 're_1', 400)],
    });
    assert.deepEqual([...counts], []);
  });

  test('two attempts of one payment both captured is a double charge', () => {
    const attempts = [
      attempt({ status: 'unknown', amountCaptured: 0, abandoned: true }),
      attempt({ id: 'pa_2' }),
    ];
    const counts = money([intent()], attempts, [], {
      payments: [pspPayment('pa_1', 1_000), pspPayment('pa_2', 1_000)],
      operations: [],
    });
    assert.equal(counts.get('double_charge'), 1);
  });

  test('an abandoned attempt captured and refunded in full is no double charge', () => {
    const attempts = [attempt({ status: 'refunded', abandoned: true }), attempt({ id: 'pa_2' })];
    const truth = {
      payments: [pspPayment('pa_1', 1_000, 1_000), pspPayment('pa_2', 1_000)],
      operations: [refundOperation('pa_1', 'orphan_pa_1', 1_000)],
    };
    assert.deepEqual([...money([intent()], attempts, [], truth)], []);
  });

  test('captured at the PSP but not recorded, recorded but not captured, a refund made twice, money under an unknown reference', () => {
    assert.ok(
      (money(
        [intent({ status: 'canceled', amountReceived: 0 })],
        [attempt({ status: 'voided', amountCaptured: 0 })],
        [],
        { payments: [pspPayment('pa_1', 1_000)], operations: [] },
      ).get('double_charge') ?? 0) > 0,
    );
    assert.equal(
      money([intent()], [attempt()], [], {
        payments: [pspPayment('pa_1', 0, 0, 'authorized')],
        operations: [],
      }).get('missing_capture'),
      1,
    );
    const refunds = [
      { id: 're_1', intentId: 'pi_1', attemptId: 'pa_1', amount: 400, status: 'succeeded' },
    ];
    const twice = money([intent({ amountRefunded: 400 })], [attempt()], refunds, {
      payments: [pspPayment('pa_1', 1_000, 800)],
      operations: [refundOperation('pa_1', 're_1', 400), refundOperation('pa_1', 're_1', 400)],
    });
    assert.ok((twice.get('refund_mismatch') ?? 0) >= 2);
    assert.equal(
      money([], [], [], { payments: [pspPayment('pa_x', 1_000)], operations: [] }).get(
        'psp_payment_unknown_to_payrail',
      ),
      1,
    );
  });

  test('an authorization left on a finished payment is found', () => {
    const attempts = [
      attempt({ status: 'authorized', amountCaptured: 0 }),
      attempt({ id: 'pa_2' }),
    ];
    const counts = money([intent()], attempts, [], {
      payments: [pspPayment('pa_1', 0, 0, 'authorized'), pspPayment('pa_2', 1_000)],
      operations: [],
    });
    assert.equal(counts.get('authorization_left'), 1);
  });
});

describe('checkAnswers and checkTerminal', () => {
  const record = (overrides: Partial<IntentRecord> = {}): IntentRecord => ({
    ref: 'c0-1',
    merchant: 0,
    flow: 'auto',
    connector: 'stripe',
    intended: 'capture',
    id: 'pi_1',
    answered: { status: 'succeeded', amountReceived: 1_000, amountRefunded: 0 },
    declined: false,
    refunds: new Map(),
    ...overrides,
  });

  test('a 2xx answer whose payment is missing, or recorded otherwise, is lost; a second intent for one create is found', () => {
    const findings = new Findings();
    checkAnswers(
      [
        record(),
        record({ ref: 'c0-2', id: 'pi_2' }),
        record({
          ref: 'c0-3',
          id: 'pi_3',
          refunds: new Map([['re_9', { amount: 5, status: 'succeeded' }]]),
        }),
      ],
      [
        intent({ id: 'pi_1', status: 'canceled' }),
        intent({ id: 'pi_3', ref: 'c0-3' }),
        intent({ id: 'pi_4', ref: 'c0-3' }),
      ],
      [],
      findings,
    );
    assert.equal(findings.counts.get('answer_disagrees'), 1);
    assert.equal(findings.counts.get('lost_payment'), 1);
    assert.equal(findings.counts.get('lost_refund'), 1);
    assert.equal(findings.counts.get('duplicate_intent'), 1);
  });

  test('processing, an unresolved attempt, a pending refund or an undeclined requires_payment_method are not terminal', () => {
    const findings = new Findings();
    checkTerminal(
      [
        intent({ id: 'a', status: 'processing' }),
        intent({ id: 'b' }),
        intent({ id: 'c' }),
        intent({ id: 'd', status: 'requires_payment_method' }),
        intent({ id: 'e', status: 'requires_payment_method', declined: true }),
      ],
      [attempt({ intentId: 'b', status: 'unknown' })],
      [{ id: 're_1', intentId: 'c', attemptId: 'pa_1', amount: 1, status: 'pending' }],
      findings,
    );
    assert.equal(findings.counts.get('non_terminal'), 4);
  });
});

describe('money-out checks (acquirer and bank ground truth against Payrail)', () => {
  const acquirerBatch = (
    overrides: Partial<MoneyOutTruth['acquirer']['batches'][string]> = {},
  ) => ({
    batch_id: 'sb_00000001',
    connector: 'stripe',
    currency: 'usd',
    executions: 1,
    submissions: 1,
    item_count: 2,
    accepted_count: 2,
    rejected_count: 0,
    accepted_amount: 1_500,
    items: [
      { item_id: 'txn_a', psp_reference: 'pi_a', result: 'accepted' },
      { item_id: 'txn_b', psp_reference: 'pi_b', result: 'accepted' },
    ],
    ...overrides,
  });
  const bankPayout = (overrides: Partial<MoneyOutTruth['bank']['payouts'][string]> = {}) => ({
    payout_id: 'po_00000001',
    executions: 1,
    requests: 1,
    amount: 1_000,
    currency: 'usd',
    status: 'paid' as const,
    trace_id: '000000000000001',
    returned_on: null,
    ...overrides,
  });
  const payout = (overrides: Partial<PayoutRow> = {}): PayoutRow => ({
    id: 'po_00000001',
    merchantId: 'm',
    currency: 'usd',
    amount: 1_000,
    status: 'paid',
    sendAttempts: 1,
    ledger: { created: 1_000, paid: 1_000, failed: 0, returned: 0, canceled: 0 },
    ...overrides,
  });
  const truth = (
    batches = [acquirerBatch()],
    payouts: ReturnType<typeof bankPayout>[] = [bankPayout()],
  ): MoneyOutTruth => ({
    acquirer: { batches: Object.fromEntries(batches.map((batch) => [batch.batch_id, batch])) },
    bank: { payouts: Object.fromEntries(payouts.map((one) => [one.payout_id, one])) },
  });
  const rows = (overrides: Partial<MoneyOutRows> = {}): MoneyOutRows => ({
    batches: [
      {
        id: 'sb_00000001',
        connector: 'stripe',
        currency: 'usd',
        status: 'acknowledged',
        itemCount: 2,
        acceptedCount: 2,
        acceptedAmount: 1_500,
      },
    ],
    unsettledItems: [],
    payouts: [payout()],
    payoutProblems: [],
    ...overrides,
  });
  const found = (groundTruth: MoneyOutTruth, payrail: MoneyOutRows) => {
    const findings = new Findings();
    checkMoneyOut(groundTruth, payrail, findings);
    return Object.fromEntries(findings.counts);
  };

  test('a batch cleared once and a payout paid once, as the ledger says: nothing found', () => {
    assert.deepEqual(found(truth(), rows()), {});
    // A rejected payout failed with its reversal, a returned one with its return.
    assert.deepEqual(
      found(
        truth(
          [acquirerBatch()],
          [
            bankPayout({ status: 'rejected', trace_id: null }),
            bankPayout({ payout_id: 'po_00000002', status: 'returned' }),
          ],
        ),
        rows({
          payouts: [
            payout({
              status: 'failed',
              ledger: { created: 1_000, paid: 0, failed: 1_000, returned: 0, canceled: 0 },
            }),
            payout({
              id: 'po_00000002',
              status: 'failed',
              ledger: { created: 1_000, paid: 1_000, failed: 0, returned: 1_000, canceled: 0 },
            }),
          ],
        }),
      ),
      {},
    );
  });

  test('a batch executed twice, an item presented twice, a batch Payrail does not have', () => {
    assert.deepEqual(
      found(
        truth([
          acquirerBatch({ executions: 2 }),
          acquirerBatch({
            batch_id: 'sb_00000002',
            item_count: 1,
            accepted_count: 0,
            rejected_count: 1,
            items: [
              {
                item_id: 'txn_a2',
                psp_reference: 'pi_a',
                result: 'rejected',
                reason_code: 'duplicate',
              },
            ],
          }),
        ]),
        rows(),
      ),
      { batch_executed_twice: 1, batch_unknown_to_payrail: 1, item_accepted_twice: 1 },
    );
  });

  test('a payout executed twice, one Payrail never made, and totals that disagree', () => {
    assert.deepEqual(
      found(
        truth(undefined, [
          bankPayout({ executions: 2 }),
          bankPayout({ payout_id: 'po_00000009', amount: 5 }),
        ]),
        rows(),
      ),
      { payout_executed_twice: 1, payout_unknown_to_payrail: 1, payout_total_mismatch: 1 },
    );
  });

  test("the bank's outcome and the ledger's disagree", () => {
    // Paid at the bank, failed in Payrail with a reversal: the merchant is paid twice.
    assert.deepEqual(
      found(
        truth(),
        rows({
          payouts: [
            payout({
              status: 'failed',
              ledger: { created: 1_000, paid: 0, failed: 1_000, returned: 0, canceled: 0 },
            }),
          ],
        }),
      ),
      { payout_mismatch: 1, payout_total_mismatch: 1 },
    );
    // Another amount at the bank.
    assert.deepEqual(found(truth(undefined, [bankPayout({ amount: 999 })]), rows()), {
      payout_mismatch: 1,
      payout_total_mismatch: 1,
    });
    // Paid in Payrail, never executed by the bank.
    assert.deepEqual(found(truth(undefined, []), rows()), {
      payout_mismatch: 1,
      payout_total_mismatch: 1,
    });
    // What verifyPayouts found counts too.
    assert.deepEqual(found(truth(), rows({ payoutProblems: ['in_transit_balance usd: 5'] })), {
      payouts_verify: 1,
    });
  });

  test('work left unfinished: a batch in flight or disagreeing, an item unsettled, a payout in transit', () => {
    assert.deepEqual(
      found(
        truth([acquirerBatch({ accepted_count: 1 })]),
        rows({
          batches: [
            {
              id: 'sb_00000001',
              connector: 'stripe',
              currency: 'usd',
              status: 'acknowledged',
              itemCount: 2,
              acceptedCount: 2,
              acceptedAmount: 1_500,
            },
            {
              id: 'sb_00000003',
              connector: 'stripe',
              currency: 'usd',
              status: 'submitted',
              itemCount: 1,
              acceptedCount: 0,
              acceptedAmount: 0,
            },
          ],
          unsettledItems: [{ id: 'txn_c', batchId: 'sb_00000003', clearingStatus: 'batched' }],
          payouts: [
            payout({
              status: 'in_transit',
              ledger: { created: 1_000, paid: 0, failed: 0, returned: 0, canceled: 0 },
            }),
          ],
        }),
      ),
      {
        batch_mismatch: 1,
        batch_unfinished: 1,
        item_unsettled: 1,
        payout_unfinished: 1,
        payout_total_mismatch: 1,
      },
    );
  });
});

describe('the reconciliation check (injected discrepancies against the open exceptions)', () => {
  const line = (
    kind: Injected['kind'],
    reference: string,
    details: Record<string, unknown> = {},
  ): Injected => ({
    kind,
    connector: 'stripe',
    currency: 'usd',
    subject: { psp_reference: reference, batch_id: 'sb_1', settlement_reference: 'po_1' },
    details,
  });
  const injected: Injected[] = [
    line('missing_line', 'pi_missing'),
    line('unexpected_line', 'pi_unexpected'),
    line('duplicate_line', 'pi_duplicate'),
    line('fee_variance', 'pi_fee'),
    line('amount_off_by_one', 'pi_amount'),
    line('late_line', 'pi_late', { reported_in: { batch_id: 'sb_2' } }),
    // No later report of its PSP and currency carried it: by the run, it is missing.
    line('late_line', 'pi_never', { reported_in: null }),
    {
      kind: 'split_settlement',
      connector: 'stripe',
      currency: 'usd',
      subject: { batch_id: 'sb_1', settlement_reference: 'po_1' },
      details: { cause: 'bank_fault' },
    },
    {
      kind: 'payout_returned',
      connector: null,
      currency: 'gbp',
      subject: { payout_id: 'po_9' },
      details: { cause: 'account' },
    },
  ];
  const credit = (batch: string, cutoff: string, bookedOn: string[]) => ({
    acquirer: {
      batch_id: batch,
      connector: 'stripe',
      currency: 'usd',
      cutoff_at: cutoff,
      executions: 1,
      submissions: 1,
      item_count: 1,
      accepted_count: 1,
      rejected_count: 0,
      accepted_amount: 1_000,
    },
    credit: {
      settlement_reference: `ref_${batch}`,
      connector: 'stripe',
      batch_id: batch,
      currency: 'usd',
      amount: 1_000,
      entries: bookedOn.map((day, index) => ({
        entry_reference: `e${index}`,
        amount: 1_000 / bookedOn.length,
        booked_on: day,
      })),
    },
  });
  const truthOf = (credits: ReturnType<typeof credit>[]): MoneyOutTruth => ({
    acquirer: {
      batches: Object.fromEntries(credits.map((one) => [one.acquirer.batch_id, one.acquirer])),
    },
    bank: { payouts: {}, credits: credits.map((one) => one.credit) },
  });
  // Thursday's batch settles on Friday, Friday's on Monday.
  const onTime = credit('sb_1', '2026-12-10T18:00:00.000Z', ['2026-12-11']);
  const splitOnTime = credit('sb_2', '2026-12-11T18:00:00.000Z', ['2026-12-14', '2026-12-14']);
  const lateAfterWeekend = credit('sb_3', '2026-12-11T18:00:00.000Z', ['2026-12-15']);
  const raised = [
    ['missing', 'psp:pi_missing'],
    ['unexpected', 'psp:pi_unexpected'],
    ['duplicate', 'psp:pi_duplicate'],
    ['fee_variance', 'psp:pi_fee'],
    ['amount_mismatch', 'psp:pi_amount'],
    ['late', 'psp:pi_late'],
    ['missing', 'psp:pi_never'],
    ['returned', 'payout:po_9'],
    ['late', 'batch:sb_3'],
  ].map(([reason, subject], index) => ({
    id: `rex_${index}`,
    reason: String(reason),
    subject: String(subject),
  }));
  const score = (
    expectedRaised: typeof raised,
    credits = [onTime, splitOnTime, lateAfterWeekend],
  ) => {
    const findings = new Findings();
    const result = checkReconciliation(
      expectedReconciliation(injected, truthOf(credits)),
      expectedRaised,
      findings,
    );
    return { ...result, counts: Object.fromEntries(findings.counts) };
  };

  test('a settlement credit booked after its settlement day (the business day after the cutoff) is late', () => {
    assert.deepEqual(
      lateCredits(truthOf([onTime, splitOnTime, lateAfterWeekend])).map((late) => late.subject),
      ['batch:sb_3'],
    );
  });

  test('every injected kind and each late credit raised once, nothing else: 100 % both ways', () => {
    assert.deepEqual(score(raised), {
      expected: 9,
      raised: 9,
      missed: 0,
      unexpected: 0,
      recall: 1,
      precision: 1,
      counts: {},
    });
  });

  test('an exception not raised, or raised with another reason, is missed; one nothing calls for is unexpected', () => {
    const otherReason = raised.map((exception) =>
      exception.subject === 'psp:pi_amount' ? { ...exception, reason: 'fee_variance' } : exception,
    );
    const result = score([
      ...otherReason.filter((exception) => exception.subject !== 'psp:pi_missing'),
      { id: 'rex_drift', reason: 'balance_drift', subject: 'psp:undefined' },
      // The split settlement matched in aggregate: an exception on its batch is a false positive.
      { id: 'rex_split', reason: 'amount_mismatch', subject: 'batch:sb_2' },
    ]);
    assert.equal(result.missed, 2);
    assert.equal(result.unexpected, 3);
    assert.deepEqual(result.counts, { recon_missed: 2, recon_unexpected: 3 });
    assert.equal(result.recall, 7 / 9);
    assert.equal(result.precision, 7 / 10);
  });

  test('a late credit not raised is missed; the same exception raised twice is once too many', () => {
    const result = score([
      ...raised.filter((exception) => exception.subject !== 'batch:sb_3'),
      raised[0] as (typeof raised)[number],
    ]);
    assert.deepEqual(result.counts, { recon_missed: 1, recon_unexpected: 1 });
  });

  test('nothing injected and nothing raised is 100 %', () => {
    const findings = new Findings();
    assert.deepEqual(checkReconciliation([], [], findings), {
      expected: 0,
      raised: 0,
      missed: 0,
      unexpected: 0,
      recall: 1,
      precision: 1,
    });
  });
});
