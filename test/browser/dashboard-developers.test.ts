// The developers pages in real Chromium: a merchant adds a webhook endpoint (its secret shown
// once), a delivery to its failing receiver goes dead, the merchant finds it by status and
// replays it with a reason, and it succeeds; the operator replays a dead-lettered bus event from
// the dead-letter queue. No console error or CSP violation; screenshots in test-output/screenshots.
//
// No workers run in the server: the test moves the event bus (EmbeddedBus.dispatchOnce) and the
// deliverer (runOnce) itself, never a sleep.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { EmbeddedBus, silentLogger } from '../../src/events/bus/index.ts';
import type { EventConsumer } from '../../src/events/consumer.ts';
import { webhookFanout, webhookFanoutConsumerName } from '../../src/webhooks/index.ts';
import { launchChromium, screenshot, watchedPage } from '../support/browser.ts';
import type { Merchant } from '../support/merchants.ts';
import { call, knownTestCardNumbers, testAdminKey } from '../support/server.ts';
import { startSimulatedStack, type SimulatedStack } from '../support/simulator.ts';

let stack: SimulatedStack;
let browser: Browser;
let shop: Merchant;
let receiverStatus = 503;
let receiver: http.Server;
let receiverUrl: string;

async function dispatch(consumers: readonly EventConsumer[]): Promise<void> {
  const bus = new EmbeddedBus({
    database: stack.server.context.database,
    consumers,
    maxAttempts: 1,
    logger: silentLogger,
  });
  for (let round = 0; round < 50; round += 1) if (!(await bus.dispatchOnce()).more) return;
  throw new Error('the outbox did not drain');
}

async function pay(): Promise<string> {
  const paid = await call(stack.server, 'POST', '/v1/payment_intents', {
    key: shop.key,
    body: { amount: 4200, currency: 'usd', payment_method: 'pm_card_visa', confirm: true },
  });
  assert.equal(paid.status, 200, JSON.stringify(paid.body));
  return String(paid.body.id);
}

before(async () => {
  stack = await startSimulatedStack({
    env: {
      PAYRAIL_WEBHOOK_ALLOW_LOOPBACK: '1',
      PAYRAIL_RUN_WORKERS: 'false',
      PAYRAIL_WEBHOOK_RETRY_SCHEDULE_MS: '0',
    },
  });
  shop = await stack.merchant('Browser shop');
  receiver = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(receiverStatus).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
  await stack?.stop();
});

test('a merchant adds an endpoint, finds its dead delivery and replays it with a reason', async () => {
  const context = await browser.newContext();
  const { page, problems } = await watchedPage(context);
  await page.goto(`${stack.server.url}/dashboard/developers`);
  await page.getByLabel(/API key/).fill(shop.key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/dashboard\/developers$/);
  await screenshot(page, 'dashboard-developers');
  await page.getByRole('link', { name: 'Webhook endpoints' }).click();
  await page.waitForURL(/\/dashboard\/developers\/webhooks$/);

  await page.getByLabel(/^Endpoint URL/).fill(`${receiverUrl}/orders`);
  await page.getByLabel('payment_intent.succeeded').check();
  await page.getByLabel('Reason (recorded in the audit log)').fill('The order service listens');
  await screenshot(page, 'dashboard-webhook-endpoints');
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  const secret = await page.locator('#secret').innerText();
  assert.match(secret, /^whsec_/);
  await screenshot(page, 'dashboard-webhook-endpoint-created');
  await page.getByRole('link', { name: 'Go to the endpoint' }).click();
  await page.waitForURL(/\/dashboard\/developers\/webhooks\/we_/);
  assert.ok(!(await page.content()).includes(secret));

  // A payment; its event goes to the receiver, which fails twice: the delivery is dead.
  await pay();
  await dispatch([webhookFanout]);
  const deliverer = stack.server.context.webhooks?.deliverer;
  assert.ok(deliverer);
  await deliverer.runOnce();
  assert.equal((await deliverer.runOnce())[0]?.outcome, 'dead');

  // The filter swaps the deliveries in place (htmx) and keeps the URL: no page load.
  await page.evaluate('window.notReloaded = true');
  await page.getByLabel('Status').selectOption('succeeded');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/status=succeeded/);
  await page.getByText('No deliveries.').waitFor();
  await page.getByLabel('Status').selectOption('dead');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/status=dead/);
  const row = page.locator('tr[data-delivery]');
  await row.first().waitFor();
  assert.equal(await row.count(), 1);
  assert.equal(await page.evaluate('window.notReloaded'), true);
  assert.match(await row.innerText(), /dead/);
  assert.match(await row.innerText(), /503/);
  await screenshot(page, 'dashboard-webhook-dead-delivery');

  receiverStatus = 200;
  await row.getByText('Retry', { exact: true }).click();
  await row.getByLabel('Reason (recorded in the audit log)').fill('Receiver fixed');
  await row.getByRole('button', { name: /^Send wd_/ }).click();
  await page.waitForURL(/done=retried/);
  await page.getByRole('status').waitFor();
  assert.equal((await deliverer.runOnce())[0]?.outcome, 'succeeded');
  await page.reload();
  assert.match(await page.locator('tr[data-delivery]').first().innerText(), /succeeded/);
  await screenshot(page, 'dashboard-webhook-endpoint');

  // The event's page: its payload and its delivery.
  await page.locator('tr[data-delivery] a').first().click();
  await page.waitForURL(/\/dashboard\/developers\/events\/evt_/);
  assert.match(await page.locator('#payload').innerText(), /"type": "payment_intent\.succeeded"/);
  await screenshot(page, 'dashboard-event');

  const text = await page.content();
  for (const number of knownTestCardNumbers) assert.ok(!text.includes(number), number);
  assert.deepEqual(problems, []);
  await context.close();
});

