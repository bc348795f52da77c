// Balance transactions and the balance over HTTP, and through Stripe's own Node SDK: a real
// Payrail server; the items are written as settlement writes them (tests/support), made available
// by the availability step, and one payout of the payouts module pays them out.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Stripe from 'stripe';
import { seedItems } from '../support/balance-fixtures.ts';
import { advanceClock } from '../support/clock.ts';
import { createMerchantKey, type Merchant } from '../support/merchants.ts';
import { call, startTestServer, type TestServer } from '../support/server.ts';

type Json = Record<string, unknown>;
const hourMs = 3_600_000;
const dayMs = 24 * hourMs;
const seconds = (date: Date): number => Math.floor(date.getTime() / 1000);

describe('balance transactions over HTTP and through the Stripe SDK', () => {
  let server: TestServer;
  let shop: Merchant;
  let other: Merchant;
  let stripe: Stripe;
  const ids: Record<string, string> = {};
  // Whole seconds, ten days back: the items' creation times.
  const t0 = new Date(Math.floor((Date.now() - 10 * dayMs) / 1000) * 1000);
  let payout = '';

  const list = async (query: string, merchant: Merchant = shop): Promise<Json> => {
    const answer = await call(server, 'GET', `/v1/balance_transactions?${query}`, {
      key: merchant.key,
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body as Json;
  };
  const listed = async (query: string): Promise<string[]> =>
    ((await list(query)).data as Json[]).map((item) => String(item.id));

  before(async () => {
    server = await startTestServer('pglite');
    shop = await createMerchantKey(server, 'Balance shop');
    other = await createMerchantKey(server, 'Other shop');
    const { database, ledger } = server.context;
    const twoDaysOn = new Date(t0.getTime() + 2 * dayMs);
    const [c1, c2, r1, c3] = await seedItems(database, ledger, [
      {
        merchantId: shop.id,
        type: 'charge',
        amount: 10_000n,
        fee: 320n,
        createdAt: t0,
        availableOn: twoDaysOn,
      },
      {
        merchantId: shop.id,
        type: 'charge',
        amount: 5_000n,
        fee: 175n,
        createdAt: new Date(t0.getTime() + hourMs),
        availableOn: twoDaysOn,
      },
      {
        merchantId: shop.id,
        type: 'refund',
        amount: 1_000n,
        createdAt: new Date(t0.getTime() + 2 * hourMs),
        availableOn: twoDaysOn,
      },
      {
        merchantId: shop.id,
        type: 'charge',
        amount: 7_000n,
        fee: 233n,
        createdAt: new Date(t0.getTime() + 3 * dayMs),
        availableOn: new Date(Date.now() + 2 * dayMs),
      },
    ]);
    Object.assign(ids, { c1: c1?.id, c2: c2?.id, r1: r1?.id, c3: c3?.id });
    const runtime = server.runtime;
    const available = await runtime.balances.availability.makeDue(runtime.clock.reading());
    assert.equal(available.items, 3);

    // A payout of everything available, made by the payouts module: it takes the clearing group
    // of the three available items.
    const amount = 9_680n + 4_825n - 1_000n;
    await runtime.payouts.createBankAccount(shop.id, {
      currency: 'usd',
      country: 'US',
      accountHolderName: 'Balance shop',
      routingNumber: '110000000',
      accountNumber: '000123456789',
    });
    const made = await runtime.payouts.create(shop.id, { currency: 'usd' });
    assert.equal(made.amount, amount);
    payout = made.id;
    ids.payout = made.balanceTransactionId as string;

    const url = new URL(server.url);
    stripe = new Stripe(shop.key, {
      host: url.hostname,
      port: Number(url.port),
      protocol: 'http',
      maxNetworkRetries: 0,
      telemetry: false,
    });
  });
  after(() => server.stop());

  test('the balance: what was paid out is gone, the rest pending, nothing reserved', async () => {
    const balance = await call(server, 'GET', '/v1/balance', { key: shop.key });
    assert.equal(balance.status, 200);
    assert.deepEqual(balance.body, {
      object: 'balance',
      available: [{ amount: 0, currency: 'usd' }],
      pending: [{ amount: 7_000 - 233, currency: 'usd' }],
      reserved: [{ amount: 0, currency: 'usd' }],
      livemode: false,
    });
  });

  test("an item in Stripe's shape, its status from availability", async () => {
    const answer = await call(server, 'GET', `/v1/balance_transactions/${ids.c1}`, {
      key: shop.key,
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const { source, ...rest } = answer.body as Json;
    assert.match(String(source), /^pi_/);
    assert.deepEqual(rest, {
      id: ids.c1,
      object: 'balance_transaction',
      amount: 10_000,
      fee: 320,
      fee_details: [
        {
          amount: 320,
          currency: 'usd',
          type: 'payrail_fee',
          description: 'Payrail processing fees',
        },
      ],
      net: 9_680,
      currency: 'usd',
      status: 'available',
      available_on: seconds(t0) + 2 * 86_400,
      created: seconds(t0),
      reporting_category: 'charge',
      type: 'charge',
      description: null,
      exchange_rate: null,
    });
    const pending = await call(server, 'GET', `/v1/balance_transactions/${ids.c3}`, {
      key: shop.key,
    });
    assert.equal(pending.body.status, 'pending');
    const refund = await call(server, 'GET', `/v1/balance_transactions/${ids.r1}`, {
      key: shop.key,
    });
    assert.deepEqual(
      [refund.body.amount, refund.body.fee, refund.body.net, refund.body.fee_details],
      [-1_000, 0, -1_000, []],
    );
    const paidOut = await call(server, 'GET', `/v1/balance_transactions/${ids.payout}`, {
      key: shop.key,
    });
    assert.deepEqual(
      [paidOut.body.type, paidOut.body.reporting_category, paidOut.body.net, paidOut.body.status],
      ['payout', 'payout', -13_505, 'available'],
    );
  });

  test('filters: type, source, payout, created and available_on ranges', async () => {
    assert.deepEqual(await listed('limit=100'), [ids.payout, ids.c3, ids.r1, ids.c2, ids.c1]);
    assert.deepEqual(await listed('type=charge'), [ids.c3, ids.c2, ids.c1]);
    assert.deepEqual(await listed('type=refund'), [ids.r1]);
    assert.deepEqual(await listed('type=reserve_hold'), []);
    const source = (await list(`limit=1&type=refund`)).data as Json[];
    assert.deepEqual(await listed(`source=${String(source[0]?.source)}`), [ids.r1]);
    assert.deepEqual(await listed(`payout=${payout}`), [ids.payout, ids.r1, ids.c2, ids.c1]);
    assert.deepEqual(await listed('payout=po_missing000000'), []);
    const at = (ms: number) => seconds(new Date(t0.getTime() + ms));
    assert.deepEqual(await listed(`created[gte]=${at(hourMs)}&created[lt]=${at(3 * dayMs)}`), [
      ids.r1,
      ids.c2,
    ]);
    assert.deepEqual(await listed(`created[gt]=${at(hourMs)}&created[lte]=${at(3 * dayMs)}`), [
      ids.c3,
      ids.r1,
    ]);
    assert.deepEqual(await listed(`created=${at(0)}`), [ids.c1]);
    // Brackets as Stripe's SDKs send them, percent-encoded.
    assert.deepEqual(await listed(`created%5Blte%5D=${at(0)}`), [ids.c1]);
    assert.deepEqual(await listed(`available_on[gt]=${seconds(new Date(Date.now() + dayMs))}`), [
      ids.c3,
    ]);
    assert.deepEqual(await listed(`available_on=${at(2 * dayMs)}&type=refund`), [ids.r1]);
  });

  test('pages newest first with cursors, filters kept', async () => {
    const first = await list('limit=2&type=charge');
    assert.equal(first.has_more, true);
    assert.equal(first.url, '/v1/balance_transactions');
    const second = await list(`limit=2&type=charge&starting_after=${ids.c2}`);
    assert.deepEqual(
      (second.data as Json[]).map((item) => item.id),
      [ids.c1],
    );
    assert.equal(second.has_more, false);
    const back = await list(`limit=2&type=charge&ending_before=${ids.c1}`);
    assert.deepEqual(
      (back.data as Json[]).map((item) => item.id),
      [ids.c3, ids.c2],
    );
  });

  test('another merchant sees none of them', async () => {
    assert.deepEqual((await list('limit=100', other)).data, []);
    assert.deepEqual((await list(`payout=${payout}`, other)).data, []);
    const answer = await call(server, 'GET', `/v1/balance_transactions/${ids.c1}`, {
      key: other.key,
    });
    assert.equal(answer.status, 404);
  });

  test('?payout= lists exactly the items of the clearing groups it took, a group taken in part under each payout', async () => {
    const parts = await createMerchantKey(server, 'Parts shop');
    const { database, ledger } = server.context;
    const runtime = server.runtime;
    const on = (days: number) => new Date(t0.getTime() + days * dayMs);
    // Three batches, each one clearing group of the merchant (oldest day first), and one item
    // still pending.
    const groupA = await seedItems(database, ledger, [
      { merchantId: parts.id, type: 'charge', amount: 1_000n, availableOn: on(3) },
      { merchantId: parts.id, type: 'charge', amount: 2_000n, availableOn: on(3) },
    ]);
    const groupB = await seedItems(database, ledger, [
      { merchantId: parts.id, type: 'charge', amount: 4_000n, availableOn: on(4) },
      { merchantId: parts.id, type: 'refund', amount: 500n, availableOn: on(4) },
    ]);
    const groupC = await seedItems(database, ledger, [
      { merchantId: parts.id, type: 'charge', amount: 1_500n, availableOn: on(5) },
    ]);
    await seedItems(database, ledger, [
      { merchantId: parts.id, type: 'charge', amount: 700n, availableOn: on(20) },
    ]);
    const made = await runtime.balances.availability.makeDue(runtime.clock.reading());
    assert.deepEqual([made.clearingGroups, made.items], [3, 5]);
    await runtime.payouts.createBankAccount(parts.id, {
      currency: 'usd',
      country: 'US',
      accountHolderName: 'Parts shop',
      routingNumber: '110000000',
      accountNumber: '000123456789',
    });
    // 5,000 of 8,000: all of A (3,000) and 2,000 of B; then the rest: B's 1,500 and C.
    const first = await runtime.payouts.create(parts.id, { currency: 'usd', amount: 5_000n });
    const rest = await runtime.payouts.create(parts.id, { currency: 'usd' });
    assert.equal(rest.amount, 3_000n);
    const contents = async (payoutId: string) =>
      ((await list(`payout=${payoutId}&limit=100`, parts)).data as Json[])
        .map((item) => String(item.id))
        .sort();
    const idsOf = (...rows: { id: string }[][]) => rows.flat().map((row) => row.id);
    assert.deepEqual(
      await contents(first.id),
      [...idsOf(groupA, groupB), first.balanceTransactionId].sort(),
    );
    assert.deepEqual(
      await contents(rest.id),
      [...idsOf(groupB, groupC), rest.balanceTransactionId].sort(),
    );
    const taken = await database.query<{ payout_id: string; amount: bigint }>(
      `SELECT payout_id, amount FROM payout_group_allocations WHERE merchant_id = $1
        ORDER BY payout_id, available_on`,
      [parts.id],
    );
    assert.deepEqual(
      taken.rows.map((row) => [row.payout_id, BigInt(row.amount)]),
      [
        [first.id, 3_000n],
        [first.id, 2_000n],
        [rest.id, 1_500n],
        [rest.id, 1_500n],
      ],
    );
  });

  test("a merchant's test clock makes its items available, another merchant's stay pending", async () => {
    const later = await createMerchantKey(server, 'Clocked shop');
    const inThreeDays = new Date(Date.now() + 3 * dayMs);
    const [item] = await seedItems(server.context.database, server.context.ledger, [
      { merchantId: later.id, type: 'charge', amount: 2_000n, fee: 88n, availableOn: inThreeDays },
      { merchantId: other.id, type: 'charge', amount: 2_000n, fee: 88n, availableOn: inThreeDays },
    ]);
    const runtime = server.runtime;
    const makeDue = () => runtime.balances.availability.makeDue(runtime.clock.reading());
    assert.equal((await makeDue()).items, 0);
    await advanceClock(server, 4 * 86_400, { merchant: later.id });
    assert.equal((await makeDue()).items, 1);
    const balance = async (merchant: Merchant) =>
      (await call(server, 'GET', '/v1/balance', { key: merchant.key })).body;
    assert.deepEqual((await balance(later)).available, [{ amount: 1_912, currency: 'usd' }]);
    assert.deepEqual((await balance(other)).pending, [{ amount: 1_912, currency: 'usd' }]);
    const shownItem = await call(server, 'GET', `/v1/balance_transactions/${String(item?.id)}`, {
      key: later.key,
    });
    assert.equal(shownItem.body.status, 'available');
  });

  test("Stripe's SDK lists, filters, pages and retrieves them", async () => {
    const charges = await stripe.balanceTransactions.list({ type: 'charge', limit: 2 });
    assert.deepEqual(
      charges.data.map((item) => item.id),
      [ids.c3, ids.c2],
    );
    assert.equal(charges.has_more, true);
    const everything = await stripe.balanceTransactions.list({ limit: 2 }).autoPagingToArray({
      limit: 100,
    });
    assert.deepEqual(
      everything.map((item) => item.id),
      [ids.payout, ids.c3, ids.r1, ids.c2, ids.c1],
    );
    const ranged = await stripe.balanceTransactions.list({
      created: { gte: seconds(t0), lt: seconds(t0) + 3 * 3_600 },
    });
    assert.deepEqual(
      ranged.data.map((item) => item.id),
      [ids.r1, ids.c2, ids.c1],
    );
    const ofPayout = await stripe.balanceTransactions.list({ payout });
    assert.equal(
      ofPayout.data.reduce((sum, item) => sum + item.net, 0),
      0,
      'a payout nets its items to zero',
    );
    const item = await stripe.balanceTransactions.retrieve(ids.c1 as string);
    assert.equal(item.net, 9_680);
    assert.equal(item.fee_details[0]?.amount, 320);
    assert.equal(item.status, 'available');
    const balance = await stripe.balance.retrieve();
    assert.deepEqual(
      balance.pending.map((entry) => [entry.currency, entry.amount]),
      [['usd', 6_767]],
    );
    await assert.rejects(stripe.balanceTransactions.retrieve('txn_missing0000000'), {
      statusCode: 404,
    });
  });
});
