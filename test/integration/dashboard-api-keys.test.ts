// The dashboard's connectors and developers → API keys pages over HTTP, as a browser without
// JavaScript sees them: connector health as a table and chart data; API keys listed by hint,
// created, rolled and revoked with a reason, exactly once, audited; roles; one merchant never
// reaching another's keys.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { advanceClock } from '../support/clock.ts';
import { signedIn, type DashboardClient } from '../support/dashboard.ts';
import type { Merchant } from '../support/merchants.ts';
import { call, testAdminKey } from '../support/server.ts';
import { startSimulatedStack, type SimulatedStack } from '../support/simulator.ts';

let stack: SimulatedStack;
let shop: Merchant;
let other: Merchant;

before(async () => {
  stack = await startSimulatedStack();
  shop = await stack.merchant('Key shop');
  other = await stack.merchant('Other shop');
});
after(() => stack.stop());

const keysPath = '/dashboard/developers/api-keys';

/** The fields of the form posting to `action` on the page (its _once token). */
function formOnce(body: string, action: string): string {
  const escaped = action.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/&/g, '&(?:amp;)?');
  const form = new RegExp(`<form method="post" action="${escaped}"[^>]*>([\\s\\S]*?)</form>`).exec(
    body,
  );
  assert.ok(form !== null, `no form posting to ${action}`);
  const once = /name="_once" value="([^"]+)"/.exec(form[1] ?? '');
  assert.ok(once !== null);
  return once[1] as string;
}

function keyIds(body: string): string[] {
  return [...body.matchAll(/<tr data-key="(key_[A-Za-z0-9]+)"/g)].map(
    (match) => match[1] as string,
  );
}

function secretOf(body: string): string {
  const found = /id="new-secret"[^>]*value="(sk_test_[A-Za-z0-9]+)"/.exec(body);
  assert.ok(found !== null, 'the new secret is shown');
  return found[1] as string;
}

async function apiStatus(key: string): Promise<number> {
  return (await call(stack.server, 'GET', '/v1/balance', { key })).status;
}

describe('connectors page', () => {
  test('health per connector now and over time, as a table and chart data', async () => {
    const { server } = stack;
    await advanceClock(server, 60);
    await server.runtime.connectorHealth.tick();
    for (const paymentMethod of ['pm_card_visa', 'pm_card_mastercard'])
      await call(server, 'POST', '/v1/payment_intents', {
        key: shop.key,
        body: { amount: 1_000, currency: 'usd', payment_method: paymentMethod, confirm: true },
      });
    await advanceClock(server, 60);
    await server.runtime.connectorHealth.tick();

    const browser = await signedIn(server.url, { key: shop.key });
    const page = await browser.get('/dashboard/connectors');
    assert.equal(page.status, 200);
    assert.match(page.body, /<tr data-connector="stripe">[\s\S]*?closed[\s\S]*?100\.0 %/);
    for (const name of ['adyen', 'paytm', 'razorpay', 'stripe'])
      assert.match(page.body, new RegExp(`data-connector="${name}"`));
    assert.match(page.body, /uplot[^"]*\.js/, 'the chart script is loaded');
    const islands = [
      ...page.body.matchAll(
        /<script type="application\/json" data-chart="([^"]+)">([^<]*)<\/script>/g,
      ),
    ];
    const stripe = islands.find((island) => island[1] === 'chart-stripe-rate');
    assert.ok(stripe !== undefined, 'a chart of stripe');
    const spec = JSON.parse(stripe[2] as string) as { data: (number | null)[][] };
    const [timestamps, rate, breaker, calls] = spec.data as [
      number[],
      (number | null)[],
      unknown[],
      (number | null)[],
    ];
    assert.equal(timestamps.length, 60, 'an hour by the minute, the running minute last');
    assert.equal(
      calls.reduce<number>((sum, value) => sum + (value ?? 0), 0),
      2,
    );
    assert.ok(rate.includes(100));
    assert.equal(breaker.length, 60);
    assert.ok(page.body.includes('id="chart-stripe-latency"'));

    const week = await browser.get('/dashboard/connectors?range=7d&connector=stripe');
    assert.equal(week.status, 200);
    assert.equal([...week.body.matchAll(/data-chart="chart-[a-z]+-rate"/g)].length, 1);
    assert.equal((await browser.get('/dashboard/connectors?range=1y')).status, 400);
    assert.equal((await browser.get('/dashboard/connectors?connector=nosuchpsp')).status, 404);
  });
});

