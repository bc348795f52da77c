// Charges through Stripe's own SDK (issue 13, item 2): every authorization, successful or failed,
// is a `charge` (the view of its attempt), reachable from the intent's `latest_charge`, from a
// card error's `error.charge`, and by stripe.charges.retrieve/list; refunds name their charge and
// may be created from it, updated (metadata, Stripe's merge), canceled while not yet sent; a
// refund of an uncaptured payment cancels it; charge.* events are written beside the others.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Stripe from 'stripe';
import { startStripeStack, type StripeStack } from '../support/stripe.ts';

async function pay(
  stripe: Stripe,
  params: Partial<Stripe.PaymentIntentCreateParams> = {},
): Promise<Stripe.PaymentIntent> {
  return stripe.paymentIntents.create({
    amount: 2_000,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    confirm: true,
    ...params,
  });
}

/** The events of one object, oldest first, of the given types. */
async function eventsOf(stripe: Stripe, objectId: string, prefix: string): Promise<string[]> {
  const page = await stripe.events.list({ limit: 100 });
  return page.data
    .filter(
      (event) =>
        event.type.startsWith(prefix) && (event.data.object as { id?: string }).id === objectId,
    )
    .map((event) => event.type)
    .toReversed();
}

describe('charges through the Stripe SDK', () => {
  let stack: StripeStack;
  let stripe: Stripe;

  before(async () => {
    stack = await startStripeStack();
    ({ stripe } = stack);
  });
  after(() => stack.stop());

  test('a payment has a latest_charge, a succeeded charge with the card, outcome and balance transaction', async () => {
    const intent = await pay(stripe, { description: 'order 7', metadata: { order: '7' } });
    assert.equal(intent.status, 'succeeded');
    assert.equal(typeof intent.latest_charge, 'string');
    const charge = await stripe.charges.retrieve(intent.latest_charge as string);
    assert.match(charge.id, /^ch_/);
    assert.equal(charge.object, 'charge');
    assert.equal(charge.status, 'succeeded');
    assert.equal(charge.paid, true);
    assert.equal(charge.captured, true);
    assert.equal(charge.amount, 2_000);
    assert.equal(charge.amount_captured, 2_000);
    assert.equal(charge.amount_refunded, 0);
    assert.equal(charge.refunded, false);
    assert.equal(charge.payment_intent, intent.id);
    assert.equal(charge.payment_method, 'pm_card_visa');
    assert.equal(charge.currency, 'usd');
    assert.equal(charge.description, 'order 7');
    assert.deepEqual(charge.metadata, { order: '7' });
    assert.equal(charge.failure_code, null);
    assert.equal(charge.outcome?.type, 'authorized');
    assert.equal(charge.outcome?.network_status, 'approved_by_network');
    assert.equal(charge.payment_method_details?.type, 'card');
    const card = charge.payment_method_details?.card;
    assert.equal(card?.brand, 'visa');
    assert.equal(card?.last4, '4242');
    assert.equal(card?.country, 'US');
    assert.ok((card?.exp_year ?? 0) > 2000);
    assert.ok((card?.exp_month ?? 0) >= 1);
    assert.deepEqual(charge.refunds?.data, []);
    assert.equal(charge.livemode, false);
    // The capture's balance transaction, once the ledger posted it (the answer waits for that).
    assert.match(String(charge.balance_transaction), /^txn_/);
    const transaction = await stripe.balanceTransactions.retrieve(
      charge.balance_transaction as string,
    );
    assert.equal(transaction.amount, 2_000);
    assert.deepEqual(await eventsOf(stripe, charge.id, 'charge.'), ['charge.succeeded']);
  });

  test('a manual capture: an uncaptured charge, then charge.captured', async () => {
    const intent = await pay(stripe, { amount: 3_000, capture_method: 'manual' });
    const uncaptured = await stripe.charges.retrieve(intent.latest_charge as string);
    assert.equal(uncaptured.status, 'succeeded');
    assert.equal(uncaptured.paid, true);
    assert.equal(uncaptured.captured, false);
    assert.equal(uncaptured.amount_captured, 0);
    assert.equal(uncaptured.balance_transaction, null);
    await stripe.paymentIntents.capture(intent.id, { amount_to_capture: 2_500 });
    const captured = await stripe.charges.retrieve(uncaptured.id);
    assert.equal(captured.captured, true);
    assert.equal(captured.amount_captured, 2_500);
    assert.equal(captured.amount, 3_000);
    assert.deepEqual(await eventsOf(stripe, captured.id, 'charge.'), [
      'charge.succeeded',
      'charge.captured',
    ]);
  });

  test("a decline: the StripeCardError names the failed charge, which tells the issuer's reason", async () => {
    let chargeId = '';
    let intentId = '';
    await assert.rejects(
      pay(stripe, { payment_method: 'pm_card_chargeDeclinedInsufficientFunds' }),
      (error: unknown) => {
        assert.ok(error instanceof Stripe.errors.StripeCardError, String(error));
        assert.equal(error.code, 'card_declined');
        assert.match(String(error.charge), /^ch_/);
        chargeId = String(error.charge);
        intentId = String(error.payment_intent?.id);
        assert.equal(error.payment_intent?.latest_charge, chargeId);
        // And the payment method declined, as Stripe's card errors carry it.
        assert.equal(error.payment_method?.id, 'pm_card_chargeDeclinedInsufficientFunds');
        assert.equal(error.payment_method?.card?.last4, '9995');
        return true;
      },
    );
    const charge = await stripe.charges.retrieve(chargeId);
    assert.equal(charge.status, 'failed');
    assert.equal(charge.paid, false);
    assert.equal(charge.captured, false);
    assert.equal(charge.failure_code, 'card_declined');
    assert.ok((charge.failure_message ?? '').length > 0);
    assert.equal(charge.outcome?.type, 'issuer_declined');
    assert.equal(charge.outcome?.reason, 'insufficient_funds');
    assert.equal(charge.payment_intent, intentId);
    assert.deepEqual(await eventsOf(stripe, chargeId, 'charge.'), ['charge.failed']);
    // A confirm after the decline is a second attempt: a second charge, the intent's latest.
    const retried = await stripe.paymentIntents.confirm(intentId, {
      payment_method: 'pm_card_visa',
    });
    assert.equal(retried.status, 'succeeded');
    assert.notEqual(retried.latest_charge, chargeId);
    const both = await stripe.charges.list({ payment_intent: intentId });
    assert.deepEqual(
      both.data.map((item) => item.status),
      ['succeeded', 'failed'],
    );
    assert.equal(both.data[0]?.id, retried.latest_charge);
  });

  test('charges list newest first and page with the charge ids as cursors', async () => {
    const first = await pay(stripe, { amount: 1_001 });
    const second = await pay(stripe, { amount: 1_002 });
    const page = await stripe.charges.list({ limit: 2 });
    assert.deepEqual(
      page.data.map((charge) => charge.id),
      [second.latest_charge, first.latest_charge],
    );
    assert.equal(page.has_more, true);
    const next = await stripe.charges.list({ limit: 1, starting_after: page.data[1]?.id });
    assert.equal(next.data.length, 1);
    assert.ok(!page.data.some((charge) => charge.id === next.data[0]?.id));
    const back = await stripe.charges.list({ limit: 1, ending_before: page.data[1]?.id });
    assert.equal(back.data[0]?.id, second.latest_charge);
  });

  test('refunds from a charge: partial, then the rest; the charge counts them and lists them', async () => {
    const intent = await pay(stripe, { amount: 5_000 });
    const chargeId = intent.latest_charge as string;
    const partial = await stripe.refunds.create({ charge: chargeId, amount: 1_200 });
    assert.equal(partial.status, 'succeeded');
    assert.equal(partial.charge, chargeId);
    assert.equal(partial.payment_intent, intent.id);
    const half = await stripe.charges.retrieve(chargeId);
    assert.equal(half.amount_refunded, 1_200);
    assert.equal(half.refunded, false);
    assert.deepEqual(
      half.refunds?.data.map((refund) => refund.id),
      [partial.id],
    );
    const rest = await stripe.refunds.create({ charge: chargeId, payment_intent: intent.id });
    assert.equal(rest.amount, 3_800);
    const full = await stripe.charges.retrieve(chargeId);
    assert.equal(full.amount_refunded, 5_000);
    assert.equal(full.refunded, true);
    assert.deepEqual(
      full.refunds?.data.map((refund) => refund.id),
      [rest.id, partial.id],
    );
    const listed = await stripe.refunds.list({ charge: chargeId });
    assert.equal(listed.data.length, 2);
    await assert.rejects(stripe.refunds.create({ charge: chargeId }), (error: unknown) => {
      assert.ok(error instanceof Stripe.errors.StripeInvalidRequestError, String(error));
      assert.equal(error.code, 'charge_already_refunded');
      return true;
    });
    const events = await eventsOf(stripe, chargeId, 'charge.');
    assert.deepEqual(events, ['charge.succeeded', 'charge.refunded', 'charge.refunded']);
    assert.deepEqual(await eventsOf(stripe, partial.id, 'charge.refund.'), [
      'charge.refund.updated',
    ]);
  });

  test('a failed charge is not refundable; a charge of the wrong intent is refused', async () => {
    let declined = '';
    await pay(stripe, { payment_method: 'pm_card_chargeDeclined' }).catch((error: unknown) => {
      declined = String((error as Stripe.errors.StripeCardError).charge);
    });
    assert.match(declined, /^ch_/);
    await assert.rejects(stripe.refunds.create({ charge: declined }), (error: unknown) => {
      assert.ok(error instanceof Stripe.errors.StripeInvalidRequestError, String(error));
      assert.equal(error.param, 'charge');
      return true;
    });
    const other = await pay(stripe);
    await assert.rejects(
      stripe.refunds.create({ charge: declined, payment_intent: other.id }),
      (error: unknown) => {
        assert.ok(error instanceof Stripe.errors.StripeInvalidRequestError, String(error));
        assert.equal(error.param, 'charge');
        return true;
      },
    );
  });

  test('refunds.update merges metadata as Stripe does: new keys added, "" unsets one, metadata "" all', async () => {
    const intent = await pay(stripe);
    const refund = await stripe.refunds.create({
      payment_intent: intent.id,
      amount: 500,
      metadata: { ticket: 'T-1', agent: 'ann' },
    });
    const merged = await stripe.refunds.update(refund.id, {
      metadata: { agent: '', note: 'late delivery' },
    });
    assert.deepEqual(merged.metadata, { ticket: 'T-1', note: 'late delivery' });
    assert.deepEqual((await stripe.refunds.retrieve(refund.id)).metadata, merged.metadata);
    const cleared = await stripe.refunds.update(refund.id, { metadata: '' });
    assert.deepEqual(cleared.metadata, {});
    assert.deepEqual(await eventsOf(stripe, refund.id, 'refund.'), [
      'refund.created',
      'refund.updated',
      'refund.updated',
      'refund.updated',
    ]);
    assert.deepEqual(await eventsOf(stripe, refund.id, 'charge.refund.'), [
      'charge.refund.updated',
      'charge.refund.updated',
      'charge.refund.updated',
    ]);
  });

  test('refunds.cancel of a refund that has gone to the PSP is refused, nothing changes', async () => {
    const intent = await pay(stripe);
    const refund = await stripe.refunds.create({ payment_intent: intent.id, amount: 300 });
    await assert.rejects(stripe.refunds.cancel(refund.id), (error: unknown) => {
      assert.ok(error instanceof Stripe.errors.StripeInvalidRequestError, String(error));
      assert.equal(error.code, 'refund_not_cancelable');
      assert.equal(error.statusCode, 400);
      return true;
    });
    assert.equal((await stripe.refunds.retrieve(refund.id)).status, 'succeeded');
  });

  test('a refund of an uncaptured payment cancels its intent and releases the whole authorization', async () => {
    const intent = await pay(stripe, { amount: 4_000, capture_method: 'manual' });
    await assert.rejects(
      stripe.refunds.create({ payment_intent: intent.id, amount: 1_000 }),
      (error: unknown) => {
        assert.ok(error instanceof Stripe.errors.StripeInvalidRequestError, String(error));
        assert.equal(error.param, 'amount');
        return true;
      },
    );
    const refund = await stripe.refunds.create({ charge: intent.latest_charge as string });
    assert.equal(refund.status, 'succeeded');
    assert.equal(refund.amount, 4_000);
    assert.equal(refund.balance_transaction, null);
    const canceled = await stripe.paymentIntents.retrieve(intent.id);
    assert.equal(canceled.status, 'canceled');
    assert.equal(canceled.amount_received, 0);
    const charge = await stripe.charges.retrieve(intent.latest_charge as string);
    assert.equal(charge.captured, false);
    assert.equal(charge.refunded, true);
    assert.equal(charge.amount_refunded, 4_000);
    assert.equal(charge.balance_transaction, null);
    assert.deepEqual(
      charge.refunds?.data.map((item) => item.id),
      [refund.id],
    );
    assert.ok((await eventsOf(stripe, charge.id, 'charge.')).includes('charge.refunded'));
  });

  test("another merchant's charges and refunds are unknown to it", async () => {
    const intent = await pay(stripe);
    const refund = await stripe.refunds.create({ payment_intent: intent.id, amount: 100 });
    const { stripe: other } = await stack.newMerchant('Other shop');
    const missing = (param: string) => (error: unknown) => {
      assert.ok(error instanceof Stripe.errors.StripeInvalidRequestError, String(error));
      assert.equal(error.statusCode, 404);
      assert.equal(error.code, 'resource_missing');
      assert.equal(error.param, param);
      return true;
    };
    await assert.rejects(other.charges.retrieve(intent.latest_charge as string), missing('id'));
    await assert.rejects(
      other.refunds.create({ charge: intent.latest_charge as string }),
      missing('charge'),
    );
    await assert.rejects(other.refunds.update(refund.id, { metadata: { a: 'b' } }), missing('id'));
    await assert.rejects(other.refunds.cancel(refund.id), missing('id'));
    assert.deepEqual((await other.charges.list({ payment_intent: intent.id })).data, []);
    assert.deepEqual((await stripe.refunds.retrieve(refund.id)).metadata, {});
  });
});

