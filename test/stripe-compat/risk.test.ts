// Risk on the payment path, through Stripe's SDK and the Radar routes: a block rule stops a
// payment before any PSP sees it (outcome blocked, not_sent_to_network); a review rule holds it
// authorized and uncaptured until approved (then captured) or closed by a refund or a cancel;
// a request_3ds rule asks the card holder to authenticate; shadow rules are recorded only; the
// outcome names the rules that matched and the values they read, and never a card number.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type Stripe from 'stripe';
import { startStripeStack, type StripeStack } from '../support/stripe.ts';
import { call } from '../support/server.ts';
import { waitUntil } from '../support/wait.ts';
import { advanceClock } from '../support/clock.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { StatusSync, statusSyncDefaults } from '../../src/payments/status-sync.ts';

type Outcome = Stripe.Charge.Outcome & {
  rules: { id: string; action: string; mode: string; predicate: string; seen: object }[];
};

describe('risk rules on payments (blocks, reviews, request_3ds, shadow)', () => {
  let stack: StripeStack;

  before(async () => {
    stack = await startStripeStack();
  });
  after(() => stack.stop());

  /** A new merchant (its own rules) with its SDK and a way to add rules. */
  async function merchant() {
    const { stripe, secretKey } = await stack.newMerchant('Risky shop');
    const rule = async (text: string, mode = 'enforced') => {
      const created = await call(stack.server, 'POST', '/v1/radar/rules', {
        key: secretKey,
        body: { rule: text, mode },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      return String(created.body.id);
    };
    const pay = (
      number: string,
      extra: Partial<Stripe.PaymentIntentCreateParams> & Record<string, unknown> = {},
    ) =>
      stripe.paymentMethods
        .create({
          type: 'card',
          card: { number, exp_month: 12, exp_year: 2034, cvc: '123' },
        } as Stripe.PaymentMethodCreateParams)
        .then((method) =>
          stripe.paymentIntents.create({
            amount: 90_000,
            currency: 'usd',
            payment_method: method.id,
            confirm: true,
            ...extra,
          } as Stripe.PaymentIntentCreateParams),
        );
    return { stripe, secretKey, rule, pay };
  }

  test('a block rule: 402 card_declined (fraudulent), the charge blocked and never sent; the simulator saw nothing', async () => {
    const { stripe, rule, pay } = await merchant();
    const id = await rule('block if :card_country: != :ip_country: and :amount_in_usd: > 500');
    const error = await pay('4242424242424242', {
      radar_options: { ip_address: '203.0.113.9', ip_country: 'DE' } as unknown as {
        session: string;
      },
    }).then(
      () => assert.fail('the payment was not blocked'),
      (thrown: Stripe.errors.StripeCardError) => thrown,
    );
    assert.equal(error.statusCode, 402);
    assert.equal(error.code, 'card_declined');
    assert.equal(error.decline_code, 'fraudulent');
    const intent = error.payment_intent as Stripe.PaymentIntent;
    assert.equal(intent.status, 'requires_payment_method');
    const charge = await stripe.charges.retrieve(String(intent.latest_charge));
    const outcome = charge.outcome as Outcome;
    assert.equal(outcome.type, 'blocked');
    assert.equal(outcome.network_status, 'not_sent_to_network');
    assert.equal(outcome.reason, 'rule');
    assert.equal(outcome.rule, id);
    assert.deepEqual(outcome.rules[0]?.seen, {
      card_country: 'US',
      ip_country: 'DE',
      amount_in_usd: 900,
    });
    assert.equal(charge.status, 'failed');
    // A payment that does not match goes through.
    const fine = await pay('4242424242424242', {
      radar_options: { ip_address: '203.0.113.9', ip_country: 'US' } as unknown as {
        session: string;
      },
    });
    assert.equal(fine.status, 'succeeded');
    const fineCharge = await stripe.charges.retrieve(String(fine.latest_charge));
    assert.equal(fineCharge.outcome?.type, 'authorized');
    assert.equal(typeof fineCharge.outcome?.risk_score, 'number');
  });

  test('an allow rule wins over block; a shadow rule is recorded, never enforced', async () => {
    const { stripe, rule, pay } = await merchant();
    await rule("block if :currency: = 'usd'");
    await rule("allow if :email_domain: = 'trusted.example'");
    const shadow = await rule('block if :amount: > 1000', 'shadow');
    const allowed = await pay('4242424242424242', { receipt_email: 'ann@trusted.example' });
    assert.equal(allowed.status, 'succeeded');
    const charge = await stripe.charges.retrieve(String(allowed.latest_charge));
    const outcome = charge.outcome as Outcome;
    assert.ok(outcome.rules.some((match) => match.id === shadow && match.mode === 'shadow'));
    await assert.rejects(pay('4242424242424242', { receipt_email: 'bob@other.example' }), {
      code: 'card_declined',
    });
  });

  test('a review rule: authorized, not captured, a review opened; approve captures it', async () => {
    const { stripe, secretKey, rule, pay } = await merchant();
    const id = await rule('review if :amount_in_usd: >= 900');
    const held = await pay('4242424242424242');
    assert.equal(held.status, 'requires_capture');
    assert.equal(held.capture_method, 'automatic');
    assert.equal(held.amount_received, 0);
    const reviewId = String(held.review);
    assert.ok(reviewId.startsWith('prv_'));
    const charge = await stripe.charges.retrieve(String(held.latest_charge));
    assert.equal(charge.outcome?.type, 'manual_review');
    assert.equal(charge.review, reviewId);
    const review = await stripe.reviews.retrieve(reviewId);
    assert.equal(review.open, true);
    assert.equal(review.opened_reason, 'rule');
    assert.equal(review.payment_intent, held.id);
    assert.equal((review as unknown as { rule: string }).rule, id);
    const open = await stripe.reviews.list();
    assert.ok(open.data.some((listed) => listed.id === reviewId));
    const approved = await stripe.reviews.approve(reviewId);
    assert.equal(approved.open, false);
    assert.equal(approved.closed_reason, 'approved');
    const captured = await stripe.paymentIntents.retrieve(held.id);
    assert.equal(captured.status, 'succeeded');
    assert.equal(captured.amount_received, 90_000);
    // Approving again: the review is closed, the payment stays captured once.
    const again = await call(stack.server, 'POST', `/v1/reviews/${reviewId}/approve`, {
      key: secretKey,
      body: {},
    });
    assert.equal(again.status, 200);
    const events = await call(stack.server, 'GET', '/v1/events?type=review.closed', {
      key: secretKey,
    });
    assert.equal((events.body.data as unknown[]).length, 1);
  });

  test('a review closes when the payment is canceled or refunded (a refund for fraud says so)', async () => {
    const { stripe, secretKey, rule, pay } = await merchant();
    await rule('review if :amount: >= 90000');
    const canceled = await pay('4242424242424242');
    const canceledReview = String((canceled as unknown as { review: string }).review);
    await stripe.paymentIntents.cancel(canceled.id);
    const refunded = await pay('4242424242424242');
    const refundedReview = String((refunded as unknown as { review: string }).review);
    await stripe.refunds.create({ payment_intent: refunded.id, reason: 'fraudulent' });
    await waitUntil('both reviews closed', async () => {
      const first = await stripe.reviews.retrieve(canceledReview);
      const second = await stripe.reviews.retrieve(refundedReview);
      return !first.open && !second.open;
    });
    assert.equal((await stripe.reviews.retrieve(canceledReview)).closed_reason, 'canceled');
    const closedByRefund = await stripe.reviews.retrieve(refundedReview);
    assert.equal(closedByRefund.closed_reason, 'refunded_as_fraud');
    const approve = await call(stack.server, 'POST', `/v1/reviews/${canceledReview}/approve`, {
      key: secretKey,
      body: {},
    });
    assert.equal(approve.status, 400);
    assert.equal(approve.body.error?.code, 'review_not_open');
  });

  test('a request_3ds rule: the card holder authenticates (an issuer that says no fails it, a frictionless one lets it through)', async () => {
    const { rule, pay } = await merchant();
    await rule("request_3ds if :card_bin: = '400000'");
    // The simulator's issuer does not authenticate this card: without the rule it would be paid.
    await assert.rejects(pay('4000009990000047', { return_url: 'https://shop.example/back' }), {
      code: 'payment_intent_authentication_failure',
    });
    const frictionless = await pay('4000000000003055', { return_url: 'https://shop.example/back' });
    assert.equal(frictionless.status, 'succeeded');
    const other = await pay('5555555555554444', { return_url: 'https://shop.example/back' });
    assert.equal(other.status, 'succeeded');
  });

  test('no card number in any outcome, rule record, review or event', async () => {
    const { secretKey, rule, pay } = await merchant();
    await rule("block if :card_bin: = '400000' and :amount: > 80000");
    await assert.rejects(pay('4000000000000077'));
    const events = await call(stack.server, 'GET', '/v1/events?limit=100', { key: secretKey });
    const text = JSON.stringify(events.body);
    assert.doesNotMatch(text, /4000000000000077/);
    assert.match(text, /"card_bin":"400000"/);
  });

  test('a review left open expires with its authorization (the clock moves, the sync voids it)', async () => {
    const { stripe, rule, pay } = await merchant();
    await rule('review if :amount: >= 90000');
    const held = await pay('4242424242424242');
    const reviewId = String(held.review);
    const sync = () =>
      new StatusSync(
        stack.server.context.payments,
        stack.server.context.database,
        statusSyncDefaults(1000),
        createLogger('silent'),
        stack.server.runtime.clock,
      ).runOnce();
    await sync();
    assert.equal((await stripe.reviews.retrieve(reviewId)).open, true, 'not expired yet');
    await advanceClock(stack.server, 8 * 86_400);
    assert.ok((await sync()).voided >= 1);
    await waitUntil('the expired review closed', async () => {
      return !(await stripe.reviews.retrieve(reviewId)).open;
    });
    const review = await stripe.reviews.retrieve(reviewId);
    assert.equal(review.closed_reason, 'canceled');
    assert.equal((await stripe.paymentIntents.retrieve(held.id)).status, 'canceled');
  });
});
