// The payments pages over HTTP, as a browser without JavaScript sees them: the list with its
// filters, search and CSV export, a payment's timeline, the refund action (reason asked, run
// once, audited), roles, and one merchant never seeing another's payments.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Papa from 'papaparse';
import { signedIn, type DashboardClient } from '../support/dashboard.ts';
import type { Merchant } from '../support/merchants.ts';
import { call, testAdminKey } from '../support/server.ts';
import { startSimulatedStack, type SimulatedStack } from '../support/simulator.ts';

let stack: SimulatedStack;
let shop: Merchant;
let other: Merchant;
const shopPayments: string[] = [];
let otherPayment: string;

async function pay(merchant: Merchant, body: Record<string, unknown>): Promise<string> {
  const created = await call(stack.server, 'POST', '/v1/payment_intents', {
    key: merchant.key,
    body: { currency: 'usd', confirm: true, ...body },
  });
  assert.ok(created.status === 200 || created.status === 402, JSON.stringify(created.body));
  const intent = (created.status === 402 ? created.body.error : created.body) as Record<
    string,
    unknown
  >;
  return String(intent.id ?? (intent.payment_intent as { id: string }).id);
}

before(async () => {
  stack = await startSimulatedStack();
  shop = await stack.merchant('Shop');
  other = await stack.merchant('Other');
  shopPayments.push(
    await pay(shop, {
      amount: 4200,
      payment_method: 'pm_card_visa',
      receipt_email: 'ada@example.com',
    }),
    await pay(shop, { amount: 1500, payment_method: 'pm_card_mastercard' }),
    await pay(shop, { amount: 999, payment_method: 'pm_card_chargeDeclined' }),
  );
  otherPayment = await pay(other, {
    amount: 7700,
    payment_method: 'pm_card_visa',
    receipt_email: 'ada@example.com',
  });
});
after(async () => stack.stop());

function ids(body: string): string[] {
  return [...body.matchAll(/href="\/dashboard\/payments\/(pi_[A-Za-z0-9]+)"/g)].map(
    (match) => match[1] as string,
  );
}

describe('the payments list', () => {
  let browser: DashboardClient;
  before(async () => {
    browser = await signedIn(stack.server.url, { key: shop.key });
  });

  test('lists the merchant’s payments, newest first, with amounts in their currency', async () => {
    const page = await browser.get('/dashboard/payments');
    assert.equal(page.status, 200);
    assert.deepEqual(ids(page.body), [...shopPayments].reverse());
    assert.match(page.body, /\$42\.00/);
    assert.match(page.body, /card_declined|generic_decline/);
  });

  test('filters and search narrow it; a bad filter is a 400 naming the field', async () => {
    assert.deepEqual(
      ids((await browser.get('/dashboard/payments?status=succeeded')).body).sort(),
      shopPayments.slice(0, 2).sort(),
    );
    assert.deepEqual(ids((await browser.get('/dashboard/payments?q=ada%40example.com')).body), [
      shopPayments[0],
    ]);
    assert.deepEqual(ids((await browser.get('/dashboard/payments?q=4444')).body), [
      shopPayments[1],
    ]);
    assert.deepEqual(ids((await browser.get(`/dashboard/payments?q=${shopPayments[2]}`)).body), [
      shopPayments[2],
    ]);
    assert.deepEqual(
      ids((await browser.get('/dashboard/payments?currency=usd&amount_min=10&amount_max=20')).body),
      [shopPayments[1]],
    );
    for (const [query, field] of [
      ['status=paid', 'status'],
      ['amount_min=5', 'amount_min'],
      ['currency=zzz', 'currency'],
      ['from=yesterday', 'from'],
      ['starting_after=%3Cx%3E', 'starting_after'],
    ] as const) {
      const answer = await browser.get(`/dashboard/payments?${query}`);
      assert.equal(answer.status, 400, query);
      assert.match(answer.body, new RegExp(`${field}:`), query);
    }
  });

  test('keyset pages link newer and older, never by offset', async () => {
    const first = await browser.get(`/dashboard/payments?starting_after=${shopPayments[2]}`);
    assert.deepEqual(ids(first.body), [shopPayments[1], shopPayments[0]]);
    assert.match(first.body, new RegExp(`ending_before=${shopPayments[1]}`));
  });

  test('the CSV export is exactly the filtered list', async () => {
    const csv = await browser.get('/dashboard/payments.csv?status=succeeded');
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /text\/csv/);
    const parsed = Papa.parse<Record<string, string>>(csv.body.trim(), { header: true });
    const page = await browser.get('/dashboard/payments?status=succeeded');
    assert.deepEqual(
      parsed.data.map((row) => row.id),
      ids(page.body),
    );
    assert.ok(parsed.data.every((row) => row.merchant === shop.id && row.status === 'succeeded'));
  });

  test('an htmx request for the list gets the results fragment only', async () => {
    const fragment = await browser.get('/dashboard/payments?status=succeeded', {
      'hx-request': 'true',
      'hx-request-type': 'partial',
    });
    assert.equal(fragment.status, 200);
    assert.doesNotMatch(fragment.body, /<html/);
    assert.match(fragment.body, /id="payments"/);
  });
});

