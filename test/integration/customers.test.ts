// Customers, saved cards and SetupIntents over raw HTTP: erasure (no readable card or personal
// data left anywhere, the ledger still verifies), bad input on every new route (a 400 naming the
// parameter, nothing written), merchant isolation on every new route (another merchant's ids are
// 404 resource_missing), and, on real PostgreSQL, one card attached to two customers at once and
// an erasure racing a payment for its customer.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import Fastify from 'fastify';
import { registerCustomerRoutes } from '../../src/http/routes/customers.ts';
import { registerSetupIntentRoutes } from '../../src/http/routes/setup-intents.ts';
import { cardAad, deriveMasterKeys, open } from '../../src/vault/crypto.ts';
import { customerKeyById } from '../../src/vault/customer-keys.ts';
import { asBuffer } from '../../src/vault/data-keys.ts';
import { VaultError } from '../../src/vault/index.ts';
import { call, type Call, type TestServer } from '../support/server.ts';
import { startSimulatedStack, type SimulatedStack } from '../support/simulator.ts';

const masterKey = crypto.randomBytes(32);
const env = { PAYRAIL_VAULT_MASTER_KEY: masterKey.toString('base64') };

/** The routes of customers, saved cards and SetupIntents (Fastify's HEAD twins left out). */
function newRoutes(server: TestServer): string[] {
  const app = Fastify();
  const routes: string[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat())
      if (method !== 'HEAD') routes.push(`${method} ${route.url}`);
  });
  registerCustomerRoutes(app, server.context);
  registerSetupIntentRoutes(app, server.context);
  return routes;
}

function ok(answer: Call): Record<string, unknown> {
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body;
}

/** Every row of the tables these routes write, as text: equal before and after = nothing written. */
async function written(server: TestServer): Promise<string> {
  const tables = [
    'customers',
    'payment_methods',
    'setup_intents',
    'vault_customer_keys',
    'payment_intents',
    'events',
  ];
  const parts: string[] = [];
  for (const table of tables) {
    const result = await server.context.database.query<{ rows: string | null }>(
      `SELECT string_agg(t::text, '\n' ORDER BY t::text) AS rows FROM ${table} t`,
    );
    parts.push(`${table}: ${result.rows[0]?.rows ?? ''}`);
  }
  return parts.join('\n');
}

