// 3-D Secure as Stripe models it, through Stripe's SDK and the simulator's challenge page driven
// over HTTP: requires_action with next_action.redirect_to_url, the card holder's answer at the
// issuer's ACS, the return to Payrail (which asks the 3-D Secure server, never the browser), the
// redirect to the merchant's return_url, and a failed authentication that is retryable, never
// final. Every 3-D Secure test card of Stripe's table, and the simulator's own N and R cards.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type Stripe from 'stripe';
import { startStripeStack, type StripeStack } from '../support/stripe.ts';
import { call } from '../support/server.ts';

const returnUrl = 'https://shop.example/checkout/done';

type Outcome = 'complete' | 'fail';

/** The card holder at the ACS: loads the page, answers, and comes back to Payrail. */
async function answerChallenge(
  intent: Stripe.PaymentIntent,
  outcome: Outcome,
): Promise<{ payrailReturn: string; merchantRedirect: string | null; page: string }> {
  const url = intent.next_action?.redirect_to_url?.url;
  assert.ok(url, `${intent.id}: a redirect to the ACS`);
  const page = await fetch(url);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /<form/i);
  const answered = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `outcome=${outcome}`,
    redirect: 'manual',
  });
  assert.equal(answered.status, 303);
  const payrailReturn = answered.headers.get('location') ?? '';
  assert.ok(payrailReturn.includes('/v1/three_d_secure/'), 'the ACS sends the browser to Payrail');
  const back = await fetch(payrailReturn, { redirect: 'manual' });
  await back.arrayBuffer();
  return { payrailReturn, merchantRedirect: back.headers.get('location'), page: html };
}

