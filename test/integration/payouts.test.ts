// Payouts over HTTP: payout settings (merchant and operator), bank accounts (masked, never echoing
// the number), payouts (create, idempotency, list filters, retrieve, cancel), merchant isolation
// and bad input on every route. The account number must reach no log line (stop() checks).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMerchantKey, type Merchant } from '../support/merchants.ts';
import { call, startTestServer, testAdminKey, type TestServer } from '../support/server.ts';
import { addAvailable, paidAccount } from '../payouts/support.ts';

const account = {
  currency: 'usd',
  country: 'US',
  account_holder_name: 'Jane Shop',
  routing_number: '110000000',
  account_number: paidAccount,
};

describe('payouts over HTTP', () => {
  let server: TestServer;
  let own: Merchant;
  let other: Merchant;
  let bankAccountId: string;
  const books = () => ({
    database: server.context.database,
    ledger: server.context.ledger,
    clock: server.runtime.clock,
  });

  before(async () => {
    server = await startTestServer('pglite', { PAYRAIL_RUN_WORKERS: 'false' });
    server.forbidInLogs(paidAccount, '000111111116');
    own = await createMerchantKey(server, 'Own');
    other = await createMerchantKey(server, 'Other');
  });
  after(() => server.stop());

  test('payout settings: the merchant’s fields, the operator’s besides', async () => {
    const initial = await call(server, 'GET', '/v1/payout_settings', { key: own.key });
    assert.equal(initial.status, 200);
    assert.deepEqual(initial.body.schedule, {
      interval: 'daily',
      weekly_anchor: 'monday',
      delay_days: 2,
    });
    const changed = await call(server, 'POST', '/v1/payout_settings', {
      key: own.key,
      body: { schedule: 'weekly', weekly_anchor: 'friday', minimum_balances: { usd: 1_000 } },
    });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.deepEqual(changed.body.minimum_balances, { usd: 1_000 });
    assert.equal((changed.body.schedule as { weekly_anchor: string }).weekly_anchor, 'friday');
    // Form-encoded, as Stripe's SDKs send it.
    const form = await call(server, 'POST', '/v1/payout_settings', {
      key: own.key,
      rawBody: 'schedule=daily&minimum_balances[usd]=0',
      contentType: 'application/x-www-form-urlencoded',
    });
    assert.equal(form.status, 200, JSON.stringify(form.body));
    assert.deepEqual(form.body.minimum_balances, {});
    // The reserve and the delay are the operator's.
    for (const body of [{ delay_days: 3 }, { reserve_percent_bps: 100 }, { schedule: 'hourly' }]) {
      const refused = await call(server, 'POST', '/v1/payout_settings', { key: own.key, body });
      assert.equal(refused.status, 400, JSON.stringify(body));
    }
    for (const minimum of [{ US: 1 }, { usd: -1 }, { usd: 1.5 }, { xyz: 1 }]) {
      const refused = await call(server, 'POST', '/v1/payout_settings', {
        key: own.key,
        body: { minimum_balances: minimum },
      });
      assert.equal(refused.status, 400, JSON.stringify(minimum));
    }
    const operator = await call(server, 'PUT', `/v1/admin/merchants/${other.id}/payout_settings`, {
      key: testAdminKey,
      body: { delay_days: 5, reserve_percent_bps: 500, reserve_days: 90 },
    });
    assert.equal(operator.status, 200, JSON.stringify(operator.body));
    assert.deepEqual(operator.body.reserve, { percent_bps: 500, days: 90 });
    const mine = await call(server, 'GET', '/v1/payout_settings', { key: own.key });
    assert.deepEqual(mine.body.reserve, { percent_bps: 0, days: 0 }, 'isolated');
    const asMerchant = await call(
      server,
      'PUT',
      `/v1/admin/merchants/${other.id}/payout_settings`,
      {
        key: own.key,
        body: { delay_days: 1 },
      },
    );
    assert.equal(asMerchant.status, 401);
    const unknown = await call(server, 'PUT', '/v1/admin/merchants/mch_nobody000/payout_settings', {
      key: testAdminKey,
      body: { delay_days: 1 },
    });
    assert.equal(unknown.status, 404);
    const tooLong = await call(server, 'PUT', `/v1/admin/merchants/${other.id}/payout_settings`, {
      key: testAdminKey,
      body: { reserve_days: 366 },
    });
    assert.equal(tooLong.status, 400);
  });

  test('bank accounts: masked, isolated, bad input refused without echoing the number', async () => {
    const created = await call(server, 'POST', '/v1/bank_accounts', {
      key: own.key,
      body: account,
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.equal(created.body.last4, '6789');
    assert.equal(created.body.default_for_currency, true);
    assert.equal(JSON.stringify(created.body).includes(paidAccount), false);
    bankAccountId = String(created.body.id);
    const duplicate = await call(server, 'POST', '/v1/bank_accounts', {
      key: own.key,
      body: account,
    });
    assert.equal(duplicate.status, 400);
    assert.equal(duplicate.body.error?.code, 'bank_account_exists');
    assert.equal(JSON.stringify(duplicate.body).includes(paidAccount), false);
    const listed = await call(server, 'GET', '/v1/bank_accounts?currency=usd', { key: own.key });
    assert.deepEqual(
      (listed.body.data as { id: string }[]).map((row) => row.id),
      [bankAccountId],
    );
    const retrieved = await call(server, 'GET', `/v1/bank_accounts/${bankAccountId}`, {
      key: own.key,
    });
    assert.equal(retrieved.status, 200);
    for (const [method, path] of [
      ['GET', `/v1/bank_accounts/${bankAccountId}`],
      ['DELETE', `/v1/bank_accounts/${bankAccountId}`],
    ] as const) {
      const theirs = await call(server, method, path, { key: other.key });
      assert.equal(theirs.status, 404, `${method} ${path}`);
    }
    const othersList = await call(server, 'GET', '/v1/bank_accounts', { key: other.key });
    assert.deepEqual(othersList.body.data, []);
    const secret = '9876543210123';
    for (const [body, param] of [
      [{ ...account, account_number: `${secret}-` }, 'account_number'],
      [{ ...account, account_number: '12' }, 'account_number'],
      [{ ...account, currency: 'xyz', account_number: secret }, 'currency'],
      [{ ...account, currency: 'USD', account_number: secret }, 'currency'],
      [{ ...account, country: 'usa', account_number: secret }, 'country'],
      [{ ...account, account_holder_name: '', account_number: secret }, 'account_holder_name'],
      [{ ...account, account_number: secret, iban: 'x' }, 'iban'],
      [{ currency: 'usd', country: 'US', account_holder_name: 'x' }, 'account_number'],
    ] as const) {
      const refused = await call(server, 'POST', '/v1/bank_accounts', { key: own.key, body });
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.equal(refused.body.error?.param, param);
      assert.equal(JSON.stringify(refused.body).includes(secret), false);
    }
    assert.equal(
      server.logs.some((line) => line.includes(secret)),
      false,
    );
    const unauthenticated = await call(server, 'GET', '/v1/bank_accounts');
    assert.equal(unauthenticated.status, 401);
  });

  test('payouts: create (idempotent), list with filters, retrieve, cancel; isolated', async () => {
    await addAvailable(books(), own.id, 5_000n);
    const tooMuch = await call(server, 'POST', '/v1/payouts', {
      key: own.key,
      body: { currency: 'usd', amount: 5_001 },
    });
    assert.equal(tooMuch.status, 400);
    assert.equal(tooMuch.body.error?.code, 'balance_insufficient');
    const noAccount = await call(server, 'POST', '/v1/payouts', {
      key: other.key,
      body: { currency: 'usd' },
    });
    assert.equal(noAccount.status, 400);
    const first = await call(server, 'POST', '/v1/payouts', {
      key: own.key,
      body: { currency: 'usd', amount: 2_000, description: 'weekly', metadata: { run: '1' } },
      idempotencyKey: 'payout-1',
    });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.object, 'payout');
    assert.equal(first.body.amount, 2_000);
    assert.equal(first.body.status, 'pending');
    assert.equal(first.body.automatic, false);
    assert.equal(first.body.method, 'standard');
    assert.equal(first.body.destination, bankAccountId);
    assert.match(String(first.body.balance_transaction), /^txn_/);
    const replay = await call(server, 'POST', '/v1/payouts', {
      key: own.key,
      body: { currency: 'usd', amount: 2_000, description: 'weekly', metadata: { run: '1' } },
      idempotencyKey: 'payout-1',
    });
    assert.equal(replay.body.id, first.body.id);
    const rest = await call(server, 'POST', '/v1/payouts', {
      key: own.key,
      body: { currency: 'usd' },
    });
    assert.equal(rest.body.amount, 3_000);
    const canceled = await call(server, 'POST', `/v1/payouts/${String(rest.body.id)}/cancel`, {
      key: own.key,
    });
    assert.equal(canceled.status, 200);
    assert.equal(canceled.body.status, 'canceled');
    const again = await call(server, 'POST', `/v1/payouts/${String(rest.body.id)}/cancel`, {
      key: own.key,
    });
    assert.equal(again.status, 409);
    assert.equal(again.body.error?.code, 'payout_not_cancelable');

    const pending = await call(server, 'GET', '/v1/payouts?status=pending', { key: own.key });
    assert.deepEqual(
      (pending.body.data as { id: string }[]).map((row) => row.id),
      [first.body.id],
    );
    const created = Number(first.body.created);
    const since = await call(server, 'GET', `/v1/payouts?created[gte]=${created}&limit=1`, {
      key: own.key,
    });
    assert.equal(since.status, 200, JSON.stringify(since.body));
    assert.equal((since.body.data as unknown[]).length, 1);
    assert.equal(since.body.has_more, true);
    const next = await call(
      server,
      'GET',
      `/v1/payouts?limit=1&starting_after=${String((since.body.data as { id: string }[])[0]?.id)}`,
      { key: own.key },
    );
    assert.equal(next.status, 200, JSON.stringify(next.body));
    assert.equal((next.body.data as unknown[]).length, 1);
    assert.equal(next.body.has_more, false);
    const foreignCursor = await call(
      server,
      'GET',
      `/v1/payouts?starting_after=${String(first.body.id)}`,
      { key: other.key },
    );
    assert.equal(foreignCursor.status, 404);
    const none = await call(server, 'GET', `/v1/payouts?created[gt]=${created + 86_400}`, {
      key: own.key,
    });
    assert.deepEqual(none.body.data, []);
    const arriving = await call(
      server,
      'GET',
      `/v1/payouts?arrival_date[gte]=${Number(first.body.arrival_date)}`,
      { key: own.key },
    );
    assert.equal((arriving.body.data as unknown[]).length, 2);

    // The bank account a pending payout goes to cannot be removed.
    const inUse = await call(server, 'DELETE', `/v1/bank_accounts/${bankAccountId}`, {
      key: own.key,
    });
    assert.equal(inUse.status, 409);
    assert.equal(inUse.body.error?.code, 'bank_account_in_use');

    for (const [method, path] of [
      ['GET', `/v1/payouts/${String(first.body.id)}`],
      ['POST', `/v1/payouts/${String(first.body.id)}/cancel`],
    ] as const) {
      const theirs = await call(server, method, path, { key: other.key });
      assert.equal(theirs.status, 404, `${method} ${path}`);
    }
    const theirList = await call(server, 'GET', '/v1/payouts', { key: other.key });
    assert.deepEqual(theirList.body.data, []);

    for (const [body, param] of [
      [{ currency: 'usd', amount: 0 }, 'amount'],
      [{ currency: 'usd', amount: -5 }, 'amount'],
      [{ currency: 'usd', amount: 1.5 }, 'amount'],
      [{ currency: 'usd', amount: '100' }, 'amount'],
      [{ currency: 'US' }, 'currency'],
      [{ amount: 100 }, 'currency'],
      [{ currency: 'xyz', amount: 100 }, 'currency'],
      [{ currency: 'usd', destination: 'ba_x' }, 'destination'],
      [{ currency: 'usd', metadata: { ['k'.repeat(41)]: 'v' } }, 'metadata'],
    ] as const) {
      const refused = await call(server, 'POST', '/v1/payouts', { key: own.key, body });
      assert.equal(refused.status, 400, `${JSON.stringify(body)} ${JSON.stringify(refused.body)}`);
      assert.equal(refused.body.error?.param, param, JSON.stringify(body));
    }
    for (const query of ['status=done', 'created[gte]=soon', 'created[after]=1', 'limit=0']) {
      const refused = await call(server, 'GET', `/v1/payouts?${query}`, { key: own.key });
      assert.equal(refused.status, 400, query);
    }
    const cancelBody = await call(server, 'POST', `/v1/payouts/${String(first.body.id)}/cancel`, {
      key: own.key,
      body: { reason: 'x' },
    });
    assert.equal(cancelBody.status, 400);
    const missing = await call(server, 'GET', '/v1/payouts/po_missing000000', { key: own.key });
    assert.equal(missing.status, 404);

    const events = await call(server, 'GET', '/v1/events?type=payout.*&limit=10', { key: own.key });
    const types = (events.body.data as { type: string }[]).map((event) => event.type).sort();
    assert.deepEqual(types, ['payout.canceled', 'payout.created', 'payout.created']);
    assert.equal(JSON.stringify(events.body).includes(paidAccount), false);
  });
});
