// One merchant never sees another's data, on any page or fragment of the dashboard. Merchant A's
// session crawls every dashboard page it can reach by following links; every id it sees that B's
// own crawl does not is A's alone. Then B's session asks for every URL A's crawl visited, and for
// every registered page route with each of A's ids in its parameters, as a whole page and as an
// htmx fragment: no answer may carry any of A's ids.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { registeredRoutes } from '../fuzz/fuzz.ts';
import { signedIn, type DashboardClient } from '../support/dashboard.ts';
import type { Merchant } from '../support/merchants.ts';
import { call } from '../support/server.ts';
import { startSimulatedStack, type SimulatedStack } from '../support/simulator.ts';

let stack: SimulatedStack;
let receiver: http.Server;
let a: Merchant;
let b: Merchant;

/** Objects of every kind the dashboard shows, made through the API and the dashboard itself. */
async function populate(merchant: Merchant, email: string): Promise<void> {
  const server = stack.server;
  const address = receiver.address() as AddressInfo;
  await call(server, 'POST', '/v1/webhook_endpoints', {
    key: merchant.key,
    body: { url: `http://127.0.0.1:${address.port}/hook`, enabled_events: ['*'] },
  });
  for (const [amount, method] of [
    [4200, 'pm_card_visa'],
    [1300, 'pm_card_chargeDeclined'],
  ] as const)
    await call(server, 'POST', '/v1/payment_intents', {
      key: merchant.key,
      body: {
        amount,
        currency: 'usd',
        payment_method: method,
        confirm: true,
        receipt_email: email,
      },
    });
  const paid = await call(server, 'GET', '/v1/payment_intents', { key: merchant.key });
  const paymentId =
    (paid.body.data as { id: string; status: string }[]).find(
      (intent) => intent.status === 'succeeded',
    )?.id ?? '';
  const page = await signedIn(server.url, { key: merchant.key });
  const form = await page.get(`/dashboard/payments/${paymentId}`);
  const once = /name="_once" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
  const refunded = await page.post(`/dashboard/payments/${paymentId}/refund`, {
    _once: once,
    amount: '1.00',
    reason: 'isolation test refund',
  });
  assert.equal(refunded.status, 303);
  await server.context.dashboard.users.create({
    email: `team@${email.split('@')[1]}`,
    password: 'a team password',
    role: 'developer',
    merchantId: merchant.id,
  });
}

const idPattern =
  /\b(?:pi|ch|pa|re|pm|cus|evt|we|whd|wd|key|usr|aud|po|txn|mch|req|dss|tds|prv)_[A-Za-z0-9]{8,}\b/g;

function idsIn(body: string): Set<string> {
  return new Set(body.match(idPattern) ?? []);
}

/** Every dashboard page a session reaches by following links (GET only, no sign-out). */
async function crawl(client: DashboardClient): Promise<{ urls: string[]; ids: Set<string> }> {
  const queue = ['/dashboard'];
  const seen = new Set(queue);
  const ids = new Set<string>();
  for (let index = 0; index < queue.length && index < 400; index++) {
    const url = queue[index] as string;
    const answer = await client.get(url);
    for (const id of idsIn(answer.body)) ids.add(id);
    for (const match of answer.body.matchAll(/href="(\/dashboard[^"#]*)"/g)) {
      const link = (match[1] as string).replaceAll('&amp;', '&');
      if (!seen.has(link)) {
        seen.add(link);
        queue.push(link);
      }
    }
  }
  return { urls: [...seen], ids };
}

before(async () => {
  receiver = http.createServer((_request, response) => response.writeHead(200).end('ok'));
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  stack = await startSimulatedStack({ env: { PAYRAIL_WEBHOOK_ALLOW_LOOPBACK: '1' } });
  a = await stack.merchant('Shop A');
  b = await stack.merchant('Shop B');
  await populate(a, 'ada@a.example');
  await populate(b, 'bob@b.example');
});
after(async () => {
  await stack?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});

test("merchant B's session never sees one of merchant A's ids, on any page or fragment", async () => {
  const sessionA = await signedIn(stack.server.url, { key: a.key });
  // B is one of its merchant's dashboard users (A's side signs in with its key: its admin).
  const sessionB = await signedIn(stack.server.url, {
    email: 'team@b.example',
    password: 'a team password',
  });
  const crawlA = await crawl(sessionA);
  const crawlB = await crawl(sessionB);
  const onlyA = [...crawlA.ids].filter((id) => !crawlB.ids.has(id));
  // A's crawl reached its payments, refund, events, endpoint, users and audit: many ids.
  assert.ok(onlyA.includes(a.id) && onlyA.length >= 15, `A's ids: ${onlyA.join(' ')}`);
  assert.ok(crawlA.urls.length >= 15, `A's pages: ${crawlA.urls.join(' ')}`);

  const routes = registeredRoutes(stack.server.app)
    .filter((route) => route.startsWith('GET /dashboard'))
    .map((route) => route.slice(4));
  const urls = new Set(crawlA.urls);
  for (const route of routes)
    for (const id of onlyA) urls.add(route.replace(/\{[^}]+\}/g, encodeURIComponent(id)));
  // A's ids as filters too: ?merchant=, ?object=, search boxes.
  for (const id of onlyA.slice(0, 20))
    for (const name of ['merchant', 'q', 'object', 'payment_intent'])
      urls.add(`/dashboard/payments?${name}=${id}`).add(`/dashboard/audit?${name}=${id}`);

  const leaks: string[] = [];
  for (const url of urls)
    for (const headers of [{}, { 'hx-request': 'true', 'hx-request-type': 'partial' }] as Record<
      string,
      string
    >[]) {
      const answer = await sessionB.get(url, headers);
      assert.ok(answer.status < 500, `${url}: ${answer.status}`);
      // An id B itself put in the URL may come back ("No payment pi_…"): that tells B nothing.
      const leaked = [...idsIn(answer.body)].filter(
        (id) => onlyA.includes(id) && !decodeURIComponent(url).includes(id),
      );
      if (leaked.length > 0) leaks.push(`${url} → ${answer.status}: ${leaked.join(', ')}`);
    }
  assert.deepEqual(leaks, [], `B saw A's ids on ${leaks.length} answers`);
  assert.ok(urls.size > 100, `${urls.size} URLs asked`);
});
