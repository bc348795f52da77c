// A buyer's path through the hosted checkout page in real Chromium: a good card (with JavaScript
// off: the form needs none, driven from the keyboard), a declined card then a good one, an
// expired session, and a payment link. Each ends where Stripe's would — the merchant's
// success_url with the session's id — and the session says so through the official SDK. No
// console error, no CSP violation, no card number in any page; screenshots of each step.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type Stripe from 'stripe';
import { launchChromium, screenshot, watchedPage } from '../support/browser.ts';
import { knownTestCardNumbers } from '../support/server.ts';
import { startStripeStack, type StripeStack } from '../support/stripe.ts';

let stack: StripeStack;
let stripe: Stripe;
let browser: Browser;
let shop: http.Server;
let shopUrl: string;

before(async () => {
  // The merchant's own site: where the buyer lands after paying or cancelling.
  shop = http.createServer((request, response) =>
    response
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(`<!doctype html><title>Shop</title><h1>Back at the shop</h1><p>${request.url}</p>`),
  );
  await new Promise<void>((resolve) => shop.listen(0, '127.0.0.1', resolve));
  shopUrl = `http://127.0.0.1:${(shop.address() as AddressInfo).port}`;
  stack = await startStripeStack();
  stripe = stack.stripe;
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await stack?.stop();
  await new Promise((resolve) => shop?.close(resolve));
});

function newSession(extra: Partial<Stripe.Checkout.SessionCreateParams> = {}) {
  return stripe.checkout.sessions.create({
    mode: 'payment',
    line_items: [
      {
        price_data: { currency: 'eur', unit_amount: 1500, product_data: { name: 'Blue teapot' } },
        quantity: 2,
      },
    ],
    success_url: `${shopUrl}/thanks?session={CHECKOUT_SESSION_ID}`,
    cancel_url: `${shopUrl}/cart`,
    customer_email: 'ada@example.com',
    ...extra,
  });
}

function assertNoCardNumber(text: string): void {
  for (const number of knownTestCardNumbers) assert.ok(!text.includes(number), number);
}

test('a good card, with JavaScript off and the keyboard only, lands on success_url', async () => {
  const session = await newSession();
  assert.ok(session.url !== null);
  const context = await browser.newContext({ javaScriptEnabled: false });
  const { page, problems } = await watchedPage(context);
  await page.goto(session.url);
  assert.match(await page.locator('#pay').innerText(), /Pay €30\.00/);
  await screenshot(page, 'checkout-form');
  await page.getByLabel('Card number').focus();
  await page.keyboard.type('4242 4242 4242 4242');
  await page.keyboard.press('Tab');
  await page.keyboard.type('12/34');
  await page.keyboard.press('Tab');
  await page.keyboard.type('123');
  await page.keyboard.press('Tab');
  await page.keyboard.type('Ada Lovelace');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${shopUrl}/thanks?session=${session.id}`);
  const done = await stripe.checkout.sessions.retrieve(session.id);
  assert.equal(done.status, 'complete');
  assert.equal(done.payment_status, 'paid');
  const intent = await stripe.paymentIntents.retrieve(String(done.payment_intent));
  assert.equal(intent.status, 'succeeded');
  assert.equal(intent.amount_received, 3000);
  assert.deepEqual(problems, []);
  await context.close();
});

test('a declined card shows why and lets the buyer pay with another', async () => {
  const session = await newSession();
  const context = await browser.newContext();
  const { page, problems } = await watchedPage(context, { width: 375, height: 800 });
  await page.goto(session.url ?? '');
  const fill = async (number: string) => {
    await page.getByLabel('Card number').fill(number);
    await page.getByLabel(/Expiry/).fill('12 / 34');
    await page.getByLabel(/Security code/).fill('123');
    await page.getByLabel('Name on card').fill('Ada Lovelace');
    await page.locator('#pay').click();
  };
  await fill('4000 0000 0000 0002');
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /declined/i);
  assertNoCardNumber(await page.content());
  // The page fits the phone: nothing wider than the screen.
  const overflow = await page.evaluate<number>('document.body.scrollWidth - window.innerWidth');
  assert.ok(overflow <= 0, `${overflow} px wider than the phone`);
  await screenshot(page, 'checkout-declined-phone');
  assert.equal((await stripe.checkout.sessions.retrieve(session.id)).status, 'open');
  await fill('4242424242424242');
  await page.waitForURL(`${shopUrl}/thanks?session=${session.id}`);
  const done = await stripe.checkout.sessions.retrieve(session.id);
  assert.equal(done.status, 'complete');
  const charges = await stripe.charges.list({ payment_intent: String(done.payment_intent) });
  // The decline (tried at each connector that may take it: a generic decline fails over) and the
  // one success, all on the session's one PaymentIntent.
  const statuses = charges.data.map((charge) => charge.status);
  assert.equal(statuses.filter((status) => status === 'succeeded').length, 1);
  assert.ok(statuses.includes('failed'));
  assert.deepEqual(problems, []);
  await context.close();
});

test('an expired session says so and takes no card; cancel goes back to the shop', async () => {
  const session = await newSession();
  await stripe.checkout.sessions.expire(session.id);
  const context = await browser.newContext();
  const { page, problems } = await watchedPage(context);
  const answer = await page.goto(session.url ?? '');
  assert.equal(answer?.status(), 410);
  // Chromium logs the page's own 410 as a console error: the one expected.
  problems.splice(0, problems.length, ...problems.filter((line) => !/status of 410/.test(line)));
  assert.match(await page.locator('main').innerText(), /expired/i);
  assert.equal(await page.locator('#card_number').count(), 0);
  await screenshot(page, 'checkout-expired');

  const open = await newSession();
  await page.goto(open.url ?? '');
  await page.locator('#cancel').click();
  await page.waitForURL(`${shopUrl}/cart`);
  assert.equal((await stripe.checkout.sessions.retrieve(open.id)).status, 'open');
  assert.deepEqual(problems, []);
  await context.close();
});

test('a payment link opens a new session on each visit and pays', async () => {
  const link = await stripe.paymentLinks.create({
    line_items: [
      {
        price_data: { currency: 'jpy', unit_amount: 1500, product_data: { name: 'Matcha' } },
        quantity: 1,
      } as unknown as Stripe.PaymentLinkCreateParams.LineItem,
    ],
    after_completion: { type: 'redirect', redirect: { url: `${shopUrl}/linked` } },
  });
  const context = await browser.newContext();
  const { page, problems } = await watchedPage(context);
  await page.goto(link.url);
  await page.waitForURL(/\/pay\/cs_/);
  const first = page.url();
  assert.match(await page.locator('#pay').innerText(), /Pay ¥1,500/);
  // A link knows no buyer: the page asks the email too.
  await page.getByLabel('Email').fill('grace@example.com');
  await page.getByLabel('Card number').fill('5555555555554444');
  await page.getByLabel(/Expiry/).fill('01/30');
  await page.getByLabel(/Security code/).fill('123');
  await page.getByLabel('Name on card').fill('Grace Hopper');
  await page.locator('#pay').click();
  await page
    .waitForURL(new RegExp(`^${shopUrl}/linked`), { timeout: 5000 })
    .catch(async (error) => {
      throw new Error(
        `at ${page.url()}: ${(await page.locator('main').innerText()).slice(0, 500)}`,
        {
          cause: error,
        },
      );
    });
  await page.goto(link.url);
  await page.waitForURL(/\/pay\/cs_/);
  assert.notEqual(page.url(), first, 'a second visit is a second session');
  assert.deepEqual(problems, []);
  await context.close();
});