describe('customers over HTTP', () => {
  let stack: SimulatedStack;
  let server: TestServer;
  let key: string;
  let merchantId: string;
  let otherKey: string;

  before(async () => {
    stack = await startSimulatedStack({ env });
    server = stack.server;
    ({ key, id: merchantId } = await stack.merchant('Shop'));
    otherKey = (await stack.merchant('Other')).key;
  });
  after(() => stack.stop());

  test('erasure leaves no readable card or personal data, and the ledger verifies', async () => {
    const personal = {
      email: 'erase.me@example.org',
      name: 'Erasable Person',
      phone: '+33 1 23 45 67 89',
      address: { line1: '1 Rue Erasure', city: 'Lyonville', postal_code: '69999' },
      metadata: { crm_note: 'likes-erasure-tests' },
      description: 'a customer who asks to be forgotten',
    };
    server.forbidInLogs('5555555555554444', '4000056655665556', '378282246310005');
    const customer = ok(await call(server, 'POST', '/v1/customers', { key, body: personal }));
    const id = String(customer.id);
    // One card saved by a payment (setup_future_usage), one attached with billing details.
    const first = ok(
      await call(server, 'POST', '/v1/payment_methods', {
        key,
        body: {
          type: 'card',
          card: { number: '5555555555554444', exp_month: 11, exp_year: 2032, cvc: '123' },
          billing_details: { name: 'Erasable Holder', email: 'holder.erase@example.org' },
        },
      }),
    );
    const paid = ok(
      await call(server, 'POST', '/v1/payment_intents', {
        key,
        body: {
          amount: 4_200,
          currency: 'usd',
          customer: id,
          payment_method: first.id,
          setup_future_usage: 'off_session',
          confirm: true,
          description: 'order 77',
          receipt_email: 'receipt.erase@example.org',
        },
      }),
    );
    assert.equal(paid.status, 'succeeded');
    ok(
      await call(server, 'POST', '/v1/refunds', {
        key,
        body: { payment_intent: paid.id, amount: 1_000 },
      }),
    );
    const second = ok(
      await call(server, 'POST', '/v1/payment_methods', {
        key,
        body: {
          type: 'card',
          card: { number: '4000056655665556', exp_month: 10, exp_year: 2033 },
          billing_details: { phone: '+33 9 99 99 99 99', address: { line1: '2 Rue Erasure' } },
        },
      }),
    );
    ok(
      await call(server, 'POST', `/v1/payment_methods/${String(second.id)}/attach`, {
        key,
        body: { customer: id },
      }),
    );
    ok(
      await call(server, 'POST', `/v1/customers/${id}`, {
        key,
        body: { invoice_settings: { default_payment_method: second.id } },
      }),
    );
    // A card the customer paid with without saving it is the customer's card data too; its
    // stored answer (an idempotency key) shows the holder's name and no customer id.
    const unsaved = ok(
      await call(server, 'POST', '/v1/payment_methods', {
        key,
        idempotencyKey: 'erase-unsaved-card',
        body: {
          type: 'card',
          card: { number: '378282246310005', exp_month: 9, exp_year: 2034 },
          billing_details: { name: 'Unsaved Erasable' },
        },
      }),
    );
    const paidUnsaved = ok(
      await call(server, 'POST', '/v1/payment_intents', {
        key,
        body: {
          amount: 1_500,
          currency: 'usd',
          customer: id,
          payment_method: unsaved.id,
          confirm: true,
        },
      }),
    );
    assert.equal(paidUnsaved.status, 'succeeded');
    // Stored answers that show the customer under another object: a payment with a receipt email
    // and the customer and its card expanded.
    const expandedRequest = {
      key,
      idempotencyKey: 'erase-expanded-payment',
      body: {
        amount: 700,
        currency: 'usd',
        customer: id,
        payment_method: second.id,
        confirm: true,
        receipt_email: 'stored.receipt.erase@example.org',
        expand: ['customer', 'payment_method'],
      },
    };
    const expanded = ok(await call(server, 'POST', '/v1/payment_intents', expandedRequest));
    assert.equal((expanded.customer as { email: string }).email, personal.email);
    // A decline's stored 402 shows the card's billing details.
    const declinedCard = ok(
      await call(server, 'POST', '/v1/payment_methods', {
        key,
        body: {
          type: 'card',
          card: { number: '4000000000000002', exp_month: 8, exp_year: 2033 },
          billing_details: { name: 'Declined Erasable' },
        },
      }),
    );
    const declinedRequest = {
      key,
      idempotencyKey: 'erase-declined-payment',
      body: {
        amount: 800,
        currency: 'usd',
        customer: id,
        payment_method: declinedCard.id,
        confirm: true,
      },
    };
    const declined = await call(server, 'POST', '/v1/payment_intents', declinedRequest);
    assert.equal(declined.status, 402, JSON.stringify(declined.body));
    assert.match(JSON.stringify(declined.body), /Declined Erasable/);
    // A receipt email the confirm cleared: the intent no longer has it, its created event does.
    const cleared = ok(
      await call(server, 'POST', '/v1/payment_intents', {
        key,
        body: {
          amount: 900,
          currency: 'usd',
          customer: id,
          payment_method: unsaved.id,
          receipt_email: 'cleared.receipt.erase@example.org',
        },
      }),
    );
    const clearedNow = ok(
      await call(server, 'POST', `/v1/payment_intents/${String(cleared.id)}/confirm`, {
        key,
        body: { receipt_email: '' },
      }),
    );
    assert.equal(clearedNow.receipt_email, null);
    assert.equal(clearedNow.status, 'succeeded');
    // An intent left waiting for a card: after the erasure, no card can be put on it.
    const waiting = ok(
      await call(server, 'POST', '/v1/payment_intents', {
        key,
        body: { amount: 600, currency: 'usd', customer: id },
      }),
    );
    const cards = [String(first.id), String(second.id), String(unsaved.id)];
    const database = server.context.database;
    const vault = server.context.vault;
    for (const card of cards)
      assert.match((await vault.reveal(merchantId, card)).number, /^\d{15,16}$/);

    // The sealed cards as they are before erasure, and the proof that they open with the customer's key.
    const sealedRows = await database.query<{
      id: string;
      ciphertext: Uint8Array;
      iv: Uint8Array;
      auth_tag: Uint8Array;
      customer_key_id: string;
    }>(
      'SELECT id, ciphertext, iv, auth_tag, customer_key_id FROM payment_methods WHERE customer_id = $1',
      [id],
    );
    assert.equal(sealedRows.rows.length, 2);
    const masterKeys = deriveMasterKeys(masterKey);
    const openWithKey = async (row: (typeof sealedRows.rows)[number]) => {
      const customerKey = await customerKeyById(database, masterKeys, row.customer_key_id);
      return open(
        customerKey,
        {
          ciphertext: asBuffer(row.ciphertext),
          iv: asBuffer(row.iv),
          authTag: asBuffer(row.auth_tag),
        },
        cardAad(merchantId, row.id, row.customer_key_id),
      );
    };
    for (const row of sealedRows.rows) assert.ok(await openWithKey(row), 'readable before erasure');

    // Found by email (a query parameter the request log masks).
    const found = ok(
      await call(server, 'GET', `/v1/customers?email=${encodeURIComponent(personal.email)}`, {
        key,
      }),
    );
    assert.deepEqual(
      (found.data as { id: string }[]).map((item) => item.id),
      [id],
    );
    const erased = await call(server, 'DELETE', `/v1/customers/${id}`, { key });
    assert.equal(erased.status, 200, JSON.stringify(erased.body));
    assert.deepEqual(erased.body, { id, object: 'customer', deleted: true });
    assert.deepEqual(ok(await call(server, 'GET', `/v1/customers/${id}`, { key })), {
      id,
      object: 'customer',
      deleted: true,
    });
    assert.equal((await call(server, 'DELETE', `/v1/customers/${id}`, { key })).status, 404);

    // Through the vault: no card opens.
    for (const card of cards)
      await assert.rejects(vault.reveal(merchantId, card), (error: unknown) => {
        assert.ok(error instanceof VaultError);
        assert.equal(error.code, 'payment_method_unexpected_state');
        return true;
      });
    // With the master key and the ciphertext kept from before: the customer's key is gone.
    for (const row of sealedRows.rows) await assert.rejects(openWithKey(row), /does not exist/);
    const keys = await database.query('SELECT 1 FROM vault_customer_keys WHERE customer_id = $1', [
      id,
    ]);
    assert.equal(keys.rows.length, 0);
    const left = await database.query<{ ciphertext: unknown; fingerprint: unknown; last4: string }>(
      'SELECT ciphertext, fingerprint, last4 FROM payment_methods WHERE id = ANY($1::text[])',
      [cards],
    );
    assert.deepEqual(
      left.rows.map((row) => [row.ciphertext, row.fingerprint]),
      [
        [null, null],
        [null, null],
        [null, null],
      ],
    );

    // Nowhere in the database: no personal field of the customer or of its cards.
    const needles = [
      personal.email,
      personal.name,
      personal.phone,
      personal.address.line1,
      personal.address.city,
      personal.metadata.crm_note,
      personal.description,
      'Erasable Holder',
      'holder.erase@example.org',
      '+33 9 99 99 99 99',
      '2 Rue Erasure',
      'Unsaved Erasable',
      'receipt.erase@example.org',
      'stored.receipt.erase@example.org',
      'cleared.receipt.erase@example.org',
      'Declined Erasable',
      '5555555555554444',
      '4000056655665556',
      '378282246310005',
      // The paying card's fingerprint, which its charge events showed.
      String((first.card as { fingerprint: string }).fingerprint),
    ];
    const tables = await database.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    );
    const leaks: string[] = [];
    for (const { table_name: table } of tables.rows) {
      for (const needle of needles) {
        const found = await database.query(
          `SELECT 1 FROM "${table}" t WHERE strpos(t::text, $1) > 0 LIMIT 1`,
          [needle],
        );
        if (found.rows.length > 0) leaks.push(`'${needle}' is still in ${table}`);
      }
    }
    assert.deepEqual(leaks, []);

    const logged = server.logs.join('');
    for (const needle of needles)
      assert.ok(!logged.includes(needle), `'${needle}' reached the server's log`);
    assert.ok(!logged.includes(encodeURIComponent(personal.email)), 'the email reached the log');

    // A replay of a redacted answer still answers honestly: the same status and object, or the
    // same error.
    const replayed = await call(server, 'POST', '/v1/payment_intents', expandedRequest);
    assert.equal(replayed.status, 200, JSON.stringify(replayed.body));
    assert.deepEqual(replayed.body, {
      id: expanded.id,
      object: 'payment_intent',
      redacted: true,
    });
    const replayedDecline = await call(server, 'POST', '/v1/payment_intents', declinedRequest);
    assert.equal(replayedDecline.status, 402, JSON.stringify(replayedDecline.body));
    assert.equal(replayedDecline.body.error?.code, declined.body.error?.code);
    assert.equal(replayedDecline.body.error?.decline_code, declined.body.error?.decline_code);
    assert.equal(replayedDecline.body.error?.message, declined.body.error?.message);

    // The payment records keep the customer's id; the money is all there.
    const intent = ok(await call(server, 'GET', `/v1/payment_intents/${String(paid.id)}`, { key }));
    assert.equal(intent.customer, id);
    assert.equal(intent.amount_refunded, 1_000);
    const report = await server.context.verifyLedger();
    assert.equal(report.ok, true, report.problems.join('; '));
    // The erased customer's cards cannot pay any more.
    const again = await call(server, 'POST', '/v1/payment_intents', {
      key,
      body: { amount: 500, currency: 'usd', payment_method: first.id, confirm: true },
    });
    assert.equal(again.status, 400, JSON.stringify(again.body));
    assert.equal(again.body.error?.code, 'payment_method_unexpected_state');
    const later = ok(
      await call(server, 'POST', '/v1/payment_methods', {
        key,
        body: { type: 'card', card: { number: '4242424242424242', exp_month: 3, exp_year: 2034 } },
      }),
    );
    for (const [path, body] of [
      [`/v1/payment_intents/${String(waiting.id)}`, { payment_method: later.id }],
      [`/v1/payment_intents/${String(waiting.id)}/confirm`, { payment_method: later.id }],
    ] as const) {
      const refused = await call(server, 'POST', path, { key, body });
      assert.equal(refused.status, 404, `${path} ${JSON.stringify(refused.body)}`);
      assert.equal(refused.body.error?.param, 'customer');
    }
  });

  test('bad input on every new route: a 400 naming the parameter, nothing written', async () => {
    const customer = String(ok(await call(server, 'POST', '/v1/customers', { key, body: {} })).id);
    const loose = String(
      ok(
        await call(server, 'POST', '/v1/payment_methods', {
          key,
          body: {
            type: 'card',
            card: { number: '4242424242424242', exp_month: 1, exp_year: 2034 },
          },
        }),
      ).id,
    );
    const saved = String(
      ok(
        await call(server, 'POST', '/v1/payment_methods/pm_card_visa/attach', {
          key,
          body: { customer },
        }),
      ).id,
    );
    const setup = String(
      ok(await call(server, 'POST', '/v1/setup_intents', { key, body: { customer } })).id,
    );
    const done = String(
      ok(
        await call(server, 'POST', '/v1/setup_intents', {
          key,
          body: { customer, payment_method: 'pm_card_visa', confirm: true },
        }),
      ).id,
    );
    type Row = {
      route: string;
      method: string;
      path: string;
      body?: unknown;
      status?: number;
      /** Undefined for a state error, which names no parameter (as Stripe's). */
      param: string | undefined;
      code?: string;
    };
    const table: Row[] = [
      {
        route: 'POST /v1/customers',
        method: 'POST',
        path: '/v1/customers',
        body: { email: 'not an email' },
        param: 'email',
      },
      {
        route: 'POST /v1/customers',
        method: 'POST',
        path: '/v1/customers',
        body: { name: 'n'.repeat(257) },
        param: 'name',
      },
      {
        route: 'POST /v1/customers',
        method: 'POST',
        path: '/v1/customers',
        body: { address: { city: 5 } },
        param: 'address[city]',
      },
      {
        route: 'POST /v1/customers',
        method: 'POST',
        path: '/v1/customers',
        body: { address: { planet: 'Mars' } },
        param: 'address[planet]',
      },
      {
        route: 'POST /v1/customers',
        method: 'POST',
        path: '/v1/customers',
        body: { metadata: { ['k'.repeat(41)]: 'v' } },
        param: 'metadata',
      },
      {
        route: 'POST /v1/customers',
        method: 'POST',
        path: '/v1/customers',
        body: { payment_method: 'pm_missing0000000' },
        status: 404,
        param: 'payment_method',
      },
      {
        route: 'POST /v1/customers',
        method: 'POST',
        path: '/v1/customers',
        body: { email: 'a@b.co', invoice_settings: { default_payment_method: loose } },
        param: 'invoice_settings[default_payment_method]',
      },
      { route: 'GET /v1/customers', method: 'GET', path: '/v1/customers?limit=0', param: 'limit' },
      {
        route: 'GET /v1/customers/search',
        method: 'GET',
        path: '/v1/customers/search',
        param: 'query',
      },
      {
        route: 'GET /v1/customers/search',
        method: 'GET',
        path: `/v1/customers/search?query=${encodeURIComponent('amount>5')}`,
        param: 'query',
      },
      {
        route: 'GET /v1/customers/search',
        method: 'GET',
        path: `/v1/customers/search?query=${encodeURIComponent("email:'a' AND name:'b' OR phone:'c'")}`,
        param: 'query',
      },
      {
        route: 'GET /v1/customers/search',
        method: 'GET',
        path: `/v1/customers/search?query=${encodeURIComponent("email:'a'")}&expand[]=data.nothing`,
        param: 'expand',
      },
      {
        route: 'GET /v1/customers',
        method: 'GET',
        path: '/v1/customers?created[since]=1',
        param: 'created[since]',
      },
      {
        route: 'GET /v1/customers',
        method: 'GET',
        path: `/v1/customers?email=${'e'.repeat(513)}`,
        param: 'email',
      },
      {
        route: 'GET /v1/customers/:id',
        method: 'GET',
        path: `/v1/customers/${customer}?expand_all=1`,
        param: 'expand_all',
      },
      {
        route: 'POST /v1/customers/:id',
        method: 'POST',
        path: `/v1/customers/${customer}`,
        body: { phone: 'call me' },
        param: 'phone',
      },
      {
        route: 'POST /v1/customers/:id',
        method: 'POST',
        path: `/v1/customers/${customer}`,
        body: { invoice_settings: { default_payment_method: loose } },
        param: 'invoice_settings[default_payment_method]',
      },
      {
        route: 'DELETE /v1/customers/:id',
        method: 'DELETE',
        path: `/v1/customers/${'c'.repeat(101)}`,
        param: 'id',
      },
      {
        route: 'GET /v1/customers/:id/payment_methods',
        method: 'GET',
        path: `/v1/customers/${customer}/payment_methods?type=sepa_debit`,
        param: 'type',
      },
      {
        route: 'GET /v1/payment_methods',
        method: 'GET',
        path: `/v1/payment_methods?type=card&customer=${'c'.repeat(101)}`,
        param: 'customer',
      },
      {
        route: 'POST /v1/payment_methods/:id',
        method: 'POST',
        path: `/v1/payment_methods/${saved}`,
        body: { billing_details: { email: 'nope' } },
        param: 'billing_details[email]',
      },
      {
        route: 'POST /v1/payment_methods/:id',
        method: 'POST',
        path: `/v1/payment_methods/${saved}`,
        body: { card: { exp_month: 2 } },
        param: 'card',
      },
      {
        route: 'POST /v1/payment_methods/:id/attach',
        method: 'POST',
        path: `/v1/payment_methods/${loose}/attach`,
        body: {},
        param: 'customer',
      },
      {
        route: 'POST /v1/payment_methods/:id/attach',
        method: 'POST',
        path: `/v1/payment_methods/${loose}/attach`,
        body: { customer: 'cus_missing000000' },
        status: 404,
        param: 'customer',
      },
      {
        route: 'POST /v1/payment_methods/:id/detach',
        method: 'POST',
        path: `/v1/payment_methods/${saved}/detach`,
        body: { customer },
        param: 'customer',
      },
      {
        route: 'POST /v1/payment_methods/:id/detach',
        method: 'POST',
        path: `/v1/payment_methods/${loose}/detach`,
        body: {},
        param: 'id',
        code: 'payment_method_unexpected_state',
      },
      {
        route: 'POST /v1/setup_intents',
        method: 'POST',
        path: '/v1/setup_intents',
        body: { usage: 'sometimes' },
        param: 'usage',
      },
      {
        route: 'POST /v1/setup_intents',
        method: 'POST',
        path: '/v1/setup_intents',
        body: { confirm: true },
        param: 'payment_method',
      },
      {
        route: 'POST /v1/setup_intents',
        method: 'POST',
        path: '/v1/setup_intents',
        body: { payment_method_types: ['sepa_debit'] },
        param: 'payment_method_types[0]',
      },
      {
        route: 'POST /v1/setup_intents',
        method: 'POST',
        path: '/v1/setup_intents',
        body: { customer: 'cus_missing000000' },
        status: 404,
        param: 'customer',
      },
      {
        route: 'GET /v1/setup_intents',
        method: 'GET',
        path: '/v1/setup_intents?created=-1',
        param: 'created',
      },
      {
        route: 'GET /v1/setup_intents/:id',
        method: 'GET',
        path: `/v1/setup_intents/${setup}?client_secret=x`,
        param: 'client_secret',
      },
      {
        route: 'POST /v1/setup_intents/:id',
        method: 'POST',
        path: `/v1/setup_intents/${setup}`,
        body: { usage: 'on_session' },
        param: 'usage',
      },
      {
        route: 'POST /v1/setup_intents/:id',
        method: 'POST',
        path: `/v1/setup_intents/${setup}`,
        body: { payment_method: 'pm_missing0000000' },
        status: 404,
        param: 'payment_method',
      },
      {
        route: 'POST /v1/setup_intents/:id',
        method: 'POST',
        path: `/v1/setup_intents/${done}`,
        body: { description: 'late' },
        param: undefined,
        code: 'setup_intent_unexpected_state',
      },
      {
        route: 'POST /v1/setup_intents/:id/confirm',
        method: 'POST',
        path: `/v1/setup_intents/${setup}/confirm`,
        body: {},
        param: 'payment_method',
        code: 'setup_intent_unexpected_state',
      },
      {
        route: 'POST /v1/setup_intents/:id/confirm',
        method: 'POST',
        path: `/v1/setup_intents/${setup}/confirm`,
        body: { payment_method: 'pm_missing0000000' },
        status: 404,
        param: 'payment_method',
      },
      {
        route: 'POST /v1/setup_intents/:id/cancel',
        method: 'POST',
        path: `/v1/setup_intents/${setup}/cancel`,
        body: { cancellation_reason: 'bored' },
        param: 'cancellation_reason',
      },
      {
        route: 'POST /v1/setup_intents/:id/cancel',
        method: 'POST',
        path: `/v1/setup_intents/${done}/cancel`,
        body: {},
        param: undefined,
        code: 'setup_intent_unexpected_state',
      },
    ];
    assert.deepEqual(
      [...new Set(table.map((row) => row.route))].sort(),
      newRoutes(server).sort(),
      'the table covers every new route',
    );
    const before = await written(server);
    for (const row of table) {
      const answer = await call(server, row.method, row.path, { key, body: row.body });
      const label = `${row.method} ${row.path} ${JSON.stringify(row.body)} → ${JSON.stringify(answer.body)}`;
      assert.equal(answer.status, row.status ?? 400, label);
      assert.equal(answer.body.error?.param, row.param, label);
      if (row.code !== undefined) assert.equal(answer.body.error?.code, row.code, label);
    }
    // The new parameters of payment intents, too.
    for (const [body, param] of [
      [{ amount: 100, currency: 'usd', setup_future_usage: 'always' }, 'setup_future_usage'],
      [{ amount: 100, currency: 'usd', customer: 'cus_missing000000' }, 'customer'],
    ] as const) {
      const answer = await call(server, 'POST', '/v1/payment_intents', { key, body });
      assert.equal(answer.body.error?.param, param, JSON.stringify(answer.body));
    }
    assert.equal(await written(server), before, 'nothing was written');
  });

  test('merchant isolation on every new route: another merchant’s ids are 404', async () => {
    const customer = String(
      ok(await call(server, 'POST', '/v1/customers', { key, body: { email: 'a@shop.example' } }))
        .id,
    );
    const saved = String(
      ok(
        await call(server, 'POST', '/v1/payment_methods/pm_card_visa/attach', {
          key,
          body: { customer },
        }),
      ).id,
    );
    const setup = String(
      ok(await call(server, 'POST', '/v1/setup_intents', { key, body: { customer } })).id,
    );
    const theirs = String(
      ok(await call(server, 'POST', '/v1/customers', { key: otherKey, body: {} })).id,
    );
    const theirCard = String(
      ok(
        await call(server, 'POST', '/v1/payment_methods', {
          key: otherKey,
          body: {
            type: 'card',
            card: { number: '4242424242424242', exp_month: 1, exp_year: 2034 },
          },
        }),
      ).id,
    );
    type Row = { route: string; method: string; path: string; body?: unknown; param: string };
    const table: Row[] = [
      {
        route: 'POST /v1/customers',
        method: 'POST',
        path: '/v1/customers',
        body: { payment_method: saved },
        param: 'payment_method',
      },
      {
        route: 'GET /v1/customers',
        method: 'GET',
        path: `/v1/customers?starting_after=${customer}`,
        param: 'starting_after',
      },
      {
        route: 'GET /v1/customers/:id',
        method: 'GET',
        path: `/v1/customers/${customer}`,
        param: 'id',
      },
      {
        route: 'POST /v1/customers/:id',
        method: 'POST',
        path: `/v1/customers/${customer}`,
        body: { name: 'x' },
        param: 'id',
      },
      {
        route: 'DELETE /v1/customers/:id',
        method: 'DELETE',
        path: `/v1/customers/${customer}`,
        param: 'id',
      },
      {
        route: 'GET /v1/customers/:id/payment_methods',
        method: 'GET',
        path: `/v1/customers/${customer}/payment_methods`,
        param: 'id',
      },
      {
        route: 'GET /v1/payment_methods',
        method: 'GET',
        path: `/v1/payment_methods?customer=${customer}`,
        param: 'customer',
      },
      {
        route: 'POST /v1/payment_methods/:id',
        method: 'POST',
        path: `/v1/payment_methods/${saved}`,
        body: { metadata: { a: 'b' } },
        param: 'id',
      },
      {
        route: 'POST /v1/payment_methods/:id/attach',
        method: 'POST',
        path: `/v1/payment_methods/${saved}/attach`,
        body: { customer: theirs },
        param: 'id',
      },
      {
        route: 'POST /v1/payment_methods/:id/attach',
        method: 'POST',
        path: `/v1/payment_methods/${theirCard}/attach`,
        body: { customer },
        param: 'customer',
      },
      {
        route: 'POST /v1/payment_methods/:id/detach',
        method: 'POST',
        path: `/v1/payment_methods/${saved}/detach`,
        body: {},
        param: 'id',
      },
      {
        route: 'POST /v1/setup_intents',
        method: 'POST',
        path: '/v1/setup_intents',
        body: { customer },
        param: 'customer',
      },
      {
        route: 'GET /v1/setup_intents',
        method: 'GET',
        path: `/v1/setup_intents?customer=${customer}`,
        param: 'customer',
      },
      {
        route: 'GET /v1/setup_intents/:id',
        method: 'GET',
        path: `/v1/setup_intents/${setup}`,
        param: 'id',
      },
      {
        route: 'POST /v1/setup_intents/:id',
        method: 'POST',
        path: `/v1/setup_intents/${setup}`,
        body: { metadata: { a: 'b' } },
        param: 'id',
      },
      {
        route: 'POST /v1/setup_intents/:id/confirm',
        method: 'POST',
        path: `/v1/setup_intents/${setup}/confirm`,
        body: { payment_method: 'pm_card_visa' },
        param: 'id',
      },
      {
        route: 'POST /v1/setup_intents/:id/cancel',
        method: 'POST',
        path: `/v1/setup_intents/${setup}/cancel`,
        body: {},
        param: 'id',
      },
    ];
    // A search names no id: its isolation is that another merchant's search finds nothing here.
    assert.deepEqual(
      [...new Set(table.map((row) => row.route))].sort(),
      newRoutes(server)
        .filter((route) => route !== 'GET /v1/customers/search')
        .sort(),
      'the table covers every new route',
    );
    const before = await written(server);
    const searched = await call(
      server,
      'GET',
      `/v1/customers/search?query=${encodeURIComponent("email:'a@shop.example'")}`,
      { key: otherKey },
    );
    assert.equal(searched.status, 200, JSON.stringify(searched.body));
    assert.deepEqual(searched.body.data, []);
    const own = await call(
      server,
      'GET',
      `/v1/customers/search?query=${encodeURIComponent("email:'a@shop.example'")}`,
      { key },
    );
    assert.equal((own.body.data as unknown[]).length, 1, 'its own merchant finds it');
    for (const row of table) {
      const answer = await call(server, row.method, row.path, { key: otherKey, body: row.body });
      const label = `${row.method} ${row.path} → ${JSON.stringify(answer.body)}`;
      assert.equal(answer.status, 404, label);
      assert.equal(answer.body.error?.code, 'resource_missing', label);
      assert.equal(answer.body.error?.param, row.param, label);
      assert.ok(!JSON.stringify(answer.body).includes('a@shop.example'), label);
    }
    const paying = await call(server, 'POST', '/v1/payment_intents', {
      key: otherKey,
      body: { amount: 100, currency: 'usd', customer },
    });
    assert.equal(paying.status, 404);
    assert.equal(paying.body.error?.param, 'customer');
    assert.equal(await written(server), before, "nothing of the other merchant's was touched");
  });
});