describe('3-D Secure through the simulator (Stripe semantics)', () => {
  let stack: StripeStack;
  let stripe: Stripe;

  before(async () => {
    stack = await startStripeStack();
    ({ stripe } = stack);
  });
  after(() => stack.stop());

  const card = (number: string) =>
    stripe.paymentMethods.create({
      type: 'card',
      card: { number, exp_month: 12, exp_year: 2034, cvc: number.startsWith('3') ? '1234' : '123' },
    } as Stripe.PaymentMethodCreateParams);

  const confirmNew = async (
    number: string,
    extra: Partial<Stripe.PaymentIntentCreateParams> = {},
  ): Promise<Stripe.PaymentIntent> => {
    const method = await card(number);
    return stripe.paymentIntents.create({
      amount: 4_200,
      currency: 'eur',
      payment_method: method.id,
      confirm: true,
      return_url: returnUrl,
      ...extra,
    });
  };

  const challenged: [string, string, Stripe.PaymentIntent.Status, string | null][] = [
    ['4000002500003155', 'requires authentication on session', 'succeeded', null],
    ['4000002760003184', 'always requires authentication', 'succeeded', null],
    ['4000000000003220', '3DS2 authentication must be completed', 'succeeded', null],
    ['4000000000003063', '3DS required', 'succeeded', null],
    ['4000003800000446', 'requires authentication, then approved', 'succeeded', null],
    [
      '4000008260003178',
      'requires authentication, then insufficient funds',
      'requires_payment_method',
      'insufficient_funds',
    ],
    [
      '4000008400001629',
      'requires authentication, then declined',
      'requires_payment_method',
      'generic_decline',
    ],
  ];
  for (const [number, what, finalStatus, declineCode] of challenged) {
    test(`${number} (${what}): requires_action, the challenge completed, then ${finalStatus}`, async () => {
      const intent = await confirmNew(number);
      assert.equal(intent.status, 'requires_action');
      assert.equal(intent.next_action?.type, 'redirect_to_url');
      assert.equal(intent.next_action?.redirect_to_url?.return_url, returnUrl);
      // No money moved before the authorization: nothing authorized or captured.
      assert.equal(intent.amount_received, 0);
      const { merchantRedirect, page } = await answerChallenge(intent, 'complete');
      assert.doesNotMatch(page, new RegExp(number), 'the ACS page never shows the number');
      const done = await stripe.paymentIntents.retrieve(intent.id);
      assert.equal(done.status, finalStatus);
      assert.equal(done.next_action, null);
      const redirect = new URL(merchantRedirect ?? '');
      assert.equal(`${redirect.origin}${redirect.pathname}`, returnUrl);
      assert.equal(redirect.searchParams.get('payment_intent'), intent.id);
      assert.equal(redirect.searchParams.get('payment_intent_client_secret'), intent.client_secret);
      assert.equal(
        redirect.searchParams.get('redirect_status'),
        finalStatus === 'succeeded' ? 'succeeded' : 'failed',
      );
      if (declineCode !== null) assert.equal(done.last_payment_error?.decline_code, declineCode);
      // The simulated PSPs decline these cards without a cryptogram their own 3-D Secure server
      // issued for this card and amount: an authorization after the challenge carried it.
      const charge = await stripe.charges.retrieve(String(done.latest_charge));
      assert.equal(charge.payment_intent, intent.id);
    });
  }

  test('a failed challenge: requires_payment_method with payment_intent_authentication_failure, then paid with another card', async () => {
    const intent = await confirmNew('4000000000003220');
    assert.equal(intent.status, 'requires_action');
    const { merchantRedirect } = await answerChallenge(intent, 'fail');
    assert.equal(new URL(merchantRedirect ?? '').searchParams.get('redirect_status'), 'failed');
    const failed = await stripe.paymentIntents.retrieve(intent.id);
    assert.equal(failed.status, 'requires_payment_method');
    assert.equal(failed.last_payment_error?.code, 'payment_intent_authentication_failure');
    assert.equal(failed.last_payment_error?.type, 'invalid_request_error');
    // Retryable: the same intent takes another card.
    const other = await card('4242424242424242');
    const paid = await stripe.paymentIntents.confirm(intent.id, { payment_method: other.id });
    assert.equal(paid.status, 'succeeded');
  });

  test('the return route asks the server, so a replayed or early return changes nothing', async () => {
    const intent = await confirmNew('4000002760003184');
    const url = intent.next_action?.redirect_to_url?.url ?? '';
    const authentication = /\/3ds\/acs\/([^/?]+)/.exec(url)?.[1];
    assert.ok(authentication);
    // Before the card holder answered: the intent still requires action.
    const listed = await stripe.paymentIntents.retrieve(intent.id);
    assert.equal(listed.status, 'requires_action');
    const { payrailReturn } = await answerChallenge(intent, 'complete');
    const first = await stripe.paymentIntents.retrieve(intent.id);
    assert.equal(first.status, 'succeeded');
    // The browser comes back again: the same redirect, no second charge.
    const again = await fetch(payrailReturn, { redirect: 'manual' });
    assert.equal(again.status, 303);
    const charges = await stripe.charges.list({ payment_intent: intent.id });
    assert.equal(charges.data.filter((charge) => charge.status === 'succeeded').length, 1);
    const unknown = await fetch(payrailReturn.replace(/tds_[A-Za-z0-9]+/, 'tds_doesnotexist0000'), {
      redirect: 'manual',
    });
    assert.equal(unknown.status, 404);
  });

  test('a challenge replaced by a later confirm: finishing the old one in its tab changes nothing', async () => {
    const intent = await confirmNew('4000000000003220');
    const replacement = await card('4000002760003184');
    const second = await stripe.paymentIntents.confirm(intent.id, {
      payment_method: replacement.id,
      return_url: returnUrl,
    });
    assert.equal(second.status, 'requires_action');
    assert.notEqual(
      second.next_action?.redirect_to_url?.url,
      intent.next_action?.redirect_to_url?.url,
    );
    // The old tab answers its (abandoned) challenge and comes back.
    const old = intent.next_action?.redirect_to_url?.url ?? '';
    const answered = await fetch(old, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'outcome=complete',
      redirect: 'manual',
    });
    const back = await fetch(answered.headers.get('location') ?? '', { redirect: 'manual' });
    await back.arrayBuffer();
    const still = await stripe.paymentIntents.retrieve(intent.id);
    assert.equal(still.status, 'requires_action');
    assert.equal(still.payment_method, replacement.id);
    assert.equal(
      (await stripe.charges.list({ payment_intent: intent.id })).data.filter(
        (charge) => charge.status === 'succeeded',
      ).length,
      0,
    );
    // The current challenge completes the payment with the card it was for.
    await answerChallenge(second, 'complete');
    const paid = await stripe.paymentIntents.retrieve(intent.id);
    assert.equal(paid.status, 'succeeded', JSON.stringify(paid));
  });

  test('a browser confirm cannot lower the 3-D Secure its merchant asked for', async () => {
    const method = await card('4000000000003055');
    const created = await stripe.paymentIntents.create({
      amount: 1_500,
      currency: 'eur',
      payment_method: method.id,
      payment_method_options: { card: { request_three_d_secure: 'challenge' } },
    });
    const confirmed = await stripe.paymentIntents.confirm(created.id, {
      return_url: returnUrl,
      payment_method_options: { card: { request_three_d_secure: 'automatic' } },
    });
    assert.equal(confirmed.status, 'requires_action');
    assert.equal(confirmed.payment_method_options?.card?.request_three_d_secure, 'challenge');
  });

  test('request_three_d_secure=any: frictionless for 4000000000003055 and 4242 (attempted), none for an unenrolled Amex', async () => {
    for (const number of ['4000000000003055', '4242424242424242', '378282246310005']) {
      const intent = await confirmNew(number, {
        payment_method_options: { card: { request_three_d_secure: 'any' } },
      });
      assert.equal(intent.status, 'succeeded', number);
      assert.equal(intent.payment_method_options?.card?.request_three_d_secure, 'any');
    }
  });

  test('request_three_d_secure=challenge: the issuer challenges even a card that needs none', async () => {
    const intent = await confirmNew('4000000000003055', {
      payment_method_options: { card: { request_three_d_secure: 'challenge' } },
    });
    assert.equal(intent.status, 'requires_action');
    await answerChallenge(intent, 'complete');
    assert.equal((await stripe.paymentIntents.retrieve(intent.id)).status, 'succeeded');
  });

  test('an issuer that does not authenticate (N) or rejects (R): a 400 payment_intent_authentication_failure, retryable', async () => {
    for (const number of ['4000009990000047', '4000009990000054']) {
      await assert.rejects(
        confirmNew(number, { payment_method_options: { card: { request_three_d_secure: 'any' } } }),
        (error: Stripe.errors.StripeError) => {
          assert.equal(error.statusCode, 400, number);
          assert.equal(error.code, 'payment_intent_authentication_failure', number);
          assert.equal(error.payment_intent?.status, 'requires_payment_method', number);
          return true;
        },
      );
    }
  });

  test('without a return_url the browser gets a page saying it is done', async () => {
    const method = await card('4000000000003220');
    const intent = await stripe.paymentIntents.create({
      amount: 1_000,
      currency: 'usd',
      payment_method: method.id,
      confirm: true,
    });
    assert.equal(intent.status, 'requires_action');
    assert.equal(intent.next_action?.redirect_to_url?.return_url, null);
    const url = intent.next_action?.redirect_to_url?.url ?? '';
    const answered = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'outcome=complete',
      redirect: 'manual',
    });
    const back = await fetch(answered.headers.get('location') ?? '', { redirect: 'manual' });
    assert.equal(back.status, 200);
    assert.match(back.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await back.text(), /Authentication complete/);
    assert.equal((await stripe.paymentIntents.retrieve(intent.id)).status, 'succeeded');
  });

  test('a payment_intent.requires_action event tells the merchant', async () => {
    const intent = await confirmNew('4000002500003155');
    const events = await call(
      stack.server,
      'GET',
      '/v1/events?type=payment_intent.requires_action',
      {
        key: stack.secretKey,
      },
    );
    const objects = (events.body.data as { data: { object: { id: string } } }[]).map(
      (event) => event.data.object.id,
    );
    assert.ok(objects.includes(intent.id));
  });
});
