import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PaymentError } from './errors.ts';
import { canMoveIntent, isFinalIntent, moveAttempt, moveIntent } from './state-machine.ts';

test('legal intent moves pass, illegal ones are a typed error', () => {
  assert.equal(moveIntent('pi_1', 'requires_capture', 'succeeded', 'capture'), 'succeeded');
  assert.throws(
    () => moveIntent('pi_1', 'succeeded', 'processing', 'confirm'),
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
