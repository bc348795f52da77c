import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PaymentError } from './errors.ts';
import {
  awaitsAuthorization,
  awaitsAuthorizationSql,
  canMoveIntent,
  formatPendingOperation,
  intentStatuses,
  intentStatusesFor,
  isFinalIntent,
  isUnresolvedAttempt,
  moveAttempt,
  moveIntent,
  parsePendingOperation,
  unresolvedAttemptSql,
  unresolvedAttemptStatuses,
  type IntentStatus,
} from './state-machine.ts';

test('legal intent moves pass, illegal ones are a typed error', () => {
  assert.equal(moveIntent('pi_1', 'requires_capture', 'capture_succeeded'), 'succeeded');
  assert.throws(
    () => moveIntent('pi_1', 'succeeded', 'confirm'),
    (error: unknown) => {
      assert.ok(error instanceof PaymentError);
      assert.equal(error.code, 'payment_intent_unexpected_state');
      assert.match(error.message, /status of succeeded/);
      return true;
    },
  );
  assert.equal(canMoveIntent('canceled', 'succeeded'), false);
  assert.equal(canMoveIntent('requires_payment_method', 'succeeded'), false);
});

test('succeeded and canceled are final', () => {
  assert.equal(isFinalIntent('succeeded'), true);
  assert.equal(isFinalIntent('canceled'), true);
  assert.equal(isFinalIntent('processing'), false);
});

test('attempt moves follow PSP outcomes only', () => {
  assert.equal(moveAttempt('pa_1', 'pending', 'unknown'), 'unknown');
  assert.equal(moveAttempt('pa_1', 'unknown', 'captured'), 'captured');
  assert.throws(() => moveAttempt('pa_1', 'failed', 'captured'), /illegal attempt transition/);
  assert.throws(() => moveAttempt('pa_1', 'captured', 'voided'), /illegal attempt transition/);
});

test('confirm starts only from the statuses waiting for confirmation, with the API message otherwise', () => {
  assert.deepEqual(intentStatusesFor('confirm'), [
    'requires_payment_method',
    'requires_confirmation',
    'requires_action',
  ]);
  for (const status of ['processing', 'requires_capture', 'succeeded', 'canceled'] as const) {
    assert.throws(
      () => moveIntent('pi_1', status, 'confirm'),
      new RegExp(
        `^PaymentError: You cannot confirm this PaymentIntent because it has a status of ${status}\\.$`,
      ),
    );
  }
});

test('capture and cancel: what starts, what their outcomes lead to', () => {
  assert.deepEqual(intentStatusesFor('capture'), ['requires_capture']);
  assert.throws(() => moveIntent('pi_1', 'processing', 'capture'), /cannot capture .* processing/);
  assert.equal(moveIntent('pi_1', 'requires_capture', 'capture_unknown'), 'processing');
  assert.equal(moveIntent('pi_1', 'processing', 'capture_failed'), 'requires_capture');
  assert.equal(moveIntent('pi_1', 'requires_confirmation', 'cancel'), 'canceled');
  // An authorization is voided first: the intent stays until the PSP answers.
  assert.equal(moveIntent('pi_1', 'requires_capture', 'cancel'), 'requires_capture');
  assert.equal(moveIntent('pi_1', 'processing', 'void_succeeded'), 'canceled');
  assert.throws(() => moveIntent('pi_1', 'succeeded', 'cancel'), /cannot cancel .* succeeded/);
  // Only a succeeded payment is refunded; it stays succeeded.
  assert.deepEqual(intentStatusesFor('refund'), ['succeeded']);
  assert.equal(moveIntent('pi_1', 'succeeded', 'refund'), 'succeeded');
});

test('an intent waits for an authorization only while processing with nothing in flight', () => {
  const waiting = (status: IntentStatus, capture: boolean) =>
    awaitsAuthorization({
      status,
      pendingOperation: capture ? { kind: 'capture', amount: 5n } : null,
    });
  assert.deepEqual(
    intentStatuses.filter((status) => waiting(status, false)),
    ['processing'],
  );
  assert.equal(waiting('processing', true), false);
  assert.equal(
    awaitsAuthorizationSql('p'),
    "p.status IN ('processing') AND p.pending_operation IS NULL",
  );
});

test('unresolved attempts are those every outcome can still be recorded for', () => {
  assert.deepEqual(unresolvedAttemptStatuses, ['pending', 'unknown']);
  assert.equal(isUnresolvedAttempt({ status: 'failed' }), false);
  assert.equal(unresolvedAttemptSql('a'), "a.status IN ('pending', 'unknown')");
});

test('pending operations keep their stored form, and rows stored before still parse', () => {
  assert.deepEqual(parsePendingOperation('capture:500'), { kind: 'capture', amount: 500n });
  assert.deepEqual(parsePendingOperation('cancel'), { kind: 'cancel' });
  assert.equal(
    formatPendingOperation({ kind: 'capture', amount: 9_007_199_254_740_993n }),
    'capture:9007199254740993',
  );
  assert.equal(formatPendingOperation({ kind: 'cancel' }), 'cancel');
  for (const unreadable of ['capture:', 'capture:-1', 'capture:1.5', 'refund', ''])
    assert.throws(() => parsePendingOperation(unreadable), /unreadable pending operation/);
});