describe('a payment’s timeline and its refund', () => {
  test('shows the request, routing, risk, the attempt with its latency, ledger postings and events', async () => {
    const browser = await signedIn(stack.server.url, { key: shop.key });
    const page = await browser.get(`/dashboard/payments/${shopPayments[0]}`);
    assert.equal(page.status, 200);
    for (const kind of ['api_request', 'routing', 'risk', 'attempt', 'ledger', 'event'])
      assert.match(page.body, new RegExp(`data-kind="${kind}"`), kind);
    assert.match(page.body, /PSP answered in \d+ ms/);
    assert.match(page.body, /merchant:[^<]*pending|psp:[^<]*receivable/);
  });

  test('a refund asks a reason, runs once for a resubmitted form, and is in the audit log', async () => {
    const browser = await signedIn(stack.server.url, { key: shop.key });
    const id = shopPayments[0] as string;
    const page = await browser.get(`/dashboard/payments/${id}`);
    const once = /name="_once" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const noReason = await browser.post(`/dashboard/payments/${id}/refund`, {
      _once: once,
      amount: '5.00',
    });
    assert.equal(noReason.status, 400);
    assert.match(noReason.body, /reason:/);
    const form = {
      _once: once,
      amount: '5.00',
      refund_reason: 'requested_by_customer',
      reason: 'customer returned one item',
    };
    const first = await browser.post(`/dashboard/payments/${id}/refund`, form);
    assert.equal(first.status, 303);
    const again = await browser.post(`/dashboard/payments/${id}/refund`, form);
    assert.equal(again.status, 303);
    assert.equal(again.location, first.location);
    const refunds = await call(stack.server, 'GET', `/v1/refunds?payment_intent=${id}`, {
      key: shop.key,
    });
    assert.equal((refunds.body.data as unknown[]).length, 1);
    assert.equal((refunds.body.data as { amount: number }[])[0]?.amount, 500);
    const audit = await browser.get(`/dashboard/audit?object=${id}`);
    assert.match(audit.body, /payment\.refund/);
    assert.match(audit.body, /customer returned one item/);
    assert.match(audit.body, new RegExp(`key sk_test_…${shop.key.slice(-4)}`));
    const after = await browser.get(`/dashboard/payments/${id}`);
    assert.match(after.body, /data-kind="refund"/);
  });

  test('a refund and its audit entry commit together: an audit failure refunds nothing', async () => {
    const browser = await signedIn(stack.server.url, { key: shop.key });
    const id = shopPayments[0] as string;
    const page = await browser.get(`/dashboard/payments/${id}`);
    const once = /name="_once" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const form = { _once: once, amount: '1.00', reason: 'goodwill gesture' };
    const count = async () =>
      (
        (await call(stack.server, 'GET', `/v1/refunds?payment_intent=${id}`, { key: shop.key }))
          .body.data as unknown[]
      ).length;
    const refundsBefore = await count();
    const audit = stack.server.context.dashboard.audit;
    const auditedBefore = (
      await audit.list(shop.id, { objectId: id, action: 'payment.refund' }, { limit: 10 })
    ).rows.length;
    const record = audit.record.bind(audit);
    let failures = 1;
    audit.record = async (...args) => {
      if (failures-- > 0) throw new Error('the audit log is unavailable');
      return record(...args);
    };
    try {
      const failed = await browser.post(`/dashboard/payments/${id}/refund`, form);
      assert.equal(failed.status, 500);
      assert.equal(await count(), refundsBefore, 'no refund without its audit entry');
      // The same form again: refunded once, audited once.
      const retried = await browser.post(`/dashboard/payments/${id}/refund`, form);
      assert.equal(retried.status, 303);
      assert.equal(await count(), refundsBefore + 1);
      const entries = await audit.list(
        shop.id,
        { objectId: id, action: 'payment.refund' },
        { limit: 10 },
      );
      assert.equal(entries.rows.length, auditedBefore + 1);
    } finally {
      audit.record = record;
    }
  });

  test('a support user sees the payment but may not refund it', async () => {
    await stack.server.context.dashboard.users.create({
      email: 'support@shop.example',
      password: 'support password 1',
      role: 'support',
      merchantId: shop.id,
    });
    const browser = await signedIn(stack.server.url, {
      email: 'support@shop.example',
      password: 'support password 1',
    });
    const id = shopPayments[1] as string;
    const page = await browser.get(`/dashboard/payments/${id}`);
    assert.equal(page.status, 200);
    const refused = await browser.post(`/dashboard/payments/${id}/refund`, {
      _once: 'x'.repeat(20),
      reason: 'trying anyway',
    });
    assert.equal(refused.status, 403);
    const refunds = await call(stack.server, 'GET', `/v1/refunds?payment_intent=${id}`, {
      key: shop.key,
    });
    assert.equal((refunds.body.data as unknown[]).length, 0);
  });
});

