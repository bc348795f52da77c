// The money pages in real Chromium: a merchant reads its balance, its balance transactions and a
// payout's contents, and cancels a payout not yet sent with a reason; the operator reads the
// settlement batches and writes off a reconciliation exception with a reason. No console error
// and no CSP violation on any page; screenshots of each page into test-output/screenshots.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium, screenshot, watchedPage } from '../support/browser.ts';
import { dayAt, MoneyOutDriver, nextWeekdayAt, type Json } from '../support/money-out.ts';
import type { Merchant } from '../support/merchants.ts';
import { call, knownTestCardNumbers, testAdminKey } from '../support/server.ts';
import { startSimulatedStack } from '../support/simulator.ts';

let driver: MoneyOutDriver;
let browser: Browser;
let shop: Merchant;
let pendingPayout: string;
let exceptionId: string;

before(async () => {
  const stack = await startSimulatedStack({ env: { PAYRAIL_RUN_WORKERS: 'false' } });
  driver = new MoneyOutDriver(stack);
  const start = nextWeekdayAt(await driver.now(), 5, 10);
  await driver.at(start);
  shop = await driver.merchant('Browser money shop');
  await driver.setPayoutSettings(shop, { schedule: 'manual' });
  await driver.pay(shop, 12_500);
  await driver.pay(shop, 3_300);
  await driver.runAt(dayAt(start, 0, 19));
  await driver.runAt(dayAt(start, 4, 9));
  const sent = await call(driver.server, 'POST', '/v1/payouts', {
    key: shop.key,
    body: { currency: 'usd', amount: 5_000 },
  });
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
  await driver.runAt(dayAt(start, 4, 12));
  const rest = await call(driver.server, 'POST', '/v1/payouts', {
    key: shop.key,
    body: { currency: 'usd' },
  });
  pendingPayout = String(rest.body.id);
  const booked = dayAt(start, 4, 0).toISOString().slice(0, 10);
  await driver.server.context.database.query(
    `INSERT INTO bank_statement_entries (entry_reference, direction, booking_date, currency,
       amount, kind, end_to_end_id, remittance, seen_at)
     VALUES ('BROWSER-1', 'credit', $1, 'usd', 4321, 'unmatched', NULL, 'who knows', now())`,
    [booked],
  );
  const run = await call(driver.server, 'POST', '/v1/reconciliation/runs', {
    key: testAdminKey,
    body: { as_of: booked },
  });
  assert.equal(run.status, 201, JSON.stringify(run.body));
  const raised = await call(
    driver.server,
    'GET',
    '/v1/reconciliation/exceptions?limit=100&reason=unexpected&source=bank_statement',
    { key: testAdminKey },
  );
  exceptionId = String(
    (raised.body.data as Json[]).find(
      (exception) => (exception.record as { key: string }).key === 'BROWSER-1:credit',
    )?.id,
  );
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await driver?.stack.stop();
});

test('a merchant: balance, transactions, a payout and its contents, a cancel with a reason', async () => {
  const context = await browser.newContext();
  const { page, problems } = await watchedPage(context);
  const url = driver.server.url;
  await page.goto(`${url}/dashboard/balances`);
  await page.getByLabel(/API key/).fill(shop.key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/dashboard\/balances$/);
  assert.equal(await page.locator('#balances tbody tr').count(), 1);
  await screenshot(page, 'dashboard-balances');

  await page.getByRole('link', { name: 'All balance transactions' }).click();
  await page.waitForURL(/\/dashboard\/balances\/transactions$/);
  await page.getByLabel('Type').selectOption('charge');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/type=charge/);
  assert.equal(await page.locator('#balance-transactions tbody tr').count(), 2);
  await screenshot(page, 'dashboard-balance-transactions');

  await page.getByRole('link', { name: 'Payouts', exact: true }).first().click();
  await page.waitForURL(/\/dashboard\/payouts$/);
  assert.equal(await page.locator('#payouts tbody tr').count(), 2);
  await screenshot(page, 'dashboard-payouts');

  await page.getByRole('link', { name: pendingPayout }).click();
  await page.waitForURL(new RegExp(`/dashboard/payouts/${pendingPayout}$`));
  assert.ok((await page.locator('#payout-contents tbody tr').count()) >= 2);
  await screenshot(page, 'dashboard-payout');
  await page.getByLabel('Reason (recorded in the audit log)').fill('The account is closing');
  await page.getByRole('button', { name: 'Cancel payout' }).click();
  await page.waitForURL(/done=cancel/);
  await page.getByRole('status').waitFor();
  assert.match(await page.locator('h1').innerText(), /canceled/);

  await page.getByRole('link', { name: 'Audit log' }).click();
  const entry = page.locator('tr[data-audit]').first();
  assert.match(await entry.innerText(), /payout\.cancel/);
  assert.match(await entry.innerText(), /The account is closing/);

  const text = await page.content();
  for (const number of knownTestCardNumbers) assert.ok(!text.includes(number), number);
  assert.deepEqual(problems, []);
  await context.close();
});

test('the operator: settlement batches, a reconciliation exception written off with a reason', async () => {
  const context = await browser.newContext();
  const { page, problems } = await watchedPage(context);
  const url = driver.server.url;
  await page.goto(`${url}/dashboard/settlement`);
  await page.getByLabel(/API key/).fill(testAdminKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/dashboard\/settlement$/);
  assert.ok((await page.locator('#settlement-batches tbody tr[data-id]').count()) >= 1);
  await screenshot(page, 'dashboard-settlement');
  await page.locator('#settlement-batches tbody tr[data-id] a').first().click();
  await page.waitForURL(/\/dashboard\/settlement\/.+/);
  await screenshot(page, 'dashboard-settlement-batch');

  await page.getByRole('link', { name: 'Reconciliation' }).first().click();
  await page.waitForURL(/\/dashboard\/reconciliation$/);
  await screenshot(page, 'dashboard-reconciliation-runs');
  await page.getByRole('link', { name: 'Open exceptions' }).click();
  await page.getByLabel('Kind').selectOption('unexpected');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/reason=unexpected/);
  await screenshot(page, 'dashboard-reconciliation-exceptions');
  await page.getByRole('link', { name: exceptionId }).click();
  await page.waitForURL(new RegExp(`/dashboard/reconciliation/exceptions/${exceptionId}$`));
  await screenshot(page, 'dashboard-reconciliation-exception');
  const writeOff = page.locator('form', { has: page.getByRole('heading', { name: 'Write off' }) });
  await writeOff.getByLabel('Reason (recorded in the audit log)').fill('A customer wire we keep');
  await writeOff.getByRole('button', { name: 'Write off' }).click();
  await page.waitForURL(/done=write_off/);
  await page.getByRole('status').waitFor();
  assert.match(await page.locator('h1').innerText(), /resolved/);
  assert.deepEqual(problems, []);
  await context.close();
});

test('the money pages fit a phone’s width', async () => {
  const context = await browser.newContext();
  const { page, problems } = await watchedPage(context, { width: 375, height: 800 });
  await page.goto(`${driver.server.url}/dashboard/sign-in`);
  await page.getByLabel(/API key/).fill(shop.key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/dashboard$/);
  for (const path of ['/dashboard/balances', '/dashboard/payouts']) {
    await page.goto(`${driver.server.url}${path}`);
    const overflow = await page.evaluate<number>('document.body.scrollWidth - window.innerWidth');
    assert.ok(overflow <= 0, `${path} is ${overflow} px wider than the phone`);
  }
  await screenshot(page, 'dashboard-payouts-phone');
  assert.deepEqual(problems, []);
  await context.close();
});
