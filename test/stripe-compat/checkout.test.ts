// Hosted checkout through Stripe's own SDK (Checkout Sessions, Payment Links) and the hosted
// page driven over HTTP as a browser without JavaScript would: the form posted, 303s followed,
// the meta refresh read. Good card, declined then good, expiry by the test clock, expire by the
// API, 3-D Secure through the simulator's ACS, payment links, escaping, no card number anywhere.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type Stripe from 'stripe';
import { call, testAdminKey, type TestServer } from '../support/server.ts';
import { startStripeStack, stripeClient, type StripeStack } from '../support/stripe.ts';
import { waitFor } from '../support/wait.ts';
import { assertStripeList, assertStripeShape } from './shape.ts';

const successUrl = 'https://shop.example/thanks?session={CHECKOUT_SESSION_ID}';
const cancelUrl = 'https://shop.example/cart';

type Page = { status: number; html: string; headers: Headers };

/** A browser without JavaScript: GET a page of the server. */
async function getPage(server: TestServer, path: string): Promise<Page> {
  const response = await fetch(new URL(path, server.url), { redirect: 'manual' });
  return { status: response.status, html: await response.text(), headers: response.headers };
}

/** The hidden form token of a page's card form. */
function tokenOf(html: string): string {
  const token = /name="token" value="([A-Za-z0-9]+)"/.exec(html)?.[1];
  assert.ok(token, 'the form carries its token');
  return token;
}

/** The URL a page's meta refresh goes to (HTML-unescaped). */
function refreshOf(html: string): string | undefined {
  const found = /<meta\s+http-equiv="refresh"\s+content="\d+;url=([^"]+)"/.exec(html)?.[1];
  return found?.replaceAll('&amp;', '&');
}

type Card = { number: string; expiry?: string; cvc?: string; name?: string; email?: string };

/** Posts the form as a browser does (form encoding); answers the POST's response. */
async function submit(server: TestServer, sessionId: string, card: Card): Promise<Response> {
  const page = await getPage(server, `/pay/${sessionId}`);
  assert.equal(page.status, 200, page.html);
  const form = new URLSearchParams({
    token: tokenOf(page.html),
    card_number: card.number,
    expiry: card.expiry ?? '12 / 34',
    cvc: card.cvc ?? '123',
    name: card.name ?? 'Ada Lovelace',
    ...(card.email === undefined ? {} : { email: card.email }),
  });
  return fetch(new URL(`/pay/${sessionId}`, server.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
    redirect: 'manual',
  });
}

/** Submits, follows the 303 to the page, and answers that page. */
async function pay(server: TestServer, sessionId: string, card: Card): Promise<Page> {
  const posted = await submit(server, sessionId, card);
  assert.equal(posted.status, 303, await posted.text());
  assert.equal(posted.headers.get('location'), `/pay/${sessionId}`);
  return getPage(server, `/pay/${sessionId}`);
}