// A refund that never left Payrail can be canceled. Here the PSP answers every call with a 500
// and a connector's circuit breaker opens at the first failure: the first refund was sent (its
// outcome is unknown, so it stays pending and cannot be canceled); the next is refused by the open
// breaker before anything is sent, stays pending unsent, and is canceled.
describe('refunds.cancel through the Stripe SDK while the PSP is down', () => {
  let stack: StripeStack;
  let stripe: Stripe;

  before(async () => {
    stack = await startStripeStack({
      env: { PAYRAIL_BREAKER_THRESHOLD: '1', PAYRAIL_BREAKER_HALF_OPEN_MS: '600000' },
    });
    ({ stripe } = stack);
  });
  after(() => stack.stop());

  test('a refund the PSP never received is canceled and its amount is refundable again', async () => {
    const intent = await pay(stripe, { amount: 2_000 });
    const connector = String((intent as unknown as { connector: string }).connector);
    const faults = await fetch(`${stack.stack.simulator.url}/_sim/faults/${connector}`, {
      method: 'PUT',
      body: JSON.stringify({ errorRate: 1 }),
    });
    assert.equal(faults.status, 200);
    const sent = await stripe.refunds.create({ payment_intent: intent.id, amount: 500 });
    assert.equal(sent.status, 'pending', 'the PSP answered 500: the outcome is unknown');
    await assert.rejects(stripe.refunds.cancel(sent.id), (error: unknown) => {
      assert.ok(error instanceof Stripe.errors.StripeInvalidRequestError, String(error));
      assert.equal(error.code, 'refund_not_cancelable');
      assert.match(error.message, /sent to the PSP/);
      return true;
    });
    await assert.rejects(
      stripe.refunds.create(
        { payment_intent: intent.id, amount: 700, metadata: { try: '2' } },
        { maxNetworkRetries: 0 },
      ),
      (error: unknown) => {
        assert.ok(error instanceof Stripe.errors.StripeAPIError, String(error));
        assert.equal(error.statusCode, 503);
        return true;
      },
    );
    const unsent = (await stripe.refunds.list({ payment_intent: intent.id })).data.find(
      (refund) => refund.amount === 700,
    );
    assert.equal(unsent?.status, 'pending');
    const canceled = await stripe.refunds.cancel(String(unsent?.id));
    assert.equal(canceled.status, 'canceled');
    assert.equal(canceled.failure_reason, 'merchant_request');
    assert.equal((await stripe.refunds.retrieve(canceled.id)).status, 'canceled');
    const charge = await stripe.charges.retrieve(intent.latest_charge as string);
    assert.equal(charge.amount_refunded, 0);
    assert.deepEqual(
      charge.refunds?.data.map((refund) => [refund.amount, refund.status]),
      [
        [700, 'canceled'],
        [500, 'pending'],
      ],
    );
    // Only the 500 stays reserved: 1,500 is left to refund, not 800.
    await assert.rejects(
      stripe.refunds.create({ payment_intent: intent.id, amount: 1_501 }),
      (error: unknown) => {
        assert.ok(error instanceof Stripe.errors.StripeInvalidRequestError, String(error));
        assert.match(error.message, /\(1500\)/);
        return true;
      },
    );
    assert.deepEqual(await eventsOf(stripe, canceled.id, 'charge.refund.'), [
      'charge.refund.updated',
    ]);
  });
});
