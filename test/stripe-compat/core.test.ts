// Stripe's own Node SDK (a client we did not write) pointed at Payrail: payment methods, payment
// intents with manual capture, refunds, errors and the balance, through its form encoding,
// headers and automatic idempotency keys.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Stripe from 'stripe';
import { startStripeStack, type StripeStack } from '../support/stripe.ts';

describe("Stripe's SDK against Payrail", () => {
  let stack: StripeStack;
  let stripe: Stripe;

  before(async () => {
    stack = await startStripeStack();
    ({ stripe } = stack);
  });
  after(() => stack.stop());

  test('a card, a manual-capture payment, a partial capture, a refund and the balance', async () => {
    const method = await stripe.paymentMethods.create({
      type: 'card',
      card: { number: '4242424242424242', exp_month: 12, exp_year: 2031, cvc: '314' },
    } as Stripe.PaymentMethodCreateParams);
    assert.equal(method.card?.last4, '4242');
    const intent = await stripe.paymentIntents.create({
      amount: 5_000,
      currency: 'usd',
      payment_method: method.id,
      capture_method: 'manual',
      confirm: true,
      metadata: { order: 'sdk-1' },
    });
    assert.equal(intent.status, 'requires_capture');
    assert.equal(intent.metadata.order, 'sdk-1');
    const captured = await stripe.paymentIntents.capture(intent.id, { amount_to_capture: 4_000 });
    assert.equal(captured.status, 'succeeded');
    assert.equal(captured.amount_received, 4_000);
    const refund = await stripe.refunds.create({
      payment_intent: intent.id,
      amount: 1_500,
      reason: 'requested_by_customer',
    });
    assert.equal(refund.status, 'succeeded');
    assert.equal(refund.amount, 1_500);
    const listed = await stripe.refunds.list({ payment_intent: intent.id });
    assert.equal(listed.data.length, 1);
    const retrieved = await stripe.paymentIntents.retrieve(intent.id);
    assert.equal(retrieved.amount_received, 4_000);
    const balance = await stripe.balance.retrieve();
    assert.ok(balance.pending.some((entry) => entry.currency === 'usd' && entry.amount > 0));
  });

  test('create, confirm and cancel as separate calls; lists page', async () => {
    const created = await stripe.paymentIntents.create({ amount: 1_200, currency: 'usd' });
    assert.equal(created.status, 'requires_payment_method');
    const confirmed = await stripe.paymentIntents.confirm(created.id, {
      payment_method: 'pm_card_visa',
    });
    assert.equal(confirmed.status, 'succeeded');
    const other = await stripe.paymentIntents.create({
      amount: 800,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      capture_method: 'manual',
      confirm: true,
    });
    const canceled = await stripe.paymentIntents.cancel(other.id);
    assert.equal(canceled.status, 'canceled');
    const page = await stripe.paymentIntents.list({ limit: 2 });
    assert.equal(page.data.length, 2);
    assert.equal(page.has_more, true);
    const next = await stripe.paymentIntents.list({ limit: 2, starting_after: page.data[1]?.id });
    assert.ok(next.data.every((item) => !page.data.some((seen) => seen.id === item.id)));
  });

  test("a decline arrives as the SDK's card error with its decline code and the PaymentIntent", async () => {
    await assert.rejects(
      stripe.paymentIntents.create({
        amount: 700,
        currency: 'usd',
        payment_method: 'pm_card_chargeDeclinedInsufficientFunds',
        confirm: true,
      }),
      (error: unknown) => {
        assert.ok(error instanceof Stripe.errors.StripeCardError, String(error));
        assert.equal(error.code, 'card_declined');
        assert.equal(error.decline_code, 'insufficient_funds');
        assert.equal(error.statusCode, 402);
        // The SDK hands over the PaymentIntent the decline left, ready for another payment method.
        assert.equal(error.payment_intent?.status, 'requires_payment_method');
        assert.equal(error.payment_intent?.amount, 700);
        return true;
      },
    );
  });

  test("bad input arrives as the SDK's invalid request error naming the param", async () => {
    await assert.rejects(
      stripe.paymentIntents.create({ amount: -1, currency: 'usd' }),
      (error: unknown) => {
        assert.ok(error instanceof Stripe.errors.StripeInvalidRequestError, String(error));
        assert.equal(error.param, 'amount');
        return true;
      },
    );
  });
});
