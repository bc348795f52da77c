// plan() for every outcome × intent status × attempt status: the states it leads to (written out
// here by hand, not read from the state machine's table) or the error it refuses with.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PaymentOutcome } from '../connectors/types.ts';
import { PaymentError } from './errors.ts';
import { plan, type Plan } from './record.ts';
import {
  attemptStatuses,
  intentStatuses,
  type AttemptStatus,
  type IntentStatus,
} from './state-machine.ts';
import type { Attempt, PaymentIntent } from './types.ts';

const created = new Date('2026-01-01T00:00:00Z');
const intentIn = (status: IntentStatus): PaymentIntent => ({
  id: 'pi_1',
  merchantId: 'acct_1',
  amount: 1000n,
  currency: 'usd',
  status,
  captureMethod: 'automatic',
  paymentMethodId: 'pm_1',
  connector: 'stripe',
  amountCapturable: 0n,
  amountReceived: 0n,
  amountRefunded: 0n,
  amountRefunding: 0n,
  pendingOperation: null,
  description: null,
  metadata: {},
  lastPaymentError: null,
  cancellationReason: null,
  canceledAt: null,
  customerId: null,
  setupFutureUsage: null,
  clientSecret: 'pi_1_secret_1',
  paymentMethodTypes: ['card'],
  automaticPaymentMethods: { enabled: true },
  receiptEmail: null,
  statementDescriptorSuffix: null,
  returnUrl: null,
  radarOptions: null,
  requestThreeDSecure: 'automatic',
  nextAction: null,
  createdAt: created,
});
const attemptIn = (status: AttemptStatus): Attempt => ({
  id: 'pa_1',
  paymentIntentId: 'pi_1',
  merchantId: 'acct_1',
  connector: 'stripe',
  status,
  amount: 1000n,
  currency: 'usd',
  captureMethod: 'automatic',
  pspIdempotencyKey: 'payrail_pa_1',
  pspReference: 'ch_before',
  amountAuthorized: 0n,
  amountCaptured: 0n,
  declineCode: null,
  pspCode: null,
  risk: null,
  threeDSecureId: null,
  failureMessage: null,
  syncCount: 2,
  abandoned: false,
  pspLatencyMs: null,
  createdAt: created,
});

type Case = {
  readonly outcome: PaymentOutcome;
  readonly failIfNeverSeen: boolean;
  /** The refusal's verb when the intent does not wait for an outcome. */
  readonly verb: string;
  /** The attempt statuses this outcome may move from. */
  readonly attemptFrom: readonly AttemptStatus[];
  readonly check: (planned: Plan, before: Attempt) => void;
};

const price = { percentBps: 100n, fixedAmount: 10n };

const declined = (code: string, message: string) => (planned: Plan) => {
  assert.equal(planned.intent.status, 'requires_payment_method');
  assert.equal(planned.attempt.status, 'failed');
  assert.equal(planned.intent.lastPaymentError?.code, code);
  assert.equal(planned.intent.lastPaymentError?.message, message);
  assert.equal(planned.attempt.failureMessage, message);
  assert.equal(planned.postings, undefined);
  assert.equal(planned.event?.type, 'payment_intent.payment_failed');
};