describe("hosted checkout through Stripe's SDK and the /pay page", () => {
  let stack: StripeStack;
  let server: TestServer;
  let stripe: Stripe;
  let merchantId: string;

  before(async () => {
    stack = await startStripeStack();
    server = stack.server;
    const created = await call(server, 'POST', '/v1/admin/merchants', {
      key: testAdminKey,
      body: { name: 'Ada’s <Tea> & "Cakes"' },
    });
    merchantId = String(created.body.id);
    stripe = stripeClient(server, String(created.body.secret_key));
    // Typed on the page and refused (a bad check digit): it must not reach a log either.
    server.forbidInLogs('4242424242424241');
  });
  after(() => stack.stop());

  const newSession = (extra: Partial<Stripe.Checkout.SessionCreateParams> = {}) =>
    stripe.checkout.sessions.create({
      mode: 'payment',
      line_items: [
        {
          price_data: {
            currency: 'eur',
            unit_amount: 1_250,
            product_data: { name: 'Earl <Grey>', description: 'Loose leaf, 100 g' },
          },
          quantity: 2,
        },
        {
          price_data: { currency: 'eur', unit_amount: 500, product_data: { name: 'Scone' } },
          quantity: 1,
        },
      ],
      success_url: successUrl,
      cancel_url: cancelUrl,
      customer_email: 'buyer@example.com',
      client_reference_id: 'cart-42',
      metadata: { order: 'o-1' },
      ...extra,
    });

  test('create, retrieve, list and line items: Stripe shapes, totals, url', async () => {
    const session = await newSession();
    assertStripeShape(session, 'CheckoutSession');
    assert.match(session.id, /^cs_[A-Za-z0-9]{40,}$/);
    assert.equal(session.object, 'checkout.session');
    assert.equal(session.status, 'open');
    assert.equal(session.payment_status, 'unpaid');
    assert.equal(session.amount_total, 3_000);
    assert.equal(session.amount_subtotal, 3_000);
    assert.equal(session.currency, 'eur');
    assert.equal(session.payment_intent, null);
    assert.equal(session.url, `${server.url}/pay/${session.id}`);
    assert.equal(session.success_url, successUrl);
    assert.equal(session.client_reference_id, 'cart-42');
    const now = Math.floor(Date.now() / 1000);
    assert.ok(Math.abs(session.expires_at - session.created - 86_400) <= 1, '24 h by default');
    assert.ok(session.created >= now - 5);

    const retrieved = await stripe.checkout.sessions.retrieve(session.id);
    assert.deepEqual(retrieved, session);
    const items = await stripe.checkout.sessions.listLineItems(session.id);
    assertStripeList(items, 'LineItem');
    assert.deepEqual(
      items.data.map((item) => [item.description, item.quantity, item.amount_total]),
      [
        ['Earl <Grey>', 2, 2_500],
        ['Scone', 1, 500],
      ],
    );
    assert.equal(items.data[0]?.price?.unit_amount, 1_250);
    const page1 = await stripe.checkout.sessions.listLineItems(session.id, { limit: 1 });
    assert.equal(page1.has_more, true);
    const page2 = await stripe.checkout.sessions.listLineItems(session.id, {
      limit: 1,
      starting_after: page1.data[0]?.id,
    });
    assert.equal(page2.data[0]?.description, 'Scone');
    assert.equal(page2.has_more, false);

    const expanded = await stripe.checkout.sessions.retrieve(session.id, {
      expand: ['line_items', 'payment_intent'],
    });
    assertStripeShape(expanded, 'CheckoutSession');
    assert.deepEqual(
      expanded.line_items?.data.map((item) => item.description),
      ['Earl <Grey>', 'Scone'],
    );
    const withItems = await stripe.checkout.sessions.list({
      limit: 1,
      expand: ['data.line_items'],
    });
    assert.equal(withItems.data[0]?.line_items?.data.length, 2);
    await assert.rejects(
      stripe.checkout.sessions.retrieve(session.id, { expand: ['nope'] }),
      /cannot be expanded/,
    );
    const listed = await stripe.checkout.sessions.list({ limit: 3 });
    assertStripeList(listed, 'CheckoutSession');
    assert.equal(listed.data[0]?.id, session.id);
    const open = await stripe.checkout.sessions.list({ status: 'open', limit: 100 });
    assert.ok(open.data.some((item) => item.id === session.id));
    const complete = await stripe.checkout.sessions.list({ status: 'complete' });
    assert.ok(!complete.data.some((item) => item.id === session.id));
  });

  test('an Idempotency-Key replays the same session and link', async () => {
    const params = {
      mode: 'payment' as const,
      line_items: [
        {
          price_data: { currency: 'usd', unit_amount: 100, product_data: { name: 'Once' } },
          quantity: 1,
        },
      ],
      success_url: successUrl,
    };
    const first = await stripe.checkout.sessions.create(params, { idempotencyKey: 'cs-once' });
    const again = await stripe.checkout.sessions.create(params, { idempotencyKey: 'cs-once' });
    assert.equal(again.id, first.id);
    const link = { line_items: params.line_items } as Stripe.PaymentLinkCreateParams;
    const one = await stripe.paymentLinks.create(link, { idempotencyKey: 'plink-once' });
    const two = await stripe.paymentLinks.create(link, { idempotencyKey: 'plink-once' });
    assert.equal(two.id, one.id);
  });

  test('refusals: another mode, a Price id, no success_url, expires_at out of range', async () => {
    const refused = async (params: Stripe.Checkout.SessionCreateParams, param: string) => {
      await assert.rejects(
        stripe.checkout.sessions.create(params),
        (error: Stripe.errors.StripeError) => {
          assert.equal(error.statusCode, 400, error.message);
          assert.equal(error.param, param, error.message);
          return true;
        },
      );
    };
    const item = {
      price_data: { currency: 'usd', unit_amount: 1_000, product_data: { name: 'Thing' } },
      quantity: 1,
    };
    await refused({ mode: 'subscription', line_items: [item], success_url: successUrl }, 'mode');
    await refused(
      {
        mode: 'payment',
        line_items: [{ price: 'price_123', quantity: 1 }],
        success_url: successUrl,
      },
      'line_items[0][price]',
    );
    await refused({ mode: 'payment', line_items: [item] }, 'success_url');
    const now = Math.floor(Date.now() / 1000);
    await refused(
      { mode: 'payment', line_items: [item], success_url: successUrl, expires_at: now + 600 },
      'expires_at',
    );
    await refused(
      { mode: 'payment', line_items: [item], success_url: successUrl, expires_at: now + 90_000 },
      'expires_at',
    );
    await refused(
      {
        mode: 'payment',
        line_items: [item, { ...item, price_data: { ...item.price_data, currency: 'eur' } }],
        success_url: successUrl,
      },
      'line_items[1][price_data][currency]',
    );
  });

  test('the page: merchant and items escaped, amount formatted, labelled fields, strict CSP', async () => {
    const session = await newSession();
    const page = await getPage(server, `/pay/${session.id}`);
    assert.equal(page.status, 200);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /form-action 'self'/);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.match(page.html, /Ada’s &lt;Tea&gt; &amp; &quot;Cakes&quot;/);
    assert.match(page.html, /Earl &lt;Grey&gt;/);
    assert.doesNotMatch(page.html, /<Tea>|<Grey>/);
    assert.match(page.html, /€30\.00/);
    assert.match(page.html, /<button type="submit" id="pay">Pay €30\.00<\/button>/);
    for (const id of ['card_number', 'expiry', 'cvc', 'name'])
      assert.match(
        page.html,
        new RegExp(`<label for="${id}">[^<]+</label>\\s*<input\\s+id="${id}"\\s+name="${id}"`),
      );
    // The email is known (customer_email): the form does not ask for it.
    assert.doesNotMatch(page.html, /name="email"/);
    assert.doesNotMatch(page.html, /<script|style=|<style/);
    assert.match(page.html, /id="test-mode">Test mode: no real money moves/);
    assert.match(page.html, /<link rel="stylesheet" href="\/assets\/[0-9a-f]+\/checkout\.css"/);
    assert.match(page.html, new RegExp(`href="${cancelUrl}"`));
  });

  test('a good card: 303 to the page, then on to success_url; complete, paid, one event', async () => {
    const session = await newSession();
    const page = await pay(server, session.id, { number: '4242 4242 4242 4242' });
    assert.equal(page.status, 200);
    const expected = `https://shop.example/thanks?session=${session.id}`;
    assert.equal(refreshOf(page.html), expected);
    assert.match(page.html, /id="continue"/);
    assert.doesNotMatch(page.html, /4242 ?4242 ?4242 ?4242/);

    const done = await stripe.checkout.sessions.retrieve(session.id);
    assertStripeShape(done, 'CheckoutSession');
    assert.equal(done.status, 'complete');
    assert.equal(done.payment_status, 'paid');
    assert.equal(done.url, null);
    assert.equal(done.customer_details?.email, 'buyer@example.com');
    assert.equal(done.customer_details?.name, 'Ada Lovelace');
    const intent = await stripe.paymentIntents.retrieve(String(done.payment_intent));
    assert.equal(intent.status, 'succeeded');
    assert.equal(intent.amount, 3_000);
    const withIntent = await stripe.checkout.sessions.retrieve(session.id, {
      expand: ['payment_intent'],
    });
    assert.equal((withIntent.payment_intent as Stripe.PaymentIntent).status, 'succeeded');

    assert.equal(intent.currency, 'eur');
    const byIntent = await stripe.checkout.sessions.list({ payment_intent: intent.id });
    assert.deepEqual(
      byIntent.data.map((item) => item.id),
      [session.id],
    );
    const events = await stripe.events.list({ type: 'checkout.session.completed', limit: 100 });
    const mine = events.data.filter(
      (event) => (event.data.object as { id: string }).id === session.id,
    );
    assert.equal(mine.length, 1, 'completed exactly once');
    assert.equal((mine[0]?.data.object as Stripe.Checkout.Session).status, 'complete');

    // Paid: the page keeps sending the buyer on; another submit changes nothing.
    const again = await submit(server, session.id, { number: '4242424242424242' }).catch(
      () => null,
    );
    assert.equal(again, null, 'a complete session has no form to submit');
    const charges = await stripe.charges.list({ payment_intent: intent.id });
    assert.equal(charges.data.length, 1);
  });

  test('a declined card, then a good one on the same session and intent', async () => {
    const session = await newSession();
    const declined = await pay(server, session.id, { number: '4000000000000002' });
    assert.equal(declined.status, 200);
    assert.match(
      declined.html,
      /<div class="alert" role="alert" id="payment-error">[^<]*declined/i,
    );
    assert.match(declined.html, /<form method="post"/);
    assert.doesNotMatch(declined.html, /4000000000000002/);
    // The card number is where another card goes: focused, described by the alert.
    assert.match(declined.html, /id="card_number"[^>]*aria-invalid="true" autofocus/);
    // Only another card to type: the name of the last try stays (never the card).
    assert.match(declined.html, /value="Ada Lovelace"/);
    const open = await stripe.checkout.sessions.retrieve(session.id);
    assert.equal(open.status, 'open');
    assert.ok(open.payment_intent, 'the intent exists since the first try');

    const paid = await pay(server, session.id, { number: '5555555555554444' });
    assert.equal(refreshOf(paid.html), `https://shop.example/thanks?session=${session.id}`);
    const done = await stripe.checkout.sessions.retrieve(session.id);
    assert.equal(done.status, 'complete');
    assert.equal(done.payment_intent, open.payment_intent, 'one intent, retried');
    const charges = await stripe.charges.list({ payment_intent: String(done.payment_intent) });
    // One success; the declined card's attempts (a decline may fail over to another connector).
    const statuses = charges.data.map((charge) => charge.status);
    assert.equal(statuses.filter((status) => status === 'succeeded').length, 1);
    assert.ok(statuses.includes('failed'));
  });

  test('a form that does not check out comes back with its message and writes nothing', async () => {
    const session = await newSession({ customer_email: undefined });
    const page = await getPage(server, `/pay/${session.id}`);
    assert.match(page.html, /<input\s+id="email"\s+name="email"\s+type="email"/);
    const refused = await submit(server, session.id, {
      number: '4242424242424241',
      email: 'buyer@example.com',
    });
    assert.equal(refused.status, 400);
    const html = await refused.text();
    assert.match(html, /role="alert"/);
    assert.doesNotMatch(html, /4242424242424241/, 'the number is never sent back');
    assert.match(html, /value="buyer@example.com"/);
    const noEmail = await submit(server, session.id, { number: '4242424242424242' });
    assert.equal(noEmail.status, 400);
    assert.match(await noEmail.text(), /valid email/);
    assert.equal((await stripe.checkout.sessions.retrieve(session.id)).payment_intent, null);
    // A form without the session's token is refused.
    const forged = await fetch(new URL(`/pay/${session.id}`, server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'token=forgedforgedforgedforged&card_number=4242424242424242&expiry=12/34&cvc=123&name=X&email=a@b.co',
      redirect: 'manual',
    });
    assert.equal(forged.status, 403);
    await forged.text();
    // An email typed on the page is kept on the session.
    await pay(server, session.id, { number: '4242424242424242', email: 'typed@example.com' });
    const done = await stripe.checkout.sessions.retrieve(session.id);
    assert.equal(done.customer_details?.email, 'typed@example.com');
  });

  test("expiry by the merchant's clock: the page says expired, nothing can be paid, one event", async () => {
    const soon = Math.floor(Date.now() / 1000) + 31 * 60;
    const session = await newSession({ expires_at: soon });
    const declined = await pay(server, session.id, { number: '4000000000000002' });
    assert.match(declined.html, /role="alert"/);
    const moved = await call(server, 'POST', '/v1/admin/test_clocks/advance', {
      key: testAdminKey,
      body: { merchant: merchantId, seconds: 32 * 60 },
    });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    // The worker's step ends it (no read needed): run once, as the maintenance loop would.
    await server.runtime.checkout.expireDue();
    const expired = await stripe.checkout.sessions.retrieve(session.id);
    assert.equal(expired.status, 'expired');
    assert.equal(expired.url, null);
    const intent = await stripe.paymentIntents.retrieve(String(expired.payment_intent));
    assert.equal(intent.status, 'canceled', 'the waiting intent is canceled: it can never be paid');
    const page = await getPage(server, `/pay/${session.id}`);
    assert.equal(page.status, 410);
    assert.match(page.html, /expired/);
    assert.doesNotMatch(page.html, /<form/);
    const posted = await fetch(new URL(`/pay/${session.id}`, server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'card_number=4242424242424242',
      redirect: 'manual',
    });
    assert.equal(posted.status, 303);
    await posted.text();
    const events = await stripe.events.list({ type: 'checkout.session.expired', limit: 100 });
    assert.equal(
      events.data.filter((event) => (event.data.object as { id: string }).id === session.id).length,
      1,
    );
    // An open session of the moved clock is read as expired as well (lazily, before the worker).
    const later = await newSession({
      expires_at: Math.floor(Date.now() / 1000) + 32 * 60 + 31 * 60,
    });
    await call(server, 'POST', '/v1/admin/test_clocks/advance', {
      key: testAdminKey,
      body: { merchant: merchantId, seconds: 32 * 60 },
    });
    assert.equal((await stripe.checkout.sessions.retrieve(later.id)).status, 'expired');
  });

  test('expire by the API: open → expired once; a complete session cannot expire', async () => {
    const session = await newSession();
    const expired = await stripe.checkout.sessions.expire(session.id);
    assertStripeShape(expired, 'CheckoutSession');
    assert.equal(expired.status, 'expired');
    await assert.rejects(
      stripe.checkout.sessions.expire(session.id),
      /expired|no longer|complete/i,
    );
    const paid = await newSession();
    await pay(server, paid.id, { number: '4242424242424242' });
    await assert.rejects(
      stripe.checkout.sessions.expire(paid.id),
      (error: Stripe.errors.StripeError) => {
        assert.equal(error.statusCode, 400);
        assert.match(error.message, /complete/);
        return true;
      },
    );
    await assert.rejects(
      stripe.checkout.sessions.retrieve('cs_nope12345678'),
      /No such checkout.session/,
    );
  });

  test('3-D Secure: the page sends the browser to the ACS, the return completes the session', async () => {
    const session = await newSession();
    const page = await pay(server, session.id, { number: '4000002760003184' });
    const acs = refreshOf(page.html);
    assert.ok(acs, page.html);
    assert.match(page.html, /id="continue"/);
    const challenge = await fetch(acs);
    assert.equal(challenge.status, 200);
    await challenge.text();
    const answered = await fetch(acs, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'outcome=complete',
      redirect: 'manual',
    });
    assert.equal(answered.status, 303);
    const payrailReturn = answered.headers.get('location') ?? '';
    const back = await fetch(payrailReturn, { redirect: 'manual' });
    assert.equal(back.status, 303);
    await back.text();
    const to = new URL(back.headers.get('location') ?? '');
    assert.equal(to.pathname, `/pay/${session.id}`);
    const landed = await getPage(server, `${to.pathname}${to.search}`);
    assert.equal(refreshOf(landed.html), `https://shop.example/thanks?session=${session.id}`);
    const done = await stripe.checkout.sessions.retrieve(session.id);
    assert.equal(done.status, 'complete');
    assert.equal(done.payment_status, 'paid');
  });

  test('a failed 3-D Secure challenge: the form again with why, then another card pays', async () => {
    const session = await newSession();
    const page = await pay(server, session.id, { number: '4000000000003220' });
    const acs = refreshOf(page.html) ?? '';
    const answered = await fetch(acs, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'outcome=fail',
      redirect: 'manual',
    });
    await answered.text();
    const back = await fetch(answered.headers.get('location') ?? '', { redirect: 'manual' });
    await back.text();
    const to = new URL(back.headers.get('location') ?? '');
    const form = await getPage(server, `${to.pathname}${to.search}`);
    assert.match(form.html, /role="alert"[^>]*>We could not authenticate/);
    assert.match(form.html, /<form method="post"/);
    const paid = await pay(server, session.id, { number: '4242424242424242' });
    assert.equal(refreshOf(paid.html), `https://shop.example/thanks?session=${session.id}`);
    assert.equal((await stripe.checkout.sessions.retrieve(session.id)).status, 'complete');
  });

  test('a buyer who never comes back from 3-D Secure: the session completes all the same', async () => {
    const session = await newSession();
    const page = await pay(server, session.id, { number: '4000002500003155' });
    const acs = refreshOf(page.html) ?? '';
    const answered = await fetch(acs, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'outcome=complete',
      redirect: 'manual',
    });
    await answered.text();
    // Back at Payrail's return route, which authorizes; the browser closes before /pay.
    const back = await fetch(answered.headers.get('location') ?? '', { redirect: 'manual' });
    await back.text();
    // Only the events are read (a read of the session would complete it itself).
    const event = await waitFor('checkout.session.completed from the consumer', async () => {
      const events = await stripe.events.list({ type: 'checkout.session.completed', limit: 100 });
      return events.data.find(
        (candidate) => (candidate.data.object as { id: string }).id === session.id,
      );
    });
    assert.equal((event.data.object as Stripe.Checkout.Session).payment_status, 'paid');
    assert.equal((await stripe.checkout.sessions.retrieve(session.id)).status, 'complete');
  });

  test('expired while the buyer is at the ACS: the challenge completes, nothing is paid', async () => {
    const session = await newSession();
    const page = await pay(server, session.id, { number: '4000002760003184' });
    const acs = refreshOf(page.html) ?? '';
    const expired = await stripe.checkout.sessions.expire(session.id);
    assert.equal(expired.status, 'expired');
    const answered = await fetch(acs, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'outcome=complete',
      redirect: 'manual',
    });
    await answered.text();
    const back = await fetch(answered.headers.get('location') ?? '', { redirect: 'manual' });
    await back.text();
    const landed = await getPage(server, new URL(back.headers.get('location') ?? '').pathname);
    assert.equal(landed.status, 410);
    const intent = await stripe.paymentIntents.retrieve(String(expired.payment_intent));
    assert.equal(intent.status, 'canceled');
    assert.equal(intent.amount_received, 0);
    const charges = await stripe.charges.list({ payment_intent: intent.id });
    assert.equal(charges.data.filter((charge) => charge.status === 'succeeded').length, 0);
  });

  test('manual capture: complete once authorized, payment_status unpaid', async () => {
    const session = await newSession({ payment_intent_data: { capture_method: 'manual' } });
    await pay(server, session.id, { number: '4242424242424242' });
    const done = await stripe.checkout.sessions.retrieve(session.id);
    assert.equal(done.status, 'complete');
    assert.equal(done.payment_status, 'unpaid');
    const intent = await stripe.paymentIntents.retrieve(String(done.payment_intent));
    assert.equal(intent.status, 'requires_capture');
  });

  test('a currency without minor units shows none (JPY)', async () => {
    const session = await stripe.checkout.sessions.create({
      mode: 'payment',
      line_items: [
        {
          price_data: { currency: 'jpy', unit_amount: 1_500, product_data: { name: 'Matcha' } },
          quantity: 1,
        },
      ],
      success_url: successUrl,
    });
    const page = await getPage(server, `/pay/${session.id}`);
    assert.match(page.html, /Pay ¥1,500</);
  });

  test('payment links: create, retrieve, update, list, line items; each visit a new session', async () => {
    const link = await stripe.paymentLinks.create({
      line_items: [
        {
          price_data: { currency: 'usd', unit_amount: 900, product_data: { name: 'Gift card' } },
          quantity: 1,
        },
      ],
      after_completion: { type: 'redirect', redirect: { url: 'https://shop.example/gift-done' } },
      metadata: { campaign: 'winter' },
    } as Stripe.PaymentLinkCreateParams);
    assertStripeShape(link, 'PaymentLink');
    assert.match(link.id, /^plink_/);
    assert.equal(link.active, true);
    assert.equal(link.url, `${server.url}/pay/link/${link.id}`);
    assert.deepEqual(await stripe.paymentLinks.retrieve(link.id), link);
    const items = await stripe.paymentLinks.listLineItems(link.id);
    assertStripeList(items, 'LineItem');
    assert.equal(items.data[0]?.amount_total, 900);
    const listed = await stripe.paymentLinks.list({ limit: 5 });
    assertStripeList(listed, 'PaymentLink');
    assert.equal(listed.data[0]?.id, link.id);

    const visit = async () => {
      const response = await fetch(link.url, { redirect: 'manual' });
      assert.equal(response.status, 303);
      await response.text();
      return String(response.headers.get('location'));
    };
    const first = await visit();
    const second = await visit();
    assert.match(first, /^\/pay\/cs_/);
    assert.notEqual(first, second, 'each visit is a new session');
    const sessionId = first.slice('/pay/'.length);
    const page = await getPage(server, first);
    assert.match(page.html, /Pay \$9\.00/);
    assert.match(page.html, /name="email"/, 'a link knows no email: the form asks');
    const done = await pay(server, sessionId, {
      number: '4242424242424242',
      email: 'g@example.com',
    });
    assert.equal(refreshOf(done.html), 'https://shop.example/gift-done');
    const session = await stripe.checkout.sessions.retrieve(sessionId);
    assert.equal(session.payment_link, link.id);
    assert.equal(session.status, 'complete');
    const head = await fetch(link.url, { method: 'HEAD', redirect: 'manual' });
    assert.notEqual(head.status, 303, 'a HEAD makes no session');
    const ofLink = await stripe.checkout.sessions.list({ payment_link: link.id });
    assert.equal(ofLink.data.length, 2);

    const off = await stripe.paymentLinks.update(link.id, {
      active: false,
      inactive_message: 'Sold out <for now>',
    });
    assert.equal(off.active, false);
    const inactive = await getPage(server, `/pay/link/${link.id}`);
    assert.equal(inactive.status, 410);
    assert.match(inactive.html, /Sold out &lt;for now&gt;/);
    assert.equal((await getPage(server, '/pay/link/plink_nosuchlink1')).status, 404);
    assert.equal((await getPage(server, '/pay/cs_nosuchsession1')).status, 404);
    // A malformed request is refused with a page too (a person reads it), never JSON.
    const malformed = await getPage(server, '/pay/%3Cscript%3E?x=%3Cb%3E');
    assert.equal(malformed.status, 400);
    assert.match(String(malformed.headers.get('content-type')), /^text\/html/);
    assert.match(String(malformed.headers.get('content-security-policy')), /default-src 'none'/);
    assert.doesNotMatch(malformed.html, /<script>|<b>/);

    const confirmation = await stripe.paymentLinks.create({
      line_items: [
        {
          price_data: { currency: 'usd', unit_amount: 300, product_data: { name: 'Tip' } },
          quantity: 1,
        },
      ],
      after_completion: {
        type: 'hosted_confirmation',
        hosted_confirmation: { custom_message: 'Thanks <3' },
      },
    } as Stripe.PaymentLinkCreateParams);
    const tipSession = (await fetch(confirmation.url, { redirect: 'manual' })).headers.get(
      'location',
    );
    const thanked = await pay(server, String(tipSession).slice('/pay/'.length), {
      number: '4242424242424242',
      email: 't@example.com',
    });
    assert.equal(refreshOf(thanked.html), undefined, 'no redirect: Payrail thanks the buyer');
    assert.match(thanked.html, /Thanks &lt;3/);
  });

  test("the demo merchant's payment link: made once, a session each visit", async () => {
    const first = await server.context.checkout.demoLink(merchantId, server.url);
    const again = await server.context.checkout.demoLink(merchantId, server.url);
    assert.equal(again, first);
    const visit = await fetch(first, { redirect: 'manual' });
    assert.equal(visit.status, 303);
    await visit.text();
    const page = await getPage(server, String(visit.headers.get('location')));
    assert.match(page.html, /Payrail T-shirt/);
    assert.match(page.html, /Pay \$28\.00/);
  });

  test('no card number in any column of any table', async () => {
    const database = server.context.database;
    const tables = await database.query<{ name: string }>(
      "SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public'",
    );
    const numbers = [
      '4242424242424242',
      '5555555555554444',
      '4000000000000002',
      '4000002760003184',
    ];
    for (const { name } of tables.rows) {
      const found = await database.query<{ hits: number }>(
        `SELECT count(*)::int AS hits FROM ${name} AS t
          WHERE ${numbers.map((_, index) => `t::text LIKE $${index + 1}`).join(' OR ')}`,
        numbers.map((number) => `%${number}%`),
      );
      assert.equal(found.rows[0]?.hits, 0, `a card number in ${name}`);
    }
  });

  test('isolation: another merchant sees none of it', async () => {
    const session = await newSession();
    const other = await stack.newMerchant('Other');
    await assert.rejects(other.stripe.checkout.sessions.retrieve(session.id), /No such/);
    await assert.rejects(other.stripe.checkout.sessions.expire(session.id), /No such/);
    await assert.rejects(other.stripe.checkout.sessions.listLineItems(session.id), /No such/);
    const list = await other.stripe.checkout.sessions.list();
    assert.equal(list.data.length, 0);
  });
});

