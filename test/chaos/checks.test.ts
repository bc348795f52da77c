// The chaos run's checks on hand-made cases, so that a passing run means something: each kind of
// disagreement between the answers, Payrail's records and the PSPs' ground truth is found.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  checkAnswers,
  checkMoney,
  checkTerminal,
  Findings,
  type AttemptRow,
  type GroundTruth,
  type IntentRow,
  type RefundRow,
} from './checks.ts';
import type { IntentRecord } from './flows.ts';

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