describe('customers on PostgreSQL', () => {
  let stack: SimulatedStack;
  let server: TestServer;
  let key: string;

  before(async () => {
    stack = await startSimulatedStack({ database: 'postgres', env });
    server = stack.server;
    ({ key } = await stack.merchant('Race shop'));
  });
  after(() => stack.stop());

  test('one card attached to two customers at once: exactly one wins', async () => {
    const rounds = 8;
    for (let round = 0; round < rounds; round++) {
      const card = String(
        ok(
          await call(server, 'POST', '/v1/payment_methods', {
            key,
            body: {
              type: 'card',
              card: { number: '4242424242424242', exp_month: 1, exp_year: 2034 },
            },
          }),
        ).id,
      );
      const customers = await Promise.all(
        [0, 1].map(async () =>
          String(ok(await call(server, 'POST', '/v1/customers', { key, body: {} })).id),
        ),
      );
      const answers = await Promise.all(
        customers.map((customer) =>
          call(server, 'POST', `/v1/payment_methods/${card}/attach`, { key, body: { customer } }),
        ),
      );
      const won = answers.filter((answer) => answer.status === 200);
      const lost = answers.filter((answer) => answer.status !== 200);
      assert.equal(won.length, 1, JSON.stringify(answers.map((answer) => answer.body)));
      assert.equal(lost[0]?.status, 400);
      assert.equal(lost[0]?.body.error?.code, 'payment_method_unexpected_state');
      const winner = won[0]?.body.customer;
      const stored = ok(await call(server, 'GET', `/v1/payment_methods/${card}`, { key }));
      assert.equal(stored.customer, winner);
      for (const customer of customers) {
        const listed = ok(
          await call(server, 'GET', `/v1/customers/${customer}/payment_methods`, { key }),
        );
        assert.equal((listed.data as unknown[]).length, customer === winner ? 1 : 0);
      }
      // The card opens under the winner's key only.
      const merchantId = (
        await server.context.database.query<{ merchant_id: string }>(
          'SELECT merchant_id FROM payment_methods WHERE id = $1',
          [card],
        )
      ).rows[0]?.merchant_id as string;
      assert.equal(
        (await server.context.vault.reveal(merchantId, card)).number,
        '4242424242424242',
      );
    }
  });

  test('erasure racing a payment for the customer: the payment is refused, or its card is shredded', async () => {
    const rounds = 16;
    for (let round = 0; round < rounds; round++) {
      const email = `race.${round}.erase@example.org`;
      const holder = `Racing Holder ${round}`;
      const receipt = `race.${round}.receipt@example.org`;
      const customer = String(
        ok(await call(server, 'POST', '/v1/customers', { key, body: { email } })).id,
      );
      const card = String(
        ok(
          await call(server, 'POST', '/v1/payment_methods', {
            key,
            body: {
              type: 'card',
              card: { number: '4242424242424242', exp_month: 1, exp_year: 2034 },
              billing_details: { name: holder },
            },
          }),
        ).id,
      );
      // Half the rounds race a create with confirm, half a confirm of an intent made before.
      const confirmLater = round % 2 === 1;
      const waiting = confirmLater
        ? String(
            ok(
              await call(server, 'POST', '/v1/payment_intents', {
                key,
                body: { amount: 300, currency: 'usd', customer },
              }),
            ).id,
          )
        : undefined;
      const [paid, erased] = await Promise.all([
        waiting === undefined
          ? call(server, 'POST', '/v1/payment_intents', {
              key,
              body: {
                amount: 300,
                currency: 'usd',
                customer,
                payment_method: card,
                receipt_email: receipt,
                confirm: true,
              },
            })
          : call(server, 'POST', `/v1/payment_intents/${waiting}/confirm`, {
              key,
              body: { payment_method: card, receipt_email: receipt },
            }),
        // Started a little later in some rounds, so that either may reach the customer first.
        new Promise((resolve) => setTimeout(resolve, (round % 4) * 4)).then(() =>
          call(server, 'DELETE', `/v1/customers/${customer}`, { key }),
        ),
      ]);
      assert.equal(erased.status, 200, JSON.stringify(erased.body));
      const needles = [email, receipt];
      if (paid.status === 404) {
        // Refused: the card never became the customer's, the payment wrote nothing of it.
        assert.equal(paid.body.error?.code, 'resource_missing', JSON.stringify(paid.body));
        assert.equal(paid.body.error?.param, 'customer');
      } else {
        // Written before the erasure: the erasure found the card and shredded it.
        const merchantId = (
          await server.context.database.query<{ merchant_id: string }>(
            'SELECT merchant_id FROM customers WHERE id = $1',
            [customer],
          )
        ).rows[0]?.merchant_id as string;
        await assert.rejects(server.context.vault.reveal(merchantId, card));
        needles.push(holder);
      }
      const tables = await server.context.database.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
      );
      const leaks: string[] = [];
      for (const { table_name: table } of tables.rows)
        for (const needle of needles) {
          const found = await server.context.database.query(
            `SELECT 1 FROM "${table}" t WHERE strpos(t::text, $1) > 0 LIMIT 1`,
            [needle],
          );
          if (found.rows.length > 0) leaks.push(`'${needle}' is still in ${table}`);
        }
      assert.deepEqual(leaks, [], `round ${round}, payment answered ${paid.status}`);
    }
  });
});
