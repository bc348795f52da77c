// Client-side confirmation and Stripe's intent parameters, through Stripe's own SDK. The server
// holds the secret key and creates the intent; the browser holds only the publishable key and the
// intent's client secret, and makes the two calls Stripe.js makes: retrieve the intent with
// `client_secret` as a query parameter, and confirm it with `client_secret` (and a card inline
// as `payment_method_data`, or a payment method id, and a `return_url`) in the body.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Stripe from 'stripe';
import { call, testAdminKey } from '../support/server.ts';
import { startStripeStack, stripeClient, type StripeStack } from '../support/stripe.ts';
import { assertStripeShape } from './shape.ts';

type Keys = { secret: Stripe; browser: Stripe; publishableKey: string; secretKey: string };

/** What the SDK refused with: its error class, HTTP status and Stripe's error fields. */
async function refusal(promise: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Stripe.errors.StripeError, String(error));
    return error;
  }
  return assert.fail('the call was not refused');
}

/** Stripe.js's confirm body: what the server SDK's types do not list (client_secret, the type). */
type BrowserConfirm = Stripe.PaymentIntentConfirmParams & {
  client_secret: string;
  expected_payment_method_type?: 'card';
};

describe('publishable keys, client secrets and intent parameters through the SDK', () => {
  let stack: StripeStack;
  let shop: Keys;

  async function newShop(name: string): Promise<Keys> {
    const created = await call(stack.server, 'POST', '/v1/admin/merchants', {
      key: testAdminKey,
      body: { name },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const secretKey = String(created.body.secret_key);
    const publishableKey = String(created.body.publishable_key);
    return {
      secret: stripeClient(stack.server, secretKey),
      browser: stripeClient(stack.server, publishableKey),
      publishableKey,
      secretKey,
    };
  }

  before(async () => {
    stack = await startStripeStack();
    shop = await newShop('Browser shop');
  });
  after(() => stack.stop());

  test('the merchant gets a publishable key of its mode, and can roll it', async () => {
    assert.match(shop.publishableKey, /^pk_test_[A-Za-z0-9]+$/);
    const other = await newShop('Rolling shop');
    const rolled = await call(stack.server, 'POST', '/v1/publishable_keys', {
      key: other.secretKey,
      body: {},
    });
    assert.equal(rolled.status, 200, JSON.stringify(rolled.body));
    assert.equal(rolled.body.object, 'publishable_key');
    assert.match(String(rolled.body.publishable_key), /^pk_test_/);
    const intent = await other.secret.paymentIntents.create({ amount: 1_000, currency: 'usd' });
    const retired = await refusal(
      other.browser.paymentIntents.retrieve(intent.id, { client_secret: intent.client_secret! }),
    );
    assert.equal(retired.statusCode, 401, 'the earlier publishable key stopped working');
    const fresh = stripeClient(stack.server, String(rolled.body.publishable_key));
    const seen = await fresh.paymentIntents.retrieve(intent.id, {
      client_secret: intent.client_secret!,
    });
    assert.equal(seen.id, intent.id);
    // Rolling needs the secret key.
    const byBrowser = await call(stack.server, 'POST', '/v1/publishable_keys', {
      key: String(rolled.body.publishable_key),
      body: {},
    });
    assert.equal(byBrowser.status, 403);
  });

  test('the server creates, the browser retrieves and confirms with the client secret', async () => {
    const created = await shop.secret.paymentIntents.create({
      amount: 2_500,
      currency: 'usd',
      metadata: { order: 'browser-1' },
      receipt_email: 'buyer@example.com',
    });
    assert.match(created.client_secret ?? '', new RegExp(`^${created.id}_secret_[A-Za-z0-9]+$`));
    assert.equal(created.status, 'requires_payment_method');
    // The secret key sees the client secret on retrieve and list too, as on Stripe.
    const retrieved = await shop.secret.paymentIntents.retrieve(created.id);
    assert.equal(retrieved.client_secret, created.client_secret);
    const listed = await shop.secret.paymentIntents.list({ limit: 1 });
    assert.equal(listed.data[0]?.client_secret, created.client_secret);

    const clientSecret = created.client_secret!;
    const seen = await shop.browser.paymentIntents.retrieve(created.id, {
      client_secret: clientSecret,
    });
    assert.equal(seen.id, created.id);
    assert.equal(seen.amount, 2_500);
    assert.equal(seen.status, 'requires_payment_method');
    assert.equal(seen.client_secret, clientSecret);
    assert.equal(seen.receipt_email, 'buyer@example.com');
    assert.deepEqual(seen.payment_method_types, ['card']);
    // Stripe's reduced view: nothing the merchant keeps for itself.
    for (const hidden of ['metadata', 'amount_received', 'amount_capturable', 'attempts'])
      assert.equal(hidden in seen, false, `${hidden} is not shown to a publishable key`);

    const confirmed = await shop.browser.paymentIntents.confirm(created.id, {
      client_secret: clientSecret,
      payment_method_data: { type: 'card', card: { token: 'tok_visa' } },
      expected_payment_method_type: 'card',
      use_stripe_sdk: true,
      return_url: 'https://shop.example/checkout/done',
    } as BrowserConfirm);
    assert.equal(confirmed.status, 'succeeded');
    assert.equal('metadata' in confirmed, false);
    assert.match(String(confirmed.payment_method), /^pm_/);
    assert.notEqual(confirmed.payment_method, 'pm_card_visa', 'stored as a new payment method');

    const after = await shop.secret.paymentIntents.retrieve(created.id);
    assert.equal(after.status, 'succeeded');
    assert.equal(after.amount_received, 2_500);
    assert.equal(after.metadata.order, 'browser-1');
    const method = await shop.secret.paymentMethods.retrieve(String(after.payment_method));
    assert.equal(method.card?.last4, '4242');
    assert.equal(method.card?.brand, 'visa');
  });

  test('a browser confirms with card details inline or a payment method id', async () => {
    const first = await shop.secret.paymentIntents.create({ amount: 1_500, currency: 'eur' });
    const byCard = await shop.browser.paymentIntents.confirm(first.id, {
      client_secret: first.client_secret!,
      payment_method_data: {
        type: 'card',
        card: { number: '5555555555554444', exp_month: 11, exp_year: 2033, cvc: '123' },
        billing_details: { name: 'A. Buyer' },
      },
    } as unknown as BrowserConfirm);
    assert.equal(byCard.status, 'succeeded');
    const method = await shop.secret.paymentMethods.retrieve(String(byCard.payment_method));
    assert.equal(method.card?.brand, 'mastercard');
    assert.equal(method.billing_details.name, 'A. Buyer');

    const second = await shop.secret.paymentIntents.create({
      amount: 1_500,
      currency: 'usd',
      capture_method: 'manual',
    });
    const byId = await shop.browser.paymentIntents.confirm(second.id, {
      client_secret: second.client_secret!,
      payment_method: 'pm_card_visa',
    } as BrowserConfirm);
    assert.equal(byId.status, 'requires_capture');
    const captured = await shop.secret.paymentIntents.capture(second.id);
    assert.equal(captured.status, 'succeeded');
  });

  test('a decline answers the browser with the reduced intent', async () => {
    const created = await shop.secret.paymentIntents.create({
      amount: 1_000,
      currency: 'usd',
      metadata: { secret: 'not for browsers' },
    });
    const declined = await refusal(
      shop.browser.paymentIntents.confirm(created.id, {
        client_secret: created.client_secret!,
        payment_method_data: { type: 'card', card: { token: 'tok_chargeDeclined' } },
      } as BrowserConfirm),
    );
    assert.equal(declined.type, 'StripeCardError');
    assert.equal(declined.code, 'card_declined');
    const intent = declined.payment_intent;
    assert.equal(intent?.id, created.id);
    assert.equal(intent?.status, 'requires_payment_method');
    assert.equal(intent !== undefined && 'metadata' in intent, false);
    // The payment method (its metadata, customer, billing details) is not the browser's to see.
    assert.equal(declined.payment_method, undefined);
  });

  test("a wrong or missing client secret, another merchant's intent: one answer, nothing moves", async () => {
    const created = await shop.secret.paymentIntents.create({ amount: 1_000, currency: 'usd' });
    const stranger = await newShop('Stranger shop');
    const theirs = await stranger.secret.paymentIntents.create({ amount: 1_000, currency: 'usd' });
    const wrongSecret = `${created.id}_secret_${'x'.repeat(24)}`;
    const answers = [
      await refusal(
        shop.browser.paymentIntents.retrieve(created.id, { client_secret: wrongSecret }),
      ),
      await refusal(
        shop.browser.paymentIntents.retrieve(created.id, {
          client_secret: theirs.client_secret!,
        }),
      ),
      await refusal(
        shop.browser.paymentIntents.retrieve(theirs.id, { client_secret: theirs.client_secret! }),
      ),
      await refusal(
        shop.browser.paymentIntents.retrieve('pi_doesNotExist00000000', {
          client_secret: 'pi_doesNotExist00000000_secret_abc',
        }),
      ),
      await refusal(
        shop.browser.paymentIntents.confirm(created.id, {
          client_secret: wrongSecret,
          payment_method: 'pm_card_visa',
        } as BrowserConfirm),
      ),
      await refusal(
        shop.browser.paymentIntents.confirm(theirs.id, {
          client_secret: theirs.client_secret!,
          payment_method: 'pm_card_visa',
        } as BrowserConfirm),
      ),
    ];
    for (const answer of answers) {
      assert.equal(answer.statusCode, 404);
      assert.equal(answer.code, 'resource_missing');
      assert.equal(answer.param, 'client_secret');
      assert.equal(answer.message, answers[0]?.message, 'the same words, exists or not');
    }
    const missing = await refusal(shop.browser.paymentIntents.retrieve(created.id));
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.param, 'client_secret');
    assert.equal((await shop.secret.paymentIntents.retrieve(created.id)).status, created.status);
    assert.equal((await stranger.secret.paymentIntents.retrieve(theirs.id)).status, theirs.status);
  });

  test("a publishable key can do nothing else: Stripe's 403 for a secret-key call", async () => {
    const refused = await refusal(
      shop.browser.paymentIntents.create({ amount: 1_000, currency: 'usd' }),
    );
    assert.ok(refused instanceof Stripe.errors.StripePermissionError, refused.type);
    assert.equal(refused.statusCode, 403);
    assert.match(refused.message, /cannot be made with a publishable API key/);
    const created = await shop.secret.paymentIntents.create({ amount: 1_000, currency: 'usd' });
    for (const attempt of [
      shop.browser.paymentIntents.list(),
      shop.browser.paymentIntents.cancel(created.id),
      shop.browser.refunds.list(),
      shop.browser.balance.retrieve(),
      shop.browser.paymentMethods.create({
        type: 'card',
        card: { number: '4242424242424242', exp_month: 12, exp_year: 2031 },
      } as Stripe.PaymentMethodCreateParams),
    ]) {
      const answer = await refusal(attempt);
      assert.equal(answer.statusCode, 403, answer.message);
    }
    // Choosing the connector stays the merchant's.
    const routed = await refusal(
      shop.browser.paymentIntents.confirm(created.id, {
        client_secret: created.client_secret!,
        payment_method: 'pm_card_visa',
        connector: 'stripe',
      } as BrowserConfirm),
    );
    assert.equal(routed.statusCode, 403);
    assert.equal(routed.param, 'connector');
    assert.equal(
      (await shop.secret.paymentIntents.retrieve(created.id)).status,
      'requires_payment_method',
    );
  });

  test('the Stripe-Account header (Connect) is refused, not ignored', async () => {
    const refused = await refusal(
      shop.secret.paymentIntents.create(
        { amount: 1_000, currency: 'usd' },
        { stripeAccount: 'acct_1Connected' },
      ),
    );
    assert.equal(refused.statusCode, 400);
    assert.equal(refused.code, 'stripe_account_unsupported');
    assert.match(refused.message, /Stripe-Account/);
    assert.equal((await shop.secret.paymentIntents.list({ limit: 100 })).data.length > 0, true);
  });

  test("Stripe's parameters: payment method types, automatic payment methods, descriptors, receipts", async () => {
    const automatic = await shop.secret.paymentIntents.create({
      amount: 2_000,
      currency: 'USD',
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      statement_descriptor_suffix: 'ORDER 42',
      receipt_email: 'receipts@example.com',
    });
    assertStripeShape(automatic, 'PaymentIntent');
    assert.equal(automatic.currency, 'usd', 'a currency in any case, stored lowercase');
    assert.deepEqual(automatic.automatic_payment_methods, {
      enabled: true,
      allow_redirects: 'never',
    });
    assert.deepEqual(automatic.payment_method_types, ['card']);
    assert.equal(automatic.statement_descriptor_suffix, 'ORDER 42');
    assert.equal(automatic.statement_descriptor, null);
    assert.equal(automatic.receipt_email, 'receipts@example.com');

    const typed = await shop.secret.paymentIntents.create({
      amount: 2_000,
      currency: 'gbp',
      payment_method_types: ['card'],
      payment_method: 'pm_card_visa',
      confirm: true,
      return_url: 'https://shop.example/done',
    } as Stripe.PaymentIntentCreateParams);
    assertStripeShape(typed, 'PaymentIntent');
    assert.equal(typed.status, 'succeeded');
    assert.equal(typed.automatic_payment_methods, null);
    assert.deepEqual(typed.payment_method_types, ['card']);

    const byDefault = await shop.secret.paymentIntents.create({ amount: 2_000, currency: 'usd' });
    assert.deepEqual(byDefault.automatic_payment_methods, { enabled: true });

    const inline = await shop.secret.paymentIntents.create({
      amount: 3_000,
      currency: 'usd',
      confirm: true,
      payment_method_data: { type: 'card', card: { token: 'tok_mastercard' } },
    } as unknown as Stripe.PaymentIntentCreateParams);
    assert.equal(inline.status, 'succeeded');
    const method = await shop.secret.paymentMethods.retrieve(String(inline.payment_method));
    assert.equal(method.card?.brand, 'mastercard');

    const confirmedLater = await shop.secret.paymentIntents.confirm(byDefault.id, {
      payment_method: 'pm_card_visa',
      receipt_email: 'later@example.com',
      return_url: 'https://shop.example/later',
    });
    assert.equal(confirmedLater.receipt_email, 'later@example.com');
  });

  test("Stripe's refusals, each naming its parameter", async () => {
    const cases: { params: Record<string, unknown>; code: string; param: string }[] = [
      { params: { amount: 49 }, code: 'amount_too_small', param: 'amount' },
      { params: { amount: 29, currency: 'gbp' }, code: 'amount_too_small', param: 'amount' },
      { params: { amount: 49, currency: 'jpy' }, code: 'amount_too_small', param: 'amount' },
      { params: { amount: 100_000_000 }, code: 'amount_too_large', param: 'amount' },
      {
        params: { payment_method_types: ['card', 'ideal'] },
        code: 'payment_method_unsupported_type',
        param: 'payment_method_types[1]',
      },
      {
        params: { statement_descriptor: 'MY SHOP' },
        code: 'parameter_invalid',
        param: 'statement_descriptor',
      },
      {
        params: { statement_descriptor_suffix: 'A<B' },
        code: 'parameter_invalid',
        param: 'statement_descriptor_suffix',
      },
      {
        params: { receipt_email: 'not-an-email' },
        code: 'email_invalid',
        param: 'receipt_email',
      },
      {
        params: { return_url: 'https://shop.example/x' },
        code: 'parameter_invalid',
        param: 'return_url',
      },
    ];
    for (const { params, code, param } of cases) {
      const answer = await refusal(
        shop.secret.paymentIntents.create({
          amount: 1_000,
          currency: 'usd',
          ...params,
        } as Stripe.PaymentIntentCreateParams),
      );
      assert.equal(answer.statusCode, 400, `${JSON.stringify(params)}: ${answer.message}`);
      assert.equal(answer.code, code, JSON.stringify(params));
      assert.equal(answer.param, param, JSON.stringify(params));
    }
    const small = await refusal(shop.secret.paymentIntents.create({ amount: 49, currency: 'usd' }));
    assert.equal(small.message, 'Amount must be at least 0.50 usd');
  });
});
