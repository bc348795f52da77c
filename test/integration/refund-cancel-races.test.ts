// Canceling a refund (POST /v1/refunds/:id/cancel) against the refund being sent, on real
// PostgreSQL: a refund may be canceled only while it was never sent to the PSP. The cancel and the
// send's claim take the refund's row lock, so exactly one wins: either the PSP never hears of the
// refund and its reserved amount is released, or the PSP refunds it and the cancel is refused.
// Never both, never neither; the money at the PSP, on the intent and in the ledger agree.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectorUnavailableError } from '../../src/connectors/resilience.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import { PaymentError } from '../../src/payments/errors.ts';
import type { Refund } from '../../src/payments/types.ts';
import { fakePspHarness, unavailable, until, type FakePspHarness } from '../support/fake-psp.ts';

const card = { amount: 1000n, currency: 'usd', paymentMethod: 'pm_card', connector: 'stripe' };
const limits = { timeout: 60_000 };

const settled = <T>(promise: Promise<T>): Promise<T | Error> =>
  promise.then(
    (value) => value,
    (error: Error) => error,
  );

/** A paid intent with a refund of 400 that the connector refused to send (nothing left Payrail). */
async function unsentRefund(h: FakePspHarness): Promise<{ intentId: string; refund: Refund }> {
  const paid = await h.payments.create(h.merchantId, { ...card, confirm: true });
  h.stripe.refundHandler = async () => {
    throw unavailable('stripe');
  };
  const refused = await settled(
    h.payments.refund(h.merchantId, { paymentIntent: paid.intent.id, amount: 400n }),
  );
  assert.ok(refused instanceof ConnectorUnavailableError, String(refused));
  h.stripe.refundHandler = async (request) => h.stripe.refundPayment(request);
  const [refund] = (
    await h.payments.listRefunds(h.merchantId, {
      limit: 1,
      paymentIntentId: paid.intent.id,
    })
  ).refunds;
  assert.ok(refund !== undefined);
  assert.equal(refund.status, 'pending');
  assert.equal(refund.sentAt, null, 'a refund the connector refused to send is not marked sent');
  return { intentId: paid.intent.id, refund };
}

async function assertLedger(h: FakePspHarness): Promise<void> {
  const receivable = await h.ledger.getAccount('psp:stripe:receivable:usd');
  assert.equal(receivable?.balance.posted ?? 0n, h.stripe.netCharged(), 'ledger matches the PSP');
  const report = await verifyLedger(h.database);
  assert.equal(report.ok, true, report.problems.join('; '));
}

test(
  'a refund the connector refused to send is canceled: its amount is released and it is never sent',
  limits,
  async () => {
    const h = await fakePspHarness({ database: 'postgres' });
    try {
      const { intentId, refund } = await unsentRefund(h);
      assert.equal((await h.stored(intentId)).intent.amountRefunding, 400n);
      const canceled = await h.payments.cancelRefund(h.merchantId, refund.id);
      assert.equal(canceled.status, 'canceled');
      assert.equal(canceled.failureReason, 'merchant_request');
      const intent = (await h.stored(intentId)).intent;
      assert.deepEqual([intent.amountRefunding, intent.amountRefunded], [0n, 0n]);
      // A retry of the request, or the status sync, finds it canceled and sends nothing.
      const calls = h.stripe.calls.filter((call) => call.op === 'refund').length;
      assert.equal((await h.payments.refunds.resume(h.merchantId, refund.id)).status, 'canceled');
      await h.payments.sync(h.merchantId, intentId);
      assert.equal(h.stripe.calls.filter((call) => call.op === 'refund').length, calls);
      // Canceling twice is refused, and the whole amount can be refunded afresh.
      const again = await settled(h.payments.cancelRefund(h.merchantId, refund.id));
      assert.ok(again instanceof PaymentError && again.code === 'refund_not_cancelable');
      const full = await h.payments.refund(h.merchantId, { paymentIntent: intentId });
      assert.equal(full.amount, 1000n);
      assert.equal(h.stripe.netCharged(), 0n);
      await assertLedger(h);
    } finally {
      await h.drop();
    }
  },
);

test('a refund on its way to the PSP cannot be canceled; it finishes', limits, async () => {
  const h = await fakePspHarness({ database: 'postgres' });
  try {
    const paid = await h.payments.create(h.merchantId, { ...card, confirm: true });
    const held = h.gate();
    let reached = false;
    h.stripe.refundHandler = async (request) => {
      reached = true;
      await held.promise;
      return h.stripe.refundPayment(request);
    };
    const sending = h.payments.refund(h.merchantId, {
      paymentIntent: paid.intent.id,
      amount: 300n,
    });
    await until(() => reached);
    const [refund] = (await h.payments.listRefunds(h.merchantId, { limit: 1 })).refunds;
    assert.ok(refund !== undefined && refund.sentAt !== null);
    const refused = await settled(h.payments.cancelRefund(h.merchantId, refund.id));
    assert.ok(refused instanceof PaymentError, String(refused));
    assert.equal(refused.code, 'refund_not_cancelable');
    assert.match(refused.message, /sent to the PSP/);
    held.open();
    assert.equal((await sending).status, 'succeeded');
    assert.equal((await h.stored(paid.intent.id)).intent.amountRefunded, 300n);
    await assertLedger(h);
  } finally {
    await h.drop();
  }
});