describe('developers → API keys', () => {
  let browser: DashboardClient;

  before(async () => {
    browser = await signedIn(stack.server.url, { key: shop.key });
  });

  test('the list shows hints, never a whole key', async () => {
    const landing = await browser.get('/dashboard/developers');
    assert.equal(landing.status, 200);
    assert.match(landing.body, new RegExp(`href="${keysPath}"`));
    const page = await browser.get(keysPath);
    assert.equal(page.status, 200);
    assert.match(page.body, new RegExp(`sk_test_…${shop.key.slice(-4)}`));
    assert.match(page.body, /pk_test_…/);
    assert.doesNotMatch(page.body, /[sp]k_(test|live)_[A-Za-z0-9]{20,}/);
    assert.ok(!page.body.includes(shop.key));
  });

  test('create: asks a reason, shows the secret once, runs once, is audited', async () => {
    const page = await browser.get(keysPath);
    const once = formOnce(page.body, keysPath);
    const noReason = await browser.post(keysPath, { _once: once, name: 'CI' });
    assert.equal(noReason.status, 400);
    assert.match(noReason.body, /reason: say why/);
    const created = await browser.post(keysPath, { _once: once, name: 'CI', reason: 'deploys' });
    assert.equal(created.status, 200);
    assert.equal(created.headers.get('cache-control'), 'no-store');
    const secret = secretOf(created.body);
    assert.equal(await apiStatus(secret), 200);
    // The same form again: nothing new, and the secret is not shown again.
    const again = await browser.post(keysPath, { _once: once, name: 'CI', reason: 'deploys' });
    assert.equal(again.status, 303);
    assert.match(again.location ?? '', /done=resent/);
    const keys = await stack.server.runtime.apiKeys.listKeys(shop.id);
    assert.equal(keys.filter((key) => key.name === 'CI').length, 1);
    const auditPage = await browser.get('/dashboard/audit');
    assert.match(auditPage.body, /api_key\.create/);
    assert.match(auditPage.body, /deploys/);
    assert.ok(!auditPage.body.includes(secret), 'no secret in the audit log');
    const entries = await stack.server.context.database.query<{ after: { hint: string } }>(
      "SELECT after FROM audit_log WHERE action = 'api_key.create'",
    );
    assert.equal(entries.rows.length, 1);
    assert.equal(entries.rows[0]?.after.hint, `sk_test_…${secret.slice(-4)}`);
  });

  test('roll: the old key works until the chosen expiry, then is refused', async () => {
    const created = await stack.server.runtime.apiKeys.createKey(shop.id, {
      kind: 'secret',
      name: 'to roll',
    });
    const page = await browser.get(keysPath);
    const action = `${keysPath}/${created.key.id}/roll`;
    const rolled = await browser.post(action, {
      _once: formOnce(page.body, action),
      expires_in_hours: '1',
      reason: 'leaked in a log',
    });
    assert.equal(rolled.status, 200);
    const secret = secretOf(rolled.body);
    assert.equal(await apiStatus(created.secret), 200);
    assert.equal(await apiStatus(secret), 200);
    await advanceClock(stack.server, 3_600);
    assert.equal(await apiStatus(created.secret), 401);
    assert.equal(await apiStatus(secret), 200);
    const listed = await browser.get(keysPath);
    assert.match(listed.body, new RegExp(`data-key="${created.key.id}"[\\s\\S]*?expired`));
  });

  test('revoke: refused at once; never the last working secret key', async () => {
    const created = await stack.server.runtime.apiKeys.createKey(shop.id, { kind: 'secret' });
    assert.equal(await apiStatus(created.secret), 200);
    let page = await browser.get(keysPath);
    const action = `${keysPath}/${created.key.id}/revoke`;
    const revoked = await browser.post(action, {
      _once: formOnce(page.body, action),
      reason: 'unused',
    });
    assert.equal(revoked.status, 303);
    assert.match(revoked.location ?? '', /done=revoked/);
    assert.equal(await apiStatus(created.secret), 401);

    // Revoke every other working secret key but the session's own, then that one: refused.
    for (const key of await stack.server.runtime.apiKeys.listKeys(shop.id))
      if (
        key.kind === 'secret' &&
        key.status === 'active' &&
        key.hint !== `sk_test_…${shop.key.slice(-4)}`
      )
        await stack.server.runtime.apiKeys.revokeKey(shop.id, key.id);
    const mine = (await stack.server.runtime.apiKeys.listKeys(shop.id)).find(
      (key) => key.hint === `sk_test_…${shop.key.slice(-4)}`,
    );
    assert.ok(mine !== undefined);
    page = await browser.get(keysPath);
    const last = `${keysPath}/${mine.id}/revoke`;
    const refused = await browser.post(last, { _once: formOnce(page.body, last), reason: 'try' });
    assert.equal(refused.status, 409);
    assert.match(refused.body, /only secret key that keeps working/);
    assert.equal(await apiStatus(shop.key), 200);
  });

  test("another merchant's key ids answer 404; the operator picks the merchant", async () => {
    const theirs = await stack.server.runtime.apiKeys.listKeys(other.id);
    for (const key of theirs) {
      for (const verb of ['roll', 'revoke']) {
        // A token of its own, as every form has (a token reused on another path is a 400).
        const answer = await browser.post(`${keysPath}/${key.id}/${verb}`, {
          _once: randomBytes(18).toString('base64url'),
          reason: 'not mine',
        });
        assert.equal(answer.status, 404, `${verb} ${key.id}`);
      }
    }
    // The merchant filter is the operator's: a merchant's session ignores it.
    const sneaky = await browser.get(`${keysPath}?merchant=${other.id}`);
    assert.ok(!keyIdsOf(theirs).some((id) => keyIds(sneaky.body).includes(id)));
    assert.equal(await apiStatus(other.key), 200);

    const operator = await signedIn(stack.server.url, { key: testAdminKey });
    const pick = await operator.get(keysPath);
    assert.match(pick.body, /name="merchant"/);
    const listed = await operator.get(`${keysPath}?merchant=${other.id}`);
    assert.deepEqual(keyIds(listed.body).sort(), keyIdsOf(theirs).sort());
    const action = `${keysPath}?merchant=${other.id}`;
    const created = await operator.post(action, {
      _once: formOnce(listed.body, action),
      reason: 'for their support',
    });
    assert.equal(created.status, 200);
    assert.equal(await apiStatus(secretOf(created.body)), 200);
  });

  test('a support user sees the keys but cannot change them; a form without CSRF is refused', async () => {
    await stack.server.context.dashboard.users.create({
      email: 'support@keyshop.example',
      password: 'correct horse battery',
      role: 'support',
      merchantId: shop.id,
    });
    const support = await signedIn(stack.server.url, {
      email: 'support@keyshop.example',
      password: 'correct horse battery',
    });
    const page = await support.get(keysPath);
    assert.equal(page.status, 200);
    assert.doesNotMatch(page.body, /<form method="post" action="\/dashboard\/developers/);
    const refused = await support.post(keysPath, { _once: 'A'.repeat(24), reason: 'try' });
    assert.equal(refused.status, 403);
    const noCsrf = await browser.request('POST', keysPath, {
      _once: 'B'.repeat(24),
      reason: 'try',
    });
    assert.equal(noCsrf.status, 403);
  });
});

function keyIdsOf(keys: readonly { id: string }[]): string[] {
  return keys.map((key) => key.id);
}