test('the operator replays a dead-lettered event from the dead-letter queue', async () => {
  const broken: EventConsumer = {
    name: webhookFanoutConsumerName,
    handle: () => Promise.reject(new Error('the endpoints table was locked')),
  };
  await pay();
  await dispatch([broken]);
  const context = await browser.newContext();
  const { page, problems } = await watchedPage(context);
  await page.goto(`${stack.server.url}/dashboard/developers/dead-letters?status=pending`);
  await page.getByLabel(/API key/).fill(testAdminKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/dashboard\/developers\/dead-letters\?status=pending$/);
  const rows = page.locator('tr[data-dead-letter]');
  assert.ok((await rows.count()) >= 1);
  const row = rows.filter({ hasText: 'payment_intent.succeeded' });
  assert.match(await row.innerText(), /the endpoints table was locked/);
  await screenshot(page, 'dashboard-dead-letters');
  await row.getByText('Replay', { exact: true }).click();
  await row.getByLabel('Reason (recorded in the audit log)').fill('The lock is gone');
  await row.getByRole('button', { name: /^Replay dl_/ }).click();
  await page.waitForURL(/\/dashboard\/developers\/dead-letters\/dl_/);
  assert.match(await page.locator('#replay-outcome').innerText(), /Last replay: handled/);
  await screenshot(page, 'dashboard-dead-letter-replayed');
  assert.deepEqual(problems, []);
  await context.close();
});

test('the developers pages fit a phone’s width', async () => {
  const context = await browser.newContext();
  const { page, problems } = await watchedPage(context, { width: 375, height: 800 });
  await page.goto(`${stack.server.url}/dashboard/sign-in`);
  await page.getByLabel(/API key/).fill(testAdminKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/dashboard$/);
  const endpoints = await stack.server.context.webhooks?.endpoints.list(shop.id, { limit: 1 });
  const endpoint = endpoints?.endpoints[0]?.id;
  assert.ok(endpoint !== undefined);
  for (const path of [
    '/dashboard/developers',
    `/dashboard/developers/webhooks?merchant=${shop.id}`,
    `/dashboard/developers/webhooks/${endpoint}?merchant=${shop.id}`,
    `/dashboard/developers/events?merchant=${shop.id}`,
    '/dashboard/developers/dead-letters',
  ]) {
    await page.goto(`${stack.server.url}${path}`);
    const overflow = await page.evaluate<number>('document.body.scrollWidth - window.innerWidth');
    assert.ok(overflow <= 0, `${path} is ${overflow} px wider than the phone`);
  }
  await screenshot(page, 'dashboard-dead-letters-phone');
  assert.deepEqual(problems, []);
  await context.close();
});
