// The payments service decides what a retry that resumes a stopped request's idempotency key
// does (the routes only pass it on): it continues the first try's work and answers with the
// resource as it stands, where a fresh request in the same state would be refused or start over.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PaymentError } from '../../src/payments/errors.ts';
import type { PaymentsService } from '../../src/payments/service.ts';
import { startSimulatedStack, type SimulatedStack } from '../support/simulator.ts';
import { call, testAdminKey, type TestServer } from '../support/server.ts';

const resumed = { resumed: true };

describe('resuming an idempotent request is decided by the payments service', () => {
  let server: TestServer;
  let stack: SimulatedStack;
  let payments: PaymentsService;
  let merchantId: string;

  const intent = (confirm: boolean, captureMethod: 'automatic' | 'manual' = 'automatic') =>
    payments.create(merchantId, {
      amount: 1_000,
      currency: 'usd',
      paymentMethod: 'pm_card_visa',
      captureMethod,
      confirm,
      connector: 'stripe',
    });
  const refusedAsUnexpected = (error: unknown) =>
    error instanceof PaymentError && error.code === 'payment_intent_unexpected_state';

  before(async () => {
    stack = await startSimulatedStack();
    ({ server } = stack);
    const created = await call(server, 'POST', '/v1/admin/merchants', {
      key: testAdminKey,
      body: { name: 'Resumes' },
    });
    merchantId = String(created.body.id);
    payments = server.context.payments;
  });
  after(() => stack.stop());

  test('create: resumed, it finishes the first try’s intent instead of creating another', async () => {
    const draft = await intent(false);
    assert.equal(draft.intent.status, 'requires_confirmation');
    const input = { amount: 1_000, currency: 'usd', paymentMethod: 'pm_card_visa', confirm: true };
    const finished = await payments.createIntent(merchantId, input, {
      ...resumed,
      resourceId: draft.intent.id,
    });
    assert.equal(finished.intent.id, draft.intent.id);
    assert.equal(finished.intent.status, 'succeeded');
    // Without confirm, the intent the first try created is the answer, as it stands.
    const other = await intent(false);
    const asIs = await payments.createIntent(
      merchantId,
      { ...input, confirm: undefined },
      { ...resumed, resourceId: other.intent.id },
    );
    assert.deepEqual(asIs, other);
    // A resumed retry whose first try created nothing creates the intent.
    const fresh = await payments.createIntent(merchantId, input, { ...resumed, resourceId: null });
    assert.notEqual(fresh.intent.id, draft.intent.id);
    assert.equal(fresh.intent.status, 'succeeded');
  });

  test('confirm, capture and cancel: resumed past their step, they answer the intent', async () => {
    const paid = await intent(true);
    assert.equal(paid.intent.status, 'succeeded');
    await assert.rejects(
      payments.confirmIntent(merchantId, paid.intent.id, {}),
      refusedAsUnexpected,
    );
    assert.deepEqual(await payments.confirmIntent(merchantId, paid.intent.id, {}, resumed), paid);

    const held = await intent(true, 'manual');
    const captured = await payments.captureIntent(merchantId, held.intent.id, undefined);
    assert.equal(captured.intent.status, 'succeeded');
    await assert.rejects(
      payments.captureIntent(merchantId, held.intent.id, undefined),
      refusedAsUnexpected,
    );
    assert.deepEqual(
      await payments.captureIntent(merchantId, held.intent.id, undefined, resumed),
      await payments.retrieve(merchantId, held.intent.id),
    );

    const voided = await intent(true, 'manual');
    const canceled = await payments.cancelIntent(merchantId, voided.intent.id, 'abandoned');
    assert.equal(canceled.intent.status, 'canceled');
    await assert.rejects(
      payments.cancelIntent(merchantId, voided.intent.id, 'abandoned'),
      refusedAsUnexpected,
    );
    assert.deepEqual(
      await payments.cancelIntent(merchantId, voided.intent.id, 'abandoned', resumed),
      await payments.retrieve(merchantId, voided.intent.id),
    );

    // Resumed before its step was done, the step runs.
    const pending = await intent(true, 'manual');
    const resumedCapture = await payments.captureIntent(
      merchantId,
      pending.intent.id,
      undefined,
      resumed,
    );
    assert.equal(resumedCapture.intent.status, 'succeeded');
  });

  test('refund: resumed, it answers the first try’s refund and refunds nothing more', async () => {
    const paid = await intent(true);
    const input = { paymentIntent: paid.intent.id, amount: 400 };
    const refund = await payments.createRefund(merchantId, input);
    const again = await payments.createRefund(merchantId, input, {
      ...resumed,
      resourceId: refund.id,
    });
    assert.equal(again.id, refund.id);
    assert.equal(again.status, 'succeeded');
    const after = await payments.retrieve(merchantId, paid.intent.id);
    assert.equal(after.intent.amountRefunded, 400n);
    const listed = await payments.listRefunds(merchantId, {
      limit: 10,
      paymentIntentId: paid.intent.id,
    });
    assert.deepEqual(
      listed.refunds.map((each) => each.id),
      [refund.id],
    );
    assert.deepEqual(await payments.retrieveRefund(merchantId, refund.id), again);
  });
});
