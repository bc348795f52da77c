// Per-merchant prices set through the operator API, the balance read back exactly, and PSP
// credentials sealed at rest: a real Payrail server over HTTP with the real simulator process.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hashSecret, newSecret, secretHint } from '../../src/merchants/keys.ts';
import { simulatorConnectors } from '../../src/testmode/simulator.ts';
import type { Queryable } from '../../src/storage/database.ts';
import { migrate, readMigrations } from '../../src/storage/migrations.ts';
import { openPglite } from '../../src/storage/pglite.ts';
import { startSimulator, type RunningProcess } from '../support/processes.ts';
import { call, startTestServer, testAdminKey, type TestServer } from '../support/server.ts';

type Amount = { amount: number; currency: string };
type Account = {
  id: string;
  currency: string;
  balance: { posted: number; pending: number; available: number };
};

/** The amounts of a balance side, by currency (and refusing a currency listed twice). */
function byCurrency(amounts: readonly Amount[]): Record<string, number> {
  const result: Record<string, number> = {};
  for (const { currency, amount } of amounts) {
    assert.ok(!(currency in result), `${currency} listed twice`);
    result[currency] = amount;
  }
  return result;
}

async function createMerchant(
  server: TestServer,
  name: string,
): Promise<{ id: string; key: string }> {
  const created = await call(server, 'POST', '/v1/admin/merchants', {
    key: testAdminKey,
    body: { name },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return { id: String(created.body.id), key: String(created.body.secret_key) };
}

async function balanceOf(
  server: TestServer,
  key: string,
): Promise<{ pending: Record<string, number>; available: Record<string, number> }> {
  const balance = await call(server, 'GET', '/v1/balance', { key });
  assert.equal(balance.status, 200, JSON.stringify(balance.body));
  return {
    pending: byCurrency(balance.body.pending as Amount[]),
    available: byCurrency(balance.body.available as Amount[]),
  };
}

/** The merchant's own ledger accounts, as GET /v1/ledger/accounts shows them. */
async function ledgerAccounts(server: TestServer, key: string): Promise<Map<string, Account>> {
  const listed = await call(server, 'GET', '/v1/ledger/accounts?limit=100', { key });
  assert.equal(listed.status, 200, JSON.stringify(listed.body));
  assert.equal(listed.body.has_more, false);
  return new Map((listed.body.data as Account[]).map((account) => [account.id, account]));
}

describe('per-merchant prices and the exact balance, over HTTP with the simulator', () => {
  let simulator: RunningProcess;
  let server: TestServer;
  let shop: { id: string; key: string };
  let other: { id: string; key: string };

  const pay = async (merchant: { key: string }, body: Record<string, unknown>) => {
    const paid = await call(server, 'POST', '/v1/payment_intents', {
      key: merchant.key,
      body: { confirm: true, payment_method: 'pm_card_visa', connector: 'stripe', ...body },
    });
    return paid;
  };
  const putPrice = (merchantId: string, currency: string, body: unknown, key = testAdminKey) =>
    call(server, 'PUT', `/v1/admin/merchants/${merchantId}/prices/${currency}`, { key, body });
  const prices = async (merchantId: string) => {
    const listed = await call(server, 'GET', `/v1/admin/merchants/${merchantId}/prices`, {
      key: testAdminKey,
    });
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    return listed.body.data as { currency: string; percent_bps: number; fixed_amount: number }[];
  };

  before(async () => {
    simulator = await startSimulator();
    server = await startTestServer('pglite', { PAYRAIL_SIMULATOR_URL: simulator.url });
    shop = await createMerchant(server, 'Priced shop');
    other = await createMerchant(server, 'Other shop');
  });
  after(async () => {
    try {
      await server.stop();
    } finally {
      await simulator.stop();
    }
  });

  test('a new merchant has the default prices; the operator reads them', async () => {
    assert.deepEqual(await prices(shop.id), [
      {
        object: 'merchant_price',
        merchant: shop.id,
        currency: 'usd',
        percent_bps: 290,
        fixed_amount: 30,
      },
      {
        object: 'merchant_price',
        merchant: shop.id,
        currency: '*',
        percent_bps: 290,
        fixed_amount: 0,
      },
    ]);
  });

  describe('bad input is refused with the field named, and changes nothing', () => {
    const cases: {
      name: string;
      currency?: string;
      body: unknown;
      status: number;
      code: string;
      param?: string;
      message: RegExp;
    }[] = [
      {
        name: 'percent_bps above 10000',
        body: { percent_bps: 10_001, fixed_amount: 0 },
        status: 400,
        code: 'parameter_invalid',
        param: 'percent_bps',
        message: /percent_bps.*<= 10000/,
      },
      {
        name: 'negative percent_bps',
        body: { percent_bps: -1, fixed_amount: 0 },
        status: 400,
        code: 'parameter_invalid',
        param: 'percent_bps',
        message: /percent_bps.*>= 0/,
      },
      {
        name: 'fractional percent_bps',
        body: { percent_bps: 2.5, fixed_amount: 0 },
        status: 400,
        code: 'parameter_invalid',
        param: 'percent_bps',
        message: /percent_bps.*integer/,
      },
      {
        name: 'percent_bps as a JSON string',
        body: { percent_bps: '290', fixed_amount: 0 },
        status: 400,
        code: 'parameter_invalid',
        param: 'percent_bps',
        message: /percent_bps.*integer/,
      },
      {
        name: 'negative fixed_amount',
        body: { percent_bps: 100, fixed_amount: -1 },
        status: 400,
        code: 'parameter_invalid',
        param: 'fixed_amount',
        message: /fixed_amount.*>= 0/,
      },
      {
        name: 'fractional fixed_amount',
        body: { percent_bps: 100, fixed_amount: 0.5 },
        status: 400,
        code: 'parameter_invalid',
        param: 'fixed_amount',
        message: /fixed_amount.*integer/,
      },
      {
        name: 'fixed_amount above the largest amount',
        body: { percent_bps: 100, fixed_amount: 100_000_000_000 },
        status: 400,
        code: 'parameter_invalid',
        param: 'fixed_amount',
        message: /fixed_amount/,
      },
      {
        name: 'missing fixed_amount',
        body: { percent_bps: 100 },
        status: 400,
        code: 'parameter_missing',
        param: 'fixed_amount',
        message: /fixed_amount/,
      },
      {
        name: 'missing percent_bps',
        body: { fixed_amount: 1 },
        status: 400,
        code: 'parameter_missing',
        param: 'percent_bps',
        message: /percent_bps/,
      },
      {
        name: 'an unknown field',
        body: { percent_bps: 100, fixed_amount: 0, cap: 5 },
        status: 400,
        code: 'parameter_unknown',
        param: 'cap',
        message: /cap/,
      },
      {
        name: 'an unknown currency',
        currency: 'xyz',
        body: { percent_bps: 100, fixed_amount: 0 },
        status: 400,
        code: 'parameter_invalid',
        param: 'currency',
        message: /Unknown currency 'xyz'/,
      },
      {
        name: 'an upper-case currency',
        currency: 'USD',
        body: { percent_bps: 100, fixed_amount: 0 },
        status: 400,
        code: 'parameter_invalid',
        param: 'currency',
        message: /currency/,
      },
      {
        name: 'a wildcard that is not "*"',
        currency: 'us*',
        body: { percent_bps: 100, fixed_amount: 0 },
        status: 400,
        code: 'parameter_invalid',
        param: 'currency',
        message: /currency/,
      },
    ];
    for (const testCase of cases) {
      test(testCase.name, async () => {
        const refused = await putPrice(shop.id, testCase.currency ?? 'usd', testCase.body);
        assert.equal(refused.status, testCase.status, JSON.stringify(refused.body));
        assert.equal(refused.body.error?.code, testCase.code);
        assert.equal(refused.body.error?.param, testCase.param);
        assert.match(refused.body.error?.message ?? '', testCase.message);
        assert.deepEqual(
          (await prices(shop.id)).map((price) => [
            price.currency,
            price.percent_bps,
            price.fixed_amount,
          ]),
          [
            ['usd', 290, 30],
            ['*', 290, 0],
          ],
        );
      });
    }

    test('an unknown merchant is a 404 naming id, on both routes', async () => {
      const put = await putPrice('mch_doesnotexist0', 'usd', { percent_bps: 100, fixed_amount: 0 });
      assert.equal(put.status, 404);
      assert.equal(put.body.error?.code, 'resource_missing');
      assert.equal(put.body.error?.param, 'id');
      const get = await call(server, 'GET', '/v1/admin/merchants/mch_doesnotexist0/prices', {
        key: testAdminKey,
      });
      assert.equal(get.status, 404);
      assert.equal(get.body.error?.param, 'id');
    });

    test('the routes need the admin key; a merchant key is refused', async () => {
      const asMerchant = await putPrice(
        shop.id,
        'usd',
        { percent_bps: 0, fixed_amount: 0 },
        shop.key,
      );
      assert.equal(asMerchant.status, 401);
      const anonymous = await call(server, 'GET', `/v1/admin/merchants/${shop.id}/prices`);
      assert.equal(anonymous.status, 401);
      assert.deepEqual(
        (await prices(shop.id)).map((price) => [
          price.currency,
          price.percent_bps,
          price.fixed_amount,
        ]),
        [
          ['usd', 290, 30],
          ['*', 290, 0],
        ],
      );
    });
  });

  test('the OpenAPI document covers the price routes, with their limits and when a price applies', async () => {
    const openapi = await call(server, 'GET', '/openapi.json');
    assert.equal(openapi.status, 200);
    type Operation = {
      security: unknown;
      description?: string;
      parameters: { name: string; in: string; schema: { pattern?: string } }[];
      requestBody?: {
        content: Record<
          string,
          {
            schema: {
              properties: Record<string, { minimum?: number; maximum?: number }>;
              additionalProperties: boolean;
              required: string[];
            };
          }
        >;
      };
    };
    const paths = openapi.body.paths as Record<string, Record<string, Operation>>;
    const get = paths['/v1/admin/merchants/{id}/prices']?.get;
    const put = paths['/v1/admin/merchants/{id}/prices/{currency}']?.put;
    assert.ok(get !== undefined && put !== undefined, 'both price routes are documented');
    assert.deepEqual(put.security, [{ adminKey: [] }]);
    assert.match(
      put.description ?? '',
      /computed from the price in force when its capture is recorded/,
    );
    assert.equal(
      put.parameters.find((parameter) => parameter.name === 'currency')?.schema.pattern,
      '^([a-z]{3}|\\*)$',
    );
    const body = put.requestBody?.content['application/json']?.schema;
    assert.deepEqual(body?.required.sort(), ['fixed_amount', 'percent_bps']);
    assert.equal(body?.additionalProperties, false);
    assert.deepEqual(
      [body?.properties.percent_bps?.minimum, body?.properties.percent_bps?.maximum],
      [0, 10_000],
    );
    assert.equal(body?.properties.fixed_amount?.minimum, 0);
  });

  test("payments in two currencies pay the merchant's own price; the balance equals the ledger and the hand computation", async () => {
    // The shop's price: usd 1.5 % + 0.25, every other currency 3.1 % (so eur uses '*').
    const usdPrice = await putPrice(shop.id, 'usd', { percent_bps: 150, fixed_amount: 25 });
    assert.equal(usdPrice.status, 200, JSON.stringify(usdPrice.body));
    assert.deepEqual(usdPrice.body, {
      object: 'merchant_price',
      merchant: shop.id,
      currency: 'usd',
      percent_bps: 150,
      fixed_amount: 25,
    });
    assert.equal((await putPrice(shop.id, '*', { percent_bps: 310, fixed_amount: 0 })).status, 200);
    assert.deepEqual(
      (await prices(shop.id)).map((price) => [
        price.currency,
        price.percent_bps,
        price.fixed_amount,
      ]),
      [
        ['usd', 150, 25],
        ['*', 310, 0],
      ],
    );

    // The other merchant still pays the default price (2.9 % + 0.30): 10,000 − 320.
    const otherPaid = await pay(other, { amount: 10_000, currency: 'usd' });
    assert.equal(otherPaid.body.status, 'succeeded', JSON.stringify(otherPaid.body));
    const otherBefore = await balanceOf(server, other.key);
    assert.deepEqual(otherBefore, { pending: { usd: 9_680 }, available: { usd: 0 } });

    // 1. usd, automatic capture of 100.00 at the new price: fee 150 + 25 = 175.
    const automatic = await pay(shop, { amount: 10_000, currency: 'usd' });
    assert.equal(automatic.body.status, 'succeeded', JSON.stringify(automatic.body));
    // 2. usd, manual capture: authorized for 50.00, then the price changes, then 33.33 is captured.
    const manual = await pay(shop, { amount: 5_000, currency: 'usd', capture_method: 'manual' });
    assert.equal(manual.body.status, 'requires_capture', JSON.stringify(manual.body));
    assert.equal(
      (await putPrice(shop.id, 'usd', { percent_bps: 200, fixed_amount: 10 })).status,
      200,
    );
    const captured = await call(server, 'POST', `/v1/payment_intents/${manual.body.id}/capture`, {
      key: shop.key,
      body: { amount_to_capture: 3_333 },
    });
    assert.equal(captured.status, 200, JSON.stringify(captured.body));
    assert.equal(captured.body.amount_received, 3_333);
    // 3. usd, authorized and never captured: a hold, not a balance.
    const held = await pay(shop, { amount: 4_000, currency: 'usd', capture_method: 'manual' });
    assert.equal(held.body.status, 'requires_capture');
    // 4. usd, declined: nothing moves.
    const declined = await pay(shop, {
      amount: 700,
      currency: 'usd',
      payment_method: 'pm_card_chargeDeclinedInsufficientFunds',
    });
    assert.equal(declined.status, 402);
    // 5. A partial refund of the automatic payment: the fee is not returned.
    const refund = await call(server, 'POST', '/v1/refunds', {
      key: shop.key,
      body: { payment_intent: automatic.body.id, amount: 2_000 },
    });
    assert.equal(refund.body.status, 'succeeded', JSON.stringify(refund.body));
    // 6. eur, automatic capture of 77.77 at the '*' price, 3.1 %: 241.087 → 241; then 7.77 refunded.
    const euro = await pay(shop, { amount: 7_777, currency: 'eur' });
    assert.equal(euro.body.status, 'succeeded', JSON.stringify(euro.body));
    const euroRefund = await call(server, 'POST', '/v1/refunds', {
      key: shop.key,
      body: { payment_intent: euro.body.id, amount: 777 },
    });
    assert.equal(euroRefund.body.status, 'succeeded', JSON.stringify(euroRefund.body));

    // By hand. usd: (10,000 − 175) + (3,333 − (round(66.66) + 10 = 77)) − 2,000 = 11,081. eur: (7,777 − 241) − 777 = 6,759.
    const expected = { pending: { usd: 11_081, eur: 6_759 }, available: { usd: 0, eur: 0 } };
    const balance = await balanceOf(server, shop.key);
    assert.deepEqual(balance, expected);

    // The same numbers as the ledger's accounts, which are the only ones this merchant owns.
    const accounts = await ledgerAccounts(server, shop.key);
    assert.deepEqual(
      [...accounts.keys()].sort(),
      ['eur', 'usd']
        .flatMap((currency) => [
          `merchant:${shop.id}:available:${currency}`,
          `merchant:${shop.id}:pending:${currency}`,
        ])
        .sort(),
    );
    for (const currency of ['usd', 'eur'] as const) {
      const pendingAccount = accounts.get(`merchant:${shop.id}:pending:${currency}`);
      const availableAccount = accounts.get(`merchant:${shop.id}:available:${currency}`);
      assert.equal(pendingAccount?.balance.posted, balance.pending[currency]);
      assert.equal(availableAccount?.balance.posted, balance.available[currency]);
    }
    // The uncaptured authorization is a hold on the pending layer of the ledger, not in the balance.
    assert.equal(accounts.get(`merchant:${shop.id}:pending:usd`)?.balance.pending, 4_000);

    // The platform earned exactly the fees: 175 + 77 at the shop's two usd prices, 320 from the other merchant; 241 in eur.
    const platform = await call(
      server,
      'GET',
      '/v1/admin/ledger/accounts?owner=platform&limit=100',
      { key: testAdminKey },
    );
    const platformAccounts = new Map(
      (platform.body.data as Account[]).map((account) => [account.id, account]),
    );
    assert.equal(platformAccounts.get('platform:fees:usd')?.balance.posted, 175 + 77 + 320);
    assert.equal(platformAccounts.get('platform:fees:eur')?.balance.posted, 241);

    // Nothing here moves money from pending to available (settlement is not built yet), so available stays 0.
    // The other merchant's balance did not move.
    assert.deepEqual(await balanceOf(server, other.key), otherBefore);
    const verify = await call(server, 'POST', '/v1/admin/ledger/verify', { key: testAdminKey });
    assert.equal(verify.body.ok, true, JSON.stringify(verify.body.problems));
  });
});

for (const kind of ['pglite', 'postgres'] as const)
  describe(`PSP credentials sealed at rest, over HTTP (${kind})`, () => {
    let simulator: RunningProcess;
    let server: TestServer;

    const liveLike = {
      api_key: 'rzp_live_Kp2Qy7Zc',
      api_secret: 'rzp_secret_Ma8Tn1Lw',
      merchant_account: 'acct_Vb3Rk9',
      webhook_secret: 'whsec_Pd4Xs6Hj',
    };
    const simulatorSecrets = simulatorConnectors('http://unused')
      .flatMap(({ credentials }) => [
        credentials.apiKey,
        credentials.apiSecret,
        credentials.webhookSecret,
      ])
      .filter((value) => value !== undefined);

    /** Every row of every table, as text, that contains `needle`. */
    async function rowsContaining(database: Queryable, needle: string): Promise<string[]> {
      const tables = await database.query<{ name: string }>(
        "SELECT quote_ident(table_name) AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
      );
      assert.ok(tables.rows.length > 10);
      const found: string[] = [];
      for (const table of tables.rows) {
        const rows = await database.query<{ row_text: string }>(
          `SELECT t::text AS row_text FROM ${table.name} t WHERE strpos(t::text, $1) > 0`,
          [needle],
        );
        found.push(...rows.rows.map((row) => `${table.name}: ${row.row_text}`));
      }
      return found;
    }

    before(async () => {
      simulator = await startSimulator();
      server = await startTestServer(kind, { PAYRAIL_SIMULATOR_URL: simulator.url });
    });
    after(async () => {
      try {
        await server.stop();
      } finally {
        await simulator.stop();
      }
    });

    test('no credential is in plaintext in any column after a connector is set through the admin API; the GET shows a hint only', async () => {
      const merchant = await createMerchant(server, 'Sealed shop');
      const put = await call(
        server,
        'PUT',
        `/v1/admin/merchants/${merchant.id}/connectors/razorpay`,
        {
          key: testAdminKey,
          body: {
            enabled: true,
            priority: 5,
            base_url: 'https://api.razorpay.example',
            ...liveLike,
          },
        },
      );
      assert.equal(put.status, 200, JSON.stringify(put.body));
      for (const secret of [...Object.values(liveLike), ...simulatorSecrets]) {
        assert.deepEqual(
          await rowsContaining(server.context.database, secret),
          [],
          `${secret} stored in plaintext`,
        );
      }
      const listed = await call(server, 'GET', `/v1/admin/merchants/${merchant.id}/connectors`, {
        key: testAdminKey,
      });
      assert.equal(listed.status, 200);
      const razorpay = (listed.body.data as Record<string, unknown>[]).find(
        (setting) => setting.connector === 'razorpay',
      );
      assert.deepEqual(razorpay, {
        object: 'merchant_connector',
        connector: 'razorpay',
        enabled: true,
        priority: 5,
        base_url: 'https://api.razorpay.example',
        api_key_hint: '…y7Zc',
      });
      for (const secret of Object.values(liveLike))
        assert.ok(!JSON.stringify(listed.body).includes(secret), `${secret} shown`);
      for (const secret of Object.values(liveLike))
        assert.ok(!server.logs.join('').includes(secret), `${secret} logged`);
      // The sealed credentials open where they are used: a payment through the simulator's stripe.
      const paid = await call(server, 'POST', '/v1/payment_intents', {
        key: merchant.key,
        body: {
          amount: 1_000,
          currency: 'usd',
          confirm: true,
          payment_method: 'pm_card_visa',
          connector: 'stripe',
        },
      });
      assert.equal(paid.body.status, 'succeeded', JSON.stringify(paid.body));
    });

    test('a row still in plaintext (written by an older version) is sealed by its first read, and works', async () => {
      const merchant = await createMerchant(server, 'Upgraded shop');
      const stripe = simulatorConnectors(simulator.url).find(
        (setting) => setting.connector === 'stripe',
      );
      assert.ok(stripe !== undefined);
      const { baseUrl: _baseUrl, ...secrets } = stripe.credentials;
      await server.context.database.query(
        "UPDATE merchant_connectors SET credentials = $2::jsonb, credentials_sealed = NULL WHERE merchant_id = $1 AND connector = 'stripe'",
        [merchant.id, JSON.stringify(secrets)],
      );
      assert.equal((await rowsContaining(server.context.database, 'sk_test_sim')).length, 1);
      const paid = await call(server, 'POST', '/v1/payment_intents', {
        key: merchant.key,
        body: {
          amount: 1_500,
          currency: 'usd',
          confirm: true,
          payment_method: 'pm_card_visa',
          connector: 'stripe',
        },
      });
      assert.equal(paid.body.status, 'succeeded', JSON.stringify(paid.body));
      assert.deepEqual(await rowsContaining(server.context.database, 'sk_test_sim'), []);
      const row = await server.context.database.query<{
        credentials: unknown;
        credentials_sealed: string | null;
      }>(
        "SELECT credentials, credentials_sealed FROM merchant_connectors WHERE merchant_id = $1 AND connector = 'stripe'",
        [merchant.id],
      );
      assert.equal(row.rows[0]?.credentials, null);
      assert.match(row.rows[0]?.credentials_sealed ?? '', /^v1\./);
    });
  });

describe('a data directory written before credentials were sealed (migration 016)', () => {
  let simulator: RunningProcess;
  let directory: string;

  before(async () => {
    simulator = await startSimulator();
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'payrail-legacy-'));
  });
  after(async () => {
    await simulator.stop();
    fs.rmSync(directory, { recursive: true, force: true });
  });

  test('the server seals the plaintext rows at start-up, and the merchant keeps paying', async () => {
    // What `npm start` left in ./.payrail before this change: migrations up to 015, plaintext credentials.
    const old = await openPglite(directory);
    let merchant: { id: string; key: string };
    try {
      await migrate(
        old,
        readMigrations().filter((migration) => migration.name < '016'),
      );
      // Rows as the code of that time wrote them (a merchant and its sk_test_ key, no mode).
      const created = await old.transaction(async (tx) => {
        const merchantId = 'mch_OldShop0001';
        const secretKey = newSecret('sk_test_');
        await tx.query("INSERT INTO merchants (id, name) VALUES ($1, 'Old shop')", [merchantId]);
        await tx.query(
          'INSERT INTO api_keys (id, merchant_id, key_hash, key_hint) VALUES ($1, $2, $3, $4)',
          ['key_OldShop0001', merchantId, hashSecret(secretKey), secretHint(secretKey)],
        );
        for (const setting of simulatorConnectors(simulator.url)) {
          const { baseUrl, ...secrets } = setting.credentials;
          await tx.query(
            'INSERT INTO merchant_connectors (merchant_id, connector, enabled, priority, base_url, credentials) VALUES ($1, $2, $3, $4, $5, $6::jsonb)',
            [
              merchantId,
              setting.connector,
              setting.enabled,
              setting.priority,
              baseUrl,
              JSON.stringify(secrets),
            ],
          );
        }
        await tx.query(
          "INSERT INTO merchant_prices (merchant_id, currency, percent_bps, fixed_amount) VALUES ($1, '*', 100, 0)",
          [merchantId],
        );
        return { id: merchantId, key: secretKey };
      });
      merchant = created;
    } finally {
      await old.close();
    }

    const server = await startTestServer('pglite', {
      PAYRAIL_DATA_DIR: directory,
      PAYRAIL_SIMULATOR_URL: simulator.url,
    });
    try {
      assert.ok(
        server.logs.some(
          (line) =>
            line.includes('sealed connector credentials stored in plaintext') &&
            line.includes(`"sealed":${simulatorConnectors(simulator.url).length}`),
        ),
        'the start-up sweep logged its work',
      );
      const rows = await server.context.database.query<{
        credentials: unknown;
        credentials_sealed: string | null;
      }>('SELECT credentials, credentials_sealed FROM merchant_connectors WHERE merchant_id = $1', [
        merchant.id,
      ]);
      assert.equal(rows.rows.length, simulatorConnectors(simulator.url).length);
      assert.ok(
        rows.rows.every((row) => row.credentials === null && row.credentials_sealed !== null),
      );
      const paid = await call(server, 'POST', '/v1/payment_intents', {
        key: merchant.key,
        body: {
          amount: 2_000,
          currency: 'usd',
          confirm: true,
          payment_method: 'pm_card_visa',
          connector: 'stripe',
        },
      });
      assert.equal(paid.body.status, 'succeeded', JSON.stringify(paid.body));
      // Its own price, kept across the upgrade: 1 % of 2,000.
      assert.deepEqual(await balanceOf(server, merchant.key), {
        pending: { usd: 1_980 },
        available: { usd: 0 },
      });
      const listed = await call(server, 'GET', `/v1/admin/merchants/${merchant.id}/connectors`, {
        key: testAdminKey,
      });
      const hints = (listed.body.data as { api_key_hint: string }[]).map(
        (setting) => setting.api_key_hint,
      );
      assert.deepEqual(hints.slice(0, 3), ['…_sim', '…_sim', '…0001']);
      assert.equal(hints.length, simulatorConnectors(simulator.url).length);
      // A merchant from before modes is a test merchant, as its key always said.
      const upgraded = await call(server, 'GET', `/v1/admin/merchants/${merchant.id}`, {
        key: testAdminKey,
      });
      assert.equal(upgraded.body.livemode, false);
      assert.equal(paid.body.livemode, false);
    } finally {
      await server.stop();
    }
  });
});