// Its own server: the decline it needs must not add to the other tests' velocity (every buyer of
// the page here comes from 127.0.0.1, and enough declines from one address are blocked).
describe('the hosted page pays what it shows', () => {
  let stack: StripeStack;
  let server: TestServer;
  let stripe: Stripe;
  before(async () => {
    stack = await startStripeStack();
    server = stack.server;
    stripe = stack.stripe;
  });
  after(() => stack.stop());

  test('an intent whose amount the merchant changed after a decline is not charged from the page', async () => {
    const session = await stripe.checkout.sessions.create({
      mode: 'payment',
      line_items: [
        {
          price_data: { currency: 'eur', unit_amount: 1_250, product_data: { name: 'Tea' } },
          quantity: 2,
        },
      ],
      success_url: 'https://shop.example/thanks',
      customer_email: 'ada@example.com',
    });
    await pay(server, session.id, { number: '4000000000000002' });
    const open = await stripe.checkout.sessions.retrieve(session.id);
    const intentId = String(open.payment_intent);
    await stripe.paymentIntents.update(intentId, { amount: 999_999 });
    const refused = await submit(server, session.id, { number: '4242424242424242' });
    assert.equal(refused.status, 409);
    assert.match(await refused.text(), /changed by the merchant[^<]*Nothing was charged/);
    const intent = await stripe.paymentIntents.retrieve(intentId);
    assert.equal(intent.amount_received, 0);
    assert.notEqual(intent.status, 'succeeded');
    assert.equal((await stripe.checkout.sessions.retrieve(session.id)).status, 'open');
  });
});