describe('isolation', () => {
  test('a merchant never sees another merchant’s payment: list, search, page, CSV, fragment, action', async () => {
    const browser = await signedIn(stack.server.url, { key: shop.key });
    const list = await browser.get('/dashboard/payments?q=ada%40example.com');
    assert.ok(!list.body.includes(otherPayment));
    assert.ok(!(await browser.get('/dashboard/payments.csv')).body.includes(otherPayment));
    assert.ok(
      !(await browser.get(`/dashboard/payments?merchant=${other.id}`)).body.includes(otherPayment),
    );
    const detail = await browser.get(`/dashboard/payments/${otherPayment}`);
    assert.equal(detail.status, 404);
    const missing = await browser.get('/dashboard/payments/pi_doesnotexist000');
    assert.equal(missing.status, 404);
    assert.equal(
      detail.body.replace(otherPayment, 'X'),
      missing.body.replace('pi_doesnotexist000', 'X'),
    );
    const cursor = await browser.get(`/dashboard/payments?starting_after=${otherPayment}`);
    assert.equal(cursor.status, 404);
    const refund = await browser.post(`/dashboard/payments/${otherPayment}/refund`, {
      _once: 'y'.repeat(20),
      reason: 'not mine',
    });
    assert.equal(refund.status, 404);
  });

  test('the operator sees every merchant, or one', async () => {
    const operator = await signedIn(stack.server.url, { key: testAdminKey });
    const all = await operator.get('/dashboard/payments');
    assert.ok(all.body.includes(otherPayment) && all.body.includes(shopPayments[0] as string));
    const one = await operator.get(`/dashboard/payments?merchant=${other.id}`);
    assert.deepEqual(ids(one.body), [otherPayment]);
    assert.equal((await operator.get(`/dashboard/payments/${otherPayment}`)).status, 200);
  });
});