test(
  'a refused call gives its claim back only while it is the one claim: a second sender at the PSP keeps the refund uncancelable',
  limits,
  async () => {
    const h = await fakePspHarness({ database: 'postgres' });
    try {
      const { intentId, refund } = await unsentRefund(h);
      // B reaches the PSP and waits there; A's call is refused (nothing sent) once B is there.
      const atPsp = h.gate();
      let reached = false;
      h.stripe.refundHandler = async (request) => {
        reached = true;
        await atPsp.promise;
        return h.stripe.refundPayment(request);
      };
      const refundAtPsp = h.stripe.refund.bind(h.stripe);
      let calls = 0;
      h.stripe.refund = async (request, context) => {
        calls += 1;
        if (calls > 1) return refundAtPsp(request, context);
        await until(() => reached);
        throw unavailable('stripe');
      };
      const first = settled(h.payments.refunds.resume(h.merchantId, refund.id));
      await until(() => calls === 1);
      const second = settled(h.payments.refunds.resume(h.merchantId, refund.id));
      assert.ok((await first) instanceof ConnectorUnavailableError);
      const stored = await h.payments.retrieveRefund(h.merchantId, refund.id);
      assert.notEqual(stored.sentAt, null, 'still claimed: the other request is at the PSP');
      const cancel = await settled(h.payments.cancelRefund(h.merchantId, refund.id));
      assert.ok(cancel instanceof PaymentError && cancel.code === 'refund_not_cancelable');
      atPsp.open();
      const sent = await second;
      assert.ok(!(sent instanceof Error), String(sent));
      assert.equal(sent.status, 'succeeded');
      // Only 600 is left to refund: the PSP refunded 400 once, and nothing twice.
      const rest = await h.payments.refund(h.merchantId, { paymentIntent: intentId });
      assert.equal(rest.amount, 600n);
      assert.equal(h.stripe.netCharged(), 0n);
      await assertLedger(h);
    } finally {
      await h.drop();
    }
  },
);

test(
  'a refund of an uncaptured payment whose void answer is lost stays pending, then succeeds with the cancel',
  limits,
  async () => {
    const h = await fakePspHarness({ database: 'postgres' });
    try {
      const held = await h.payments.create(h.merchantId, {
        ...card,
        captureMethod: 'manual',
        confirm: true,
      });
      assert.equal(held.intent.status, 'requires_capture');
      h.stripe.voidHandler = async (request) => {
        h.stripe.voidPayment(request);
        return { status: 'unknown', pspCode: 'timeout', message: 'the answer was lost' };
      };
      const release = await h.payments.refund(h.merchantId, { paymentIntent: held.intent.id });
      assert.equal(release.status, 'pending', 'not failed: the void may have happened');
      h.stripe.voidHandler = async (request) => h.stripe.voidPayment(request);
      await h.payments.sync(h.merchantId, held.intent.id);
      assert.equal((await h.stored(held.intent.id)).intent.status, 'canceled');
      await h.payments.refunds.resume(h.merchantId, release.id);
      const done = await h.payments.retrieveRefund(h.merchantId, release.id);
      assert.equal(done.status, 'succeeded');
      const types = await h.database.query<{ type: string }>(
        'SELECT type FROM events WHERE merchant_id = $1 ORDER BY id',
        [h.merchantId],
      );
      assert.ok(!types.rows.some((row) => row.type === 'refund.failed'), 'never reported failed');
      await assertLedger(h);
    } finally {
      await h.drop();
    }
  },
);

test(
  'cancel and send at once, many times: exactly one wins, and the money says which',
  limits,
  async (t) => {
    const h = await fakePspHarness({ database: 'postgres' });
    try {
      const outcomes = { canceled: 0, sent: 0 };
      for (let round = 0; round < 12; round++) {
        const { intentId, refund } = await unsentRefund(h);
        const before = h.stripe.payment((await h.stored(intentId)).attempts[0]?.id ?? '').refunded;
        // A retry of the refund (or the status sync) and a cancel, concurrently.
        const [sent, canceled] = await Promise.all([
          settled(h.payments.refunds.resume(h.merchantId, refund.id)),
          settled(h.payments.cancelRefund(h.merchantId, refund.id)),
        ]);
        const attemptId = (await h.stored(intentId)).attempts[0]?.id ?? '';
        const refundedAtPsp = h.stripe.payment(attemptId).refunded - before;
        const intent = (await h.stored(intentId)).intent;
        const stored = await h.payments.retrieveRefund(h.merchantId, refund.id);
        assert.equal(intent.amountRefunding, 0n, 'nothing left reserved');
        if (stored.status === 'canceled') {
          outcomes.canceled++;
          assert.ok(!(canceled instanceof Error), String(canceled));
          assert.ok(!(sent instanceof Error) && sent.status === 'canceled', String(sent));
          assert.equal(refundedAtPsp, 0n, 'a canceled refund never reached the PSP');
          assert.equal(intent.amountRefunded, 0n);
        } else {
          outcomes.sent++;
          assert.equal(stored.status, 'succeeded');
          assert.ok(canceled instanceof PaymentError, String(canceled));
          assert.equal(canceled.code, 'refund_not_cancelable');
          assert.equal(refundedAtPsp, 400n, 'the PSP refunded it once');
          assert.equal(intent.amountRefunded, 400n);
        }
      }
      assert.equal(outcomes.canceled + outcomes.sent, 12);
      t.diagnostic(`canceled ${outcomes.canceled}, sent ${outcomes.sent}`);
      await assertLedger(h);
    } finally {
      await h.drop();
    }
  },
);
