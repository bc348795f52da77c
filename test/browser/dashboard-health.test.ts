// The connectors and developers → API keys pages in real Chromium: the health charts drawn by
// uPlot from their JSON islands, and a key created, rolled and revoked with reasons, the secret
// shown once, the audit entries listed. No console error and no CSP violation on any page;
// screenshots into test-output/screenshots.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { advanceClock } from '../support/clock.ts';
import { launchChromium, screenshot, watchedPage } from '../support/browser.ts';
import type { Merchant } from '../support/merchants.ts';
import { call } from '../support/server.ts';
import { startSimulatedStack, type SimulatedStack } from '../support/simulator.ts';

let stack: SimulatedStack;
let browser: Browser;
let shop: Merchant;

before(async () => {
  stack = await startSimulatedStack();
  shop = await stack.merchant('Health browser shop');
  // A few minutes of traffic, each written when the test clock's minute turns.
  for (let minute = 0; minute < 4; minute++) {
    for (const method of ['pm_card_visa', 'pm_card_mastercard', 'pm_card_chargeDeclined'])
      await call(stack.server, 'POST', '/v1/payment_intents', {
        key: shop.key,
        body: { amount: 1_000, currency: 'usd', payment_method: method, confirm: true },
      });
    await advanceClock(stack.server, 60);
    await stack.server.runtime.connectorHealth.tick();
  }
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});

test('the connectors page draws its charts; the API keys page creates, rolls and revokes', async () => {
  const context = await browser.newContext();
  const { page, problems } = await watchedPage(context);
  await page.goto(`${stack.server.url}/dashboard/connectors`);
  await page.getByLabel(/API key/).fill(shop.key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/dashboard\/connectors$/);
  // uPlot draws a canvas per chart: two per connector with calls in the range.
  await page.locator('#chart-stripe-rate canvas').waitFor();
  await page.locator('#chart-stripe-latency canvas').waitFor();
  assert.ok((await page.locator('.uplot').count()) >= 2);
  assert.match(await page.locator('tr[data-connector="stripe"]').innerText(), /closed\s+100\.0 %/);
  await screenshot(page, 'dashboard-connectors');

  await page.getByRole('link', { name: 'Developers' }).click();
  await page.waitForURL(/\/dashboard\/developers$/);
  await page.getByRole('link', { name: 'API keys' }).click();
  await page.waitForURL(/\/dashboard\/developers\/api-keys$/);
  await page.getByLabel('Name (optional)').fill('Deploy bot');
  await page.locator('#reason-create').fill('A key for the deploy pipeline');
  await page.getByRole('button', { name: 'Create secret key' }).click();
  const secret = await page.locator('#new-secret').inputValue();
  assert.match(secret, /^sk_test_[A-Za-z0-9]{43}$/);
  await screenshot(page, 'dashboard-api-key-created');
  assert.equal((await call(stack.server, 'GET', '/v1/balance', { key: secret })).status, 200);

  await page.getByRole('link', { name: /API keys/ }).click();
  const row = page.locator('tr', { hasText: 'Deploy bot' });
  await row.getByText('Roll', { exact: true }).click();
  const roll = row.locator('form[action$="/roll"]');
  await roll.getByLabel('The old key stops working').selectOption('24');
  await roll.getByLabel('Reason (recorded in the audit log)').fill('Rotating every quarter');
  await roll.getByRole('button', { name: /^Roll / }).click();
  const rolled = await page.locator('#new-secret').inputValue();
  assert.notEqual(rolled, secret);
  assert.equal((await call(stack.server, 'GET', '/v1/balance', { key: secret })).status, 200);

  await page.getByRole('link', { name: /API keys/ }).click();
  const expiring = page.locator('tr', { hasText: 'expiring' }).first();
  await expiring.getByText('Revoke', { exact: true }).click();
  const revoke = expiring.locator('form[action$="/revoke"]');
  await revoke.getByLabel('Reason (recorded in the audit log)').fill('No need to wait');
  await revoke.getByRole('button', { name: /^Revoke / }).click();
  await page.waitForURL(/done=revoked/);
  await page.getByRole('status').waitFor();
  assert.equal((await call(stack.server, 'GET', '/v1/balance', { key: secret })).status, 401);
  await screenshot(page, 'dashboard-api-keys');

  await page.getByRole('link', { name: 'Audit log' }).click();
  await page.waitForURL(/\/dashboard\/audit$/);
  const audit = await page.locator('table').innerText();
  for (const text of ['api_key.create', 'api_key.roll', 'api_key.revoke', 'No need to wait'])
    assert.ok(audit.includes(text), text);
  const content = await page.content();
  assert.ok(!content.includes(secret) && !content.includes(rolled), 'no secret in the audit');
  assert.deepEqual(problems, []);
  await context.close();
});

test('the connectors page fits a phone’s width', async () => {
  const context = await browser.newContext();
  const { page, problems } = await watchedPage(context, { width: 375, height: 800 });
  await page.goto(`${stack.server.url}/dashboard/sign-in`);
  await page.getByLabel(/API key/).fill(shop.key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/dashboard$/);
  await page.goto(`${stack.server.url}/dashboard/connectors?range=24h`);
  await page.locator('#chart-stripe-rate canvas').waitFor();
  const overflow = await page.evaluate<number>('document.body.scrollWidth - window.innerWidth');
  assert.ok(overflow <= 0, `the page is ${overflow} px wider than the phone`);
  await screenshot(page, 'dashboard-connectors-phone');
  assert.deepEqual(problems, []);
  await context.close();
});
