// Customers, saved cards, payments that save a card (setup_future_usage) and SetupIntents, driven
// through Stripe's own Node SDK with Stripe's documented semantics.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Stripe from 'stripe';
import { call } from '../support/server.ts';
import { groundTruth } from '../support/simulator.ts';
import { assertStripeShape } from './shape.ts';
import { startStripeStack, stripeClient, type StripeStack } from '../support/stripe.ts';

function rejectsWith(
  type: typeof Stripe.errors.StripeError,
  check: (error: Stripe.errors.StripeError) => void,
): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof type, String(error));
    check(error as Stripe.errors.StripeError);
    return true;
  };
}

const card = (number = '4242424242424242') =>
  ({
    type: 'card',
    card: { number, exp_month: 12, exp_year: 2031, cvc: '314' },
  }) as Stripe.PaymentMethodCreateParams;

describe("customers and saved cards through Stripe's SDK", () => {
  let stack: StripeStack;
  let stripe: Stripe;

  before(async () => {
    // One try per PSP call: a lost answer stays unknown (the status sync test needs it).
    stack = await startStripeStack({ env: { PAYRAIL_PSP_ATTEMPTS: '1' } });
    ({ stripe } = stack);
  });
  after(() => stack.stop());

  test('create, retrieve, update, list by email and created, delete', async () => {
    const created = await stripe.customers.create({
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      phone: '+44 20 7946 0000',
      description: 'first customer',
      address: { line1: '12 St James Square', city: 'London', country: 'GB' },
      metadata: { crm: 'c-1', tier: 'gold' },
    });
    assert.match(created.id, /^cus_/);
    assertStripeShape(created, 'Customer');
    assert.equal(created.object, 'customer');
    assert.equal(created.email, 'ada@example.com');
    assert.equal(created.address?.city, 'London');
    assert.equal(created.address?.postal_code, null);
    assert.equal(created.invoice_settings.default_payment_method, null);
    assert.equal(created.livemode, false);
    assert.equal(created.balance, 0);

    const retrieved = await stripe.customers.retrieve(created.id);
    assert.ok(!('deleted' in retrieved && retrieved.deleted));
    assert.equal((retrieved as Stripe.Customer).name, 'Ada Lovelace');

    // Metadata merges, '' deletes a key or clears a field (Stripe's update semantics).
    const updated = await stripe.customers.update(created.id, {
      name: 'Ada King',
      description: '',
      metadata: { tier: '', region: 'eu' },
    });
    assert.equal(updated.name, 'Ada King');
    assert.equal(updated.description, null);
    assert.deepEqual(updated.metadata, { crm: 'c-1', region: 'eu' });
    assert.equal(updated.email, 'ada@example.com');

    const other = await stripe.customers.create({ email: 'grace@example.com' });
    const byEmail = await stripe.customers.list({ email: 'ada@example.com' });
    assert.deepEqual(
      byEmail.data.map((customer) => customer.id),
      [created.id],
    );
    const all = await stripe.customers.list({ limit: 100 });
    assert.equal(all.data[0]?.id, other.id, 'newest first');
    const since = await stripe.customers.list({ created: { gte: other.created } });
    assert.ok(since.data.some((customer) => customer.id === other.id));
    const before = await stripe.customers.list({ created: { lt: created.created } });
    assert.ok(!before.data.some((customer) => customer.id === created.id));
    const exact = await stripe.customers.list({ created: created.created, limit: 100 });
    assert.ok(exact.data.some((customer) => customer.id === created.id));

    const deleted = await stripe.customers.del(other.id);
    assert.deepEqual(deleted, { id: other.id, object: 'customer', deleted: true });
    assertStripeShape(deleted, 'DeletedCustomer');
    const gone = await stripe.customers.retrieve(other.id);
    assert.equal((gone as Stripe.DeletedCustomer).deleted, true);
    assert.ok(!(await stripe.customers.list({ limit: 100 })).data.some((c) => c.id === other.id));
    await assert.rejects(
      stripe.customers.update(other.id, { name: 'again' }),
      rejectsWith(Stripe.errors.StripeInvalidRequestError, (error) => {
        assert.equal(error.statusCode, 404);
        assert.equal(error.code, 'resource_missing');
      }),
    );
    await assert.rejects(
      stripe.customers.retrieve('cus_doesnotexist000'),
      rejectsWith(Stripe.errors.StripeInvalidRequestError, (error) => {
        assert.equal(error.code, 'resource_missing');
      }),
    );
  });

  test('attach, list, default payment method, update, detach', async () => {
    const customer = await stripe.customers.create({ email: 'saved@example.com' });
    const method = await stripe.paymentMethods.create(card());
    assert.equal(method.customer, null);
    const attached = await stripe.paymentMethods.attach(method.id, { customer: customer.id });
    assert.equal(attached.customer, customer.id);
    assertStripeShape(attached, 'PaymentMethod');
    assert.equal(attached.card?.last4, '4242');
    // Again to the same customer: nothing changes.
    assert.equal(
      (await stripe.paymentMethods.attach(method.id, { customer: customer.id })).customer,
      customer.id,
    );
    // A test-mode id is copied into a new saved card, as Stripe does.
    const fromTestId = await stripe.paymentMethods.attach('pm_card_mastercard', {
      customer: customer.id,
    });
    assert.notEqual(fromTestId.id, 'pm_card_mastercard');
    assert.equal(fromTestId.card?.brand, 'mastercard');

    const listed = await stripe.paymentMethods.list({ customer: customer.id, type: 'card' });
    assert.deepEqual(
      listed.data.map((item) => item.id),
      [fromTestId.id, method.id],
    );
    const ofCustomer = await stripe.customers.listPaymentMethods(customer.id, { limit: 1 });
    assert.equal(ofCustomer.data.length, 1);
    assert.equal(ofCustomer.has_more, true);

    const withDefault = await stripe.customers.update(customer.id, {
      invoice_settings: { default_payment_method: method.id },
    });
    assert.equal(withDefault.invoice_settings.default_payment_method, method.id);
    const loose = await stripe.paymentMethods.create(card('5555555555554444'));
    await assert.rejects(
      stripe.customers.update(customer.id, {
        invoice_settings: { default_payment_method: loose.id },
      }),
      rejectsWith(Stripe.errors.StripeInvalidRequestError, (error) => {
        assert.equal(error.param, 'invoice_settings[default_payment_method]');
      }),
    );

    const changed = await stripe.paymentMethods.update(method.id, {
      metadata: { label: 'work card' },
      billing_details: {
        name: 'A. King',
        email: 'billing@example.com',
        address: { city: 'Paris' },
      },
    });
    assert.deepEqual(changed.metadata, { label: 'work card' });
    assert.equal(changed.billing_details.name, 'A. King');
    assert.equal(changed.billing_details.email, 'billing@example.com');
    assert.equal(changed.billing_details.address?.city, 'Paris');

    // Attached elsewhere: refused.
    const second = await stripe.customers.create({ email: 'second@example.com' });
    await assert.rejects(
      stripe.paymentMethods.attach(method.id, { customer: second.id }),
      rejectsWith(Stripe.errors.StripeInvalidRequestError, (error) => {
        assert.equal(error.code, 'payment_method_unexpected_state');
      }),
    );

    const detached = await stripe.paymentMethods.detach(method.id);
    assert.equal(detached.customer, null);
    assert.equal(detached.card?.last4, '4242');
    assert.equal(
      ((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).invoice_settings
        .default_payment_method,
      null,
      'a detached card stops being the default',
    );
    // As Stripe has it, a detached payment method can never be used or attached again.
    await assert.rejects(
      stripe.paymentMethods.attach(method.id, { customer: customer.id }),
      rejectsWith(Stripe.errors.StripeInvalidRequestError, (error) => {
        assert.equal(error.code, 'payment_method_unexpected_state');
      }),
    );
    await assert.rejects(
      stripe.paymentIntents.create({
        amount: 1_000,
        currency: 'usd',
        payment_method: method.id,
        confirm: true,
      }),
      rejectsWith(Stripe.errors.StripeInvalidRequestError, (error) => {
        assert.equal(error.code, 'payment_method_unexpected_state');
      }),
    );
    await assert.rejects(
      stripe.paymentMethods.detach(loose.id),
      rejectsWith(Stripe.errors.StripeInvalidRequestError, (error) => {
        assert.equal(error.code, 'payment_method_unexpected_state');
      }),
    );
  });

  test('a payment with setup_future_usage saves the card to the customer', async () => {
    const customer = await stripe.customers.create({ email: 'buyer@example.com' });
    const method = await stripe.paymentMethods.create(card());
    const intent = await stripe.paymentIntents.create({
      amount: 2_500,
      currency: 'usd',
      customer: customer.id,
      payment_method: method.id,
      setup_future_usage: 'off_session',
      confirm: true,
    });
    assert.equal(intent.status, 'succeeded');
    assert.equal(intent.customer, customer.id);
    assert.equal(intent.setup_future_usage, 'off_session');
    const saved = await stripe.paymentMethods.retrieve(method.id);
    assert.equal(saved.customer, customer.id);

    // The saved card pays again, for its customer only.
    const again = await stripe.paymentIntents.create({
      amount: 900,
      currency: 'usd',
      customer: customer.id,
      payment_method: method.id,
      confirm: true,
    });
    assert.equal(again.status, 'succeeded');
    const stranger = await stripe.customers.create({ email: 'stranger@example.com' });
    await assert.rejects(
      stripe.paymentIntents.create({
        amount: 900,
        currency: 'usd',
        customer: stranger.id,
        payment_method: method.id,
        confirm: true,
      }),
      rejectsWith(Stripe.errors.StripeInvalidRequestError, (error) => {
        assert.equal(error.param, 'payment_method');
      }),
    );
    await assert.rejects(
      stripe.paymentIntents.create({
        amount: 900,
        currency: 'usd',
        payment_method: method.id,
        confirm: true,
      }),
      rejectsWith(Stripe.errors.StripeInvalidRequestError, (error) => {
        assert.equal(error.param, 'payment_method');
      }),
    );
    await assert.rejects(
      stripe.paymentIntents.create({ amount: 900, currency: 'usd', customer: 'cus_nobody0000' }),
      rejectsWith(Stripe.errors.StripeInvalidRequestError, (error) => {
        assert.equal(error.statusCode, 404);
        assert.equal(error.param, 'customer');
      }),
    );

    // A manual-capture payment saves the card once authorized, as Stripe does.
    const held = await stripe.paymentIntents.create({
      amount: 1_100,
      currency: 'usd',
      customer: customer.id,
      payment_method: 'pm_card_visa',
      setup_future_usage: 'on_session',
      capture_method: 'manual',
      confirm: true,
    });
    assert.equal(held.status, 'requires_capture');
    const cards = await stripe.customers.listPaymentMethods(customer.id);
    assert.equal(cards.data.length, 2);

    // setup_future_usage given at confirm, as Stripe's confirm takes it.
    const draft = await stripe.paymentIntents.create({
      amount: 700,
      currency: 'usd',
      customer: customer.id,
    });
    const fresh = await stripe.paymentMethods.create(card('5555555555554444'));
    const confirmed = await stripe.paymentIntents.confirm(draft.id, {
      payment_method: fresh.id,
      setup_future_usage: 'off_session',
    });
    assert.equal(confirmed.setup_future_usage, 'off_session');
    assert.equal((await stripe.paymentMethods.retrieve(fresh.id)).customer, customer.id);
    const intents = await stripe.paymentIntents.list({ customer: customer.id });
    assert.deepEqual(
      intents.data.map((item) => item.id),
      [draft.id, held.id, again.id, intent.id],
    );
  });

  test('an authorization learned later (status sync) saves the card too', async () => {
    const customer = await stripe.customers.create({ email: 'later@example.com' });
    // The PSP charges this card but its answer is lost: the payment stays processing.
    const method = await stripe.paymentMethods.create(card('4000009990000039'));
    const intent = await stripe.paymentIntents.create({
      amount: 1_300,
      currency: 'usd',
      customer: customer.id,
      payment_method: method.id,
      setup_future_usage: 'off_session',
      confirm: true,
      connector: 'stripe',
    } as Stripe.PaymentIntentCreateParams);
    assert.equal(intent.status, 'processing');
    assert.equal((await stripe.paymentMethods.retrieve(method.id)).customer, null);
    const synced = await call(stack.server, 'POST', `/v1/payment_intents/${intent.id}/sync`, {
      key: stack.secretKey,
      body: {},
    });
    assert.equal(synced.body.status, 'succeeded', JSON.stringify(synced.body));
    assert.equal((await stripe.paymentMethods.retrieve(method.id)).customer, customer.id);
  });

  test('SetupIntents: create, update, confirm (verified at the connector), cancel, list', async () => {
    const customer = await stripe.customers.create({ email: 'setup@example.com' });
    const setup = await stripe.setupIntents.create({
      customer: customer.id,
      metadata: { flow: 'signup' },
    });
    assert.match(setup.id, /^seti_/);
    assertStripeShape(setup, 'SetupIntent');
    assert.equal(setup.status, 'requires_payment_method');
    assert.equal(setup.usage, 'off_session');
    assert.match(setup.client_secret ?? '', new RegExp(`^${setup.id}_secret_`));
    assert.deepEqual(setup.payment_method_types, ['card']);

    const method = await stripe.paymentMethods.create(card());
    const updated = await stripe.setupIntents.update(setup.id, {
      payment_method: method.id,
      metadata: { step: '2' },
    });
    assert.equal(updated.status, 'requires_confirmation');
    assert.deepEqual(updated.metadata, { flow: 'signup', step: '2' });

    const confirmed = await stripe.setupIntents.confirm(setup.id);
    assert.equal(confirmed.status, 'succeeded');
    assertStripeShape(confirmed, 'SetupIntent');
    // The PSP saw one authorization of one unit, voided at once: nothing was charged.
    const truth = await groundTruth(stack.stack.simulator, { reference: `${setup.id}_v1` });
    assert.deepEqual(
      truth.payments.map((payment) => [
        payment.psp,
        payment.authorized,
        payment.captured,
        payment.voided,
      ]),
      [['stripe', 100, 0, true]],
    );
    assert.equal(confirmed.payment_method, method.id);
    assert.equal((await stripe.paymentMethods.retrieve(method.id)).customer, customer.id);
    const retrieved = await stripe.setupIntents.retrieve(setup.id);
    assert.equal(retrieved.status, 'succeeded');
    await assert.rejects(
      stripe.setupIntents.confirm(setup.id),
      rejectsWith(Stripe.errors.StripeInvalidRequestError, (error) => {
        assert.equal(error.code, 'setup_intent_unexpected_state');
      }),
    );
    await assert.rejects(
      stripe.setupIntents.cancel(setup.id),
      rejectsWith(Stripe.errors.StripeInvalidRequestError, (error) => {
        assert.equal(error.code, 'setup_intent_unexpected_state');
      }),
    );

    // In one call, with a test-mode id: a new saved card, verified and attached.
    const oneCall = await stripe.setupIntents.create({
      customer: customer.id,
      payment_method: 'pm_card_visa',
      confirm: true,
      usage: 'on_session',
    });
    assert.equal(oneCall.status, 'succeeded');
    assert.equal(oneCall.usage, 'on_session');
    assert.notEqual(oneCall.payment_method, 'pm_card_visa');
    const saved = await stripe.customers.listPaymentMethods(customer.id);
    assert.deepEqual(
      new Set(saved.data.map((item) => item.id)),
      new Set([method.id, oneCall.payment_method]),
    );

    // A declined verification: the SDK's card error, the SetupIntent back at requires_payment_method.
    const declined = await stripe.setupIntents.create({ customer: customer.id });
    await assert.rejects(
      stripe.setupIntents.confirm(declined.id, { payment_method: 'pm_card_chargeDeclined' }),
      rejectsWith(Stripe.errors.StripeCardError, (error) => {
        assert.equal(error.statusCode, 402);
        assert.equal(error.code, 'card_declined');
        assert.ok(error.decline_code);
        assert.equal(
          (error.raw as { setup_intent?: { status?: string } }).setup_intent?.status,
          'requires_payment_method',
        );
      }),
    );
    const afterDecline = await stripe.setupIntents.retrieve(declined.id);
    assert.equal(afterDecline.last_setup_error?.code, 'card_declined');
    assert.equal(afterDecline.status, 'requires_payment_method');
    assert.equal((await stripe.customers.listPaymentMethods(customer.id)).data.length, 2);

    const canceled = await stripe.setupIntents.cancel(declined.id, {
      cancellation_reason: 'abandoned',
    });
    assert.equal(canceled.status, 'canceled');
    assert.equal(canceled.cancellation_reason, 'abandoned');

    const listed = await stripe.setupIntents.list({ customer: customer.id, limit: 2 });
    assert.deepEqual(
      listed.data.map((item) => item.id),
      [declined.id, oneCall.id],
    );
    assert.equal(listed.has_more, true);
  });

  test('a retried confirm of a processing SetupIntent resends the same verification', async () => {
    const customer = await stripe.customers.create({ email: 'retry@example.com' });
    // The PSP authorizes, but its answer is lost: the SetupIntent stays processing.
    const method = await stripe.paymentMethods.create(card('4000009990000039'));
    const setup = await stripe.setupIntents.create({
      customer: customer.id,
      payment_method: method.id,
      confirm: true,
    });
    assert.equal(setup.status, 'processing');
    assert.equal((await stripe.paymentMethods.retrieve(method.id)).customer, null);
    const again = await stripe.setupIntents.confirm(setup.id);
    assert.equal(again.status, 'succeeded');
    assert.equal((await stripe.paymentMethods.retrieve(method.id)).customer, customer.id);
    // One verification at the PSP (the retry reused its idempotency key), voided.
    const truth = await groundTruth(stack.stack.simulator, { reference: `${setup.id}_v1` });
    assert.deepEqual(
      truth.payments.map((payment) => [payment.authorized, payment.captured, payment.voided]),
      [[100, 0, true]],
    );
  });

  test('a SetupIntent without a connector that can verify is a clear error', async () => {
    const merchant = await stack.stack.merchant('No verification shop');
    const client = stripeClient(stack.server, merchant.key);
    const payments = stack.server.context.payments;
    for (const setting of await payments.connectorSettings(merchant.id))
      if (setting.connector === 'stripe' || setting.connector === 'adyen')
        await payments.setConnector(merchant.id, { ...setting, enabled: false });
    const customer = await client.customers.create({ email: 'nowhere@example.com' });
    const setup = await client.setupIntents.create({ customer: customer.id });
    await assert.rejects(
      client.setupIntents.confirm(setup.id, { payment_method: 'pm_card_visa' }),
      rejectsWith(Stripe.errors.StripeInvalidRequestError, (error) => {
        assert.equal(error.code, 'capability_not_supported');
        assert.match(error.message, /verify a card/);
      }),
    );
    assert.equal((await client.setupIntents.retrieve(setup.id)).status, 'requires_payment_method');
  });
});
