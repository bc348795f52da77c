// A person's path through the dashboard in real Chromium: sign in, find a payment, open its
// timeline, refund it with a reason, see the audit entry. No console error and no CSP violation
// on any page; screenshots of each page into test-output/screenshots.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium, screenshot, watchedPage } from '../support/browser.ts';
import type { Merchant } from '../support/merchants.ts';
import { call, knownTestCardNumbers } from '../support/server.ts';
import { startSimulatedStack, type SimulatedStack } from '../support/simulator.ts';

let stack: SimulatedStack;
let browser: Browser;
let shop: Merchant;
let paymentId: string;

before(async () => {
  stack = await startSimulatedStack();
  shop = await stack.merchant('Browser shop');
  for (const [amount, method, email] of [
    [1200, 'pm_card_mastercard', 'grace@example.com'],
    [4200, 'pm_card_visa', 'ada@example.com'],
    [999, 'pm_card_chargeDeclined', 'linus@example.com'],
  ] as const) {
    const created = await call(stack.server, 'POST', '/v1/payment_intents', {
      key: shop.key,
      body: {
        amount,
        currency: 'usd',
        payment_method: method,
        confirm: true,
        receipt_email: email,
      },
    });
    if (email === 'ada@example.com') paymentId = String(created.body.id);
  }
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});

test('sign in, find a payment, open its timeline, refund it with a reason, see the audit entry', async () => {
  const context = await browser.newContext();
  const { page, problems } = await watchedPage(context);
  await page.goto(`${stack.server.url}/dashboard/payments`);
  // Not signed in: the sign-in form, then back to the payments.
  await page.getByLabel(/API key/).fill(shop.key);
  await screenshot(page, 'dashboard-sign-in');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/dashboard\/payments$/);
  assert.equal(await page.locator('table.list tbody tr').count(), 3);
  await screenshot(page, 'dashboard-payments');

  // Search by email: htmx swaps the results in place and pushes the URL.
  await page.getByLabel('Search').fill('ada@example.com');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/q=ada%40example\.com/);
  await page.locator('table.list tbody tr').first().waitFor();
  assert.equal(await page.locator('table.list tbody tr').count(), 1);

  await page.getByRole('link', { name: paymentId }).click();
  await page.waitForURL(new RegExp(`/dashboard/payments/${paymentId}$`));
  for (const kind of ['api_request', 'attempt', 'ledger', 'event'])
    assert.ok((await page.locator(`li[data-kind="${kind}"]`).count()) > 0, kind);
  await screenshot(page, 'dashboard-payment-timeline');

  await page.getByLabel(/^Amount/).fill('12.50');
  await page
    .getByLabel('Reason (recorded in the audit log)')
    .fill('Customer returned the blue one');
  await page.getByRole('button', { name: 'Refund' }).click();
  await page.waitForURL(/done=refund/);
  await page.getByRole('status').waitFor();
  assert.ok((await page.locator('li[data-kind="refund"]').count()) > 0);

  await page.getByRole('link', { name: 'Audit log' }).click();
  await page.waitForURL(/\/dashboard\/audit$/);
  const entry = page.locator('tr[data-audit]').first();
  assert.match(await entry.innerText(), /payment\.refund/);
  assert.match(await entry.innerText(), /Customer returned the blue one/);
  await screenshot(page, 'dashboard-audit');

  const text = await page.content();
  for (const number of knownTestCardNumbers) assert.ok(!text.includes(number), number);
  assert.deepEqual(problems, []);
  await context.close();
});

test('the pages fit a phone’s width', async () => {
  const context = await browser.newContext();
  const { page, problems } = await watchedPage(context, { width: 375, height: 800 });
  await page.goto(`${stack.server.url}/dashboard/sign-in`);
  await page.getByLabel(/API key/).fill(shop.key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/dashboard$/);
  await page.goto(`${stack.server.url}/dashboard/payments`);
  const overflow = await page.evaluate<number>('document.body.scrollWidth - window.innerWidth');
  assert.ok(overflow <= 0, `the page is ${overflow} px wider than the phone`);
  await screenshot(page, 'dashboard-payments-phone');
  assert.deepEqual(problems, []);
  await context.close();
});
