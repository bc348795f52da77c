// Every object Stripe's SDK gets back from Payrail, held against the SDK's own TypeScript type for
// it (shape.ts): field names and JSON types, with what Payrail lacks or adds listed in
// unsupported.ts. Each reachable state of a PaymentIntent is compared, since fields appear with
// state (a capture, a cancellation, a decline's last_payment_error).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Stripe from 'stripe';
import { startStripeStack, type StripeStack } from '../support/stripe.ts';
import { waitFor } from '../support/wait.ts';
import {
  assertStripeList,
  assertStripeShape,
  checkLists,
  stripeTypes,
  unmetEntries,
} from './shape.ts';
import { extensions, unsupported } from './unsupported.ts';

const card = { number: '4242424242424242', exp_month: 12, exp_year: 2031, cvc: '314' };

describe("Payrail's objects against the stripe SDK's types", () => {
  let stack: StripeStack;
  let stripe: Stripe;

  before(async () => {
    // Webhook endpoints on loopback (a closed port): nothing is delivered beyond this machine.
    stack = await startStripeStack({ env: { PAYRAIL_WEBHOOK_ALLOW_LOOPBACK: '1' } });
    ({ stripe } = stack);
  });
  after(() => stack.stop());

  test('the SDK types load once, fast enough, and the lists name real fields', () => {
    const source = stripeTypes();
    console.log(`stripe SDK types loaded in ${source.loadMs.toFixed(0)} ms`);
    assert.ok(source.loadMs < 30_000, `loading the SDK types took ${source.loadMs} ms`);
    assert.equal(stripeTypes(), source, 'the Program is built once per process');
    assert.deepEqual(checkLists(source, { unsupported, extensions }), []);
  });

  test('a PaymentIntent in each state it reaches, and its lists', async () => {
    const created = await stripe.paymentIntents.create({ amount: 1_000, currency: 'usd' });
    assert.equal(created.status, 'requires_payment_method');
    assertStripeShape(created, 'PaymentIntent');

    const authorized = await stripe.paymentIntents.create({
      amount: 2_000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      capture_method: 'manual',
      confirm: true,
      description: 'shape check',
      metadata: { order: 'shape-1' },
    });
    assert.equal(authorized.status, 'requires_capture');
    assertStripeShape(authorized, 'PaymentIntent');

    const captured = await stripe.paymentIntents.capture(authorized.id, {
      amount_to_capture: 1_500,
    });
    assert.equal(captured.status, 'succeeded');
    assertStripeShape(captured, 'PaymentIntent');

    const automatic = await stripe.paymentIntents.create({
      amount: 900,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
    });
    assert.equal(automatic.status, 'succeeded');
    assertStripeShape(automatic, 'PaymentIntent');

    const toCancel = await stripe.paymentIntents.create({
      amount: 800,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      capture_method: 'manual',
      confirm: true,
    });
    const canceled = await stripe.paymentIntents.cancel(toCancel.id);
    assert.equal(canceled.status, 'canceled');
    assertStripeShape(canceled, 'PaymentIntent');

    // The connector's answer is an error: the outcome is unknown until Payrail learns it.
    const unknown = await stripe.paymentIntents.create({
      amount: 500,
      currency: 'usd',
      payment_method: 'pm_card_pspError',
      confirm: true,
    });
    assert.equal(unknown.status, 'processing');
    assertStripeShape(unknown, 'PaymentIntent');

    const retrieved = await stripe.paymentIntents.retrieve(captured.id);
    assertStripeShape(retrieved, 'PaymentIntent');
    const page = await stripe.paymentIntents.list({ limit: 10 });
    assert.ok(page.data.length >= 5);
    assertStripeList(page, 'PaymentIntent');
  });

  for (const method of [
    'pm_card_chargeDeclinedInsufficientFunds',
    'pm_card_chargeDeclined',
    'pm_card_chargeDeclinedExpiredCard',
  ]) {
    test(`a PaymentIntent declined (${method}), from the card error and retrieved`, async () => {
      const error = await stripe.paymentIntents
        .create({ amount: 700, currency: 'usd', payment_method: method, confirm: true })
        .then(
          () => assert.fail('the decline was not an error'),
          (caught: unknown) => caught,
        );
      assert.ok(error instanceof Stripe.errors.StripeCardError, String(error));
      assertStripeShape(error.raw, 'StripeRawError');
      const fromError = error.payment_intent;
      assert.ok(fromError);
      assert.equal(fromError.status, 'requires_payment_method');
      assert.ok(fromError.last_payment_error);
      assertStripeShape(fromError, 'PaymentIntent');
      const retrieved = await stripe.paymentIntents.retrieve(fromError.id);
      assert.equal(retrieved.last_payment_error?.code, fromError.last_payment_error.code);
      assertStripeShape(retrieved, 'PaymentIntent');
    });
  }

  test('an invalid request error', async () => {
    const error = await stripe.paymentIntents.create({ amount: -1, currency: 'usd' }).then(
      () => assert.fail('a negative amount was accepted'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof Stripe.errors.StripeInvalidRequestError, String(error));
    assert.equal(error.param, 'amount');
    assertStripeShape(error.raw, 'StripeRawError');
  });

  test('a PaymentMethod, created and retrieved', async () => {
    const method = await stripe.paymentMethods.create({
      type: 'card',
      card,
    } as Stripe.PaymentMethodCreateParams);
    assertStripeShape(method, 'PaymentMethod');
    assertStripeShape(await stripe.paymentMethods.retrieve(method.id), 'PaymentMethod');
  });

  test('a Refund, created, retrieved and listed', async () => {
    const intent = await stripe.paymentIntents.create({
      amount: 3_000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
    });
    const refund = await stripe.refunds.create({
      payment_intent: intent.id,
      amount: 1_000,
      reason: 'requested_by_customer',
      metadata: { ticket: 't-1' },
    });
    assertStripeShape(refund, 'Refund');
    assertStripeShape(await stripe.refunds.retrieve(refund.id), 'Refund');
    assertStripeList(await stripe.refunds.list({ payment_intent: intent.id }), 'Refund');
  });

  test('the Balance and balance transactions', async () => {
    await stripe.paymentIntents.create({
      amount: 4_000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
    });
    assertStripeShape(await stripe.balance.retrieve(), 'Balance');
    const transactions = await stripe.balanceTransactions.list({ limit: 5 });
    assertStripeList(transactions, 'BalanceTransaction');
    const first = transactions.data[0];
    assert.ok(first, 'a payment leaves a balance transaction');
    assertStripeShape(await stripe.balanceTransactions.retrieve(first.id), 'BalanceTransaction');
  });

  test('Events: listed, retrieved, each with its object (a charge from a charge event)', async () => {
    const intent = await stripe.paymentIntents.create({
      amount: 5_000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
    });
    await stripe.refunds.create({ payment_intent: intent.id, amount: 5_000 });
    await stripe.paymentIntents
      .create({
        amount: 600,
        currency: 'usd',
        payment_method: 'pm_card_chargeDeclined',
        confirm: true,
      })
      .catch((error: unknown) => assert.ok(error instanceof Stripe.errors.StripeCardError));
    const wanted = ['charge.refunded', 'refund.created', 'payment_intent.payment_failed'];
    const events = await waitFor('the refund and failure events', async () => {
      const page = await stripe.events.list({ limit: 100 });
      const types = new Set<string>(page.data.map((event) => event.type));
      return wanted.every((type) => types.has(type)) ? page : undefined;
    });
    assertStripeList(events, 'Event');
    const seen = new Set(
      events.data.map((event) => (event.data.object as { object: string }).object),
    );
    assert.ok(
      seen.has('payment_intent') && seen.has('charge') && seen.has('refund'),
      [...seen].join(),
    );
    const charge = events.data.find((event) => event.type === 'charge.refunded');
    assert.ok(charge);
    assertStripeShape(charge.data.object, 'Charge');
    for (const event of events.data.slice(0, 10)) {
      assertStripeShape(await stripe.events.retrieve(event.id), 'Event');
    }
  });

  test('WebhookEndpoints: created (with the secret), retrieved, listed', async () => {
    const created = await stripe.webhookEndpoints.create({
      url: 'http://127.0.0.1:9/hooks',
      enabled_events: ['payment_intent.succeeded', 'charge.refunded'],
      description: 'shape check',
      metadata: { team: 'payments' },
    });
    assert.ok(created.secret?.startsWith('whsec_'));
    assertStripeShape(created, 'WebhookEndpoint');
    assertStripeShape(await stripe.webhookEndpoints.retrieve(created.id), 'WebhookEndpoint');
    assertStripeList(await stripe.webhookEndpoints.list({ limit: 10 }), 'WebhookEndpoint');
    const updated = await stripe.webhookEndpoints.update(created.id, { disabled: true });
    assert.equal(updated.status, 'disabled');
    assertStripeShape(updated, 'WebhookEndpoint');
    assertStripeShape(await stripe.webhookEndpoints.del(created.id), 'DeletedWebhookEndpoint');
  });

  test('every entry of unsupported.ts for the objects compared here was met', () => {
    assert.deepEqual(unmetEntries({ unsupported, extensions }), []);
  });
});