const cases: Readonly<Record<string, Case>> = {
  authorized: {
    outcome: { status: 'authorized', pspReference: 'ch_1', pspCode: 'ok' },
    failIfNeverSeen: false,
    verb: 'authorize',
    attemptFrom: ['pending', 'unknown'],
    check: (planned) => {
      assert.equal(planned.intent.status, 'requires_capture');
      assert.equal(planned.attempt.status, 'authorized');
      assert.equal(planned.intent.amountCapturable, 1000n);
      assert.equal(planned.attempt.amountAuthorized, 1000n);
      assert.equal(planned.attempt.pspReference, 'ch_1');
      assert.equal(planned.postings?.transfers.length, 1);
      assert.equal(planned.event?.type, 'payment_intent.amount_capturable_updated');
    },
  },
  captured: {
    outcome: { status: 'captured', amountCaptured: 700n },
    failIfNeverSeen: false,
    verb: 'capture',
    attemptFrom: ['pending', 'unknown', 'authorized'],
    check: (planned) => {
      assert.equal(planned.intent.status, 'succeeded');
      assert.equal(planned.attempt.status, 'captured');
      assert.equal(planned.intent.amountReceived, 700n);
      assert.equal(planned.intent.amountCapturable, 0n);
      assert.equal(planned.attempt.amountCaptured, 700n);
      // The PSP reference stays the one known when the outcome names none.
      assert.equal(planned.attempt.pspReference, 'ch_before');
      // The capture and the fee (1 % + 10 of 700 = 17).
      assert.equal(planned.postings?.transfers.length, 2);
      assert.equal(planned.event?.type, 'payment_intent.succeeded');
    },
  },
  failed: {
    outcome: { status: 'failed', declineCode: 'expired_card', message: 'Expired.' },
    failIfNeverSeen: false,
    verb: 'fail',
    attemptFrom: ['pending', 'unknown'],
    check: (planned) => {
      declined('expired_card', 'Expired.')(planned);
      assert.equal(planned.attempt.declineCode, 'expired_card');
      assert.equal(planned.intent.lastPaymentError?.decline_code, 'expired_card');
    },
  },
  voided: {
    outcome: { status: 'voided' },
    failIfNeverSeen: false,
    verb: 'fail',
    attemptFrom: ['pending', 'unknown'],
    check: declined('card_declined', 'Your card was declined.'),
  },
  unknown: {
    outcome: { status: 'unknown', pspCode: 'timeout', message: 'no answer' },
    failIfNeverSeen: false,
    verb: 'sync',
    attemptFrom: ['pending', 'unknown', 'failed'],
    check: (planned, before) => {
      assert.equal(planned.change.intent, undefined);
      assert.equal(planned.intent.status, 'processing');
      assert.equal(planned.attempt.status, 'unknown');
      assert.equal(planned.attempt.pspCode, 'timeout');
      assert.equal(planned.postings, undefined);
      // The merchant hears once that the outcome is pending.
      assert.equal(
        planned.event?.type,
        before.status === 'pending' ? 'payment_intent.processing' : undefined,
      );
    },
  },
  'never seen by the PSP': {
    outcome: { status: 'unknown', pspCode: 'not_found' },
    failIfNeverSeen: true,
    verb: 'fail',
    attemptFrom: ['pending', 'unknown'],
    check: declined('processing_error', 'The PSP never received this authorization.'),
  },
};

describe('plan() for every outcome, intent status and attempt status', () => {
  for (const [name, outcomeCase] of Object.entries(cases)) {
    for (const intentStatus of intentStatuses) {
      for (const attemptStatus of attemptStatuses) {
        for (const synced of [false, true]) {
          test(`${name}: intent ${intentStatus}, attempt ${attemptStatus}${synced ? ', synced' : ''}`, () => {
            const intent = intentIn(intentStatus);
            const attempt = attemptIn(attemptStatus);
            const run = () =>
              plan(intent, [attempt], attempt, outcomeCase.outcome, price, {
                synced,
                failIfNeverSeen: outcomeCase.failIfNeverSeen,
              });
            if (intentStatus !== 'processing') {
              assert.throws(run, (error: unknown) => {
                assert.ok(error instanceof PaymentError);
                assert.equal(error.code, 'payment_intent_unexpected_state');
                assert.equal(
                  error.message,
                  `You cannot ${outcomeCase.verb} this PaymentIntent because it has a status of ${intentStatus}.`,
                );
                return true;
              });
              return;
            }
            if (!outcomeCase.attemptFrom.includes(attemptStatus)) {
              assert.throws(run, /illegal attempt transition/);
              return;
            }
            const planned = run();
            outcomeCase.check(planned, attempt);
            // The change is what both record paths write; the states after it follow from it.
            assert.equal(planned.change.synced, synced);
            assert.deepEqual(planned.intent, { ...intent, ...planned.change.intent });
            assert.deepEqual(planned.attempt, {
              ...attempt,
              ...planned.change.attempt,
              syncCount: attempt.syncCount + (synced ? 1 : 0),
            });
          });
        }
      }
    }
  }
});
