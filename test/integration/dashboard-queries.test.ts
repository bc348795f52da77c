// The dashboard's payments data (src/dashboard/queries/payments.ts) on PGlite and PostgreSQL:
// each filter narrows to exactly the payments it names, keyset pages forward and back neither skip
// nor repeat a payment (property test), the search box finds by id, email and last4, a merchant
// never sees another's payment (list, export, cursor, timeline), and the timeline of a payment
// made through the API shows each kind of entry, without a card number anywhere.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import {
  DashboardPayments,
  intentStatuses,
  parseSearch,
  type DashboardScope,
  type PaymentFilter,
  type PaymentRow,
  type TimelineEntryKind,
} from '../../src/dashboard/queries/payments.ts';
import type { IntentStatus } from '../../src/payments/types.ts';
import type { Database } from '../../src/storage/database.ts';
import { UnknownCursorError } from '../../src/storage/pagination.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/databases.ts';
import { call, findCardNumberInLogs, knownTestCardNumbers } from '../support/server.ts';
import { startSimulatedStack, type SimulatedStack } from '../support/simulator.ts';
import { waitFor } from '../support/wait.ts';

// ---------------------------------------------------------------------------------------------
// A fixture written as rows, and the same payments as a model to compute what each list shows.

const merchantA = 'mch_dashAAAA0001';
const merchantB = 'mch_dashBBBB0002';
const connectors = ['stripe', 'adyen', 'razorpay'] as const;
const currencies = ['usd', 'eur'] as const;

type Model = {
  id: string;
  merchantId: string;
  amount: bigint;
  currency: string;
  status: IntentStatus;
  connector: string | null;
  created: Date;
  receiptEmail: string | null;
  customerId: string | null;
  customerEmail: string | null;
  paymentMethodId: string | null;
  last4: string | null;
  declineCode: string | null;
  attemptId: string | null;
  refundId: string | null;
};

const base = Date.parse('2026-11-01T00:00:00Z');

function buildModel(): Model[] {
  const payments: Model[] = [];
  for (let k = 0; k < 90; k++) {
    const merchantId = k % 4 === 3 ? merchantB : merchantA;
    const status = intentStatuses[(k * 5) % intentStatuses.length] as IntentStatus;
    const hasAttempt = status !== 'requires_confirmation';
    // Every third payment shares its creation time with the one before: ties are broken by id.
    const created = new Date(base + Math.floor(k - (k % 3 === 2 ? 1 : 0)) * 60_000);
    const customer = k % 5 === 0 ? `cus_dash${String(k).padStart(6, '0')}` : null;
    const method =
      k % 7 === 0
        ? 'pm_card_visa'
        : `pm_dash${String(k % 9).padStart(6, '0')}${merchantId.slice(-4)}`;
    payments.push({
      id: `pi_dash${String(k).padStart(6, '0')}`,
      merchantId,
      amount: BigInt(100 + ((k * 7919) % 5000)),
      currency: currencies[k % 2] as string,
      status,
      connector: hasAttempt ? (connectors[k % 3] as string) : null,
      created,
      receiptEmail: k % 5 === 1 ? `Buyer${k % 10}@Example.com` : null,
      customerId: customer,
      customerEmail: customer === null ? null : `customer${k}@example.org`,
      paymentMethodId: method,
      last4: method === 'pm_card_visa' ? '4242' : String(1000 + (k % 9)),
      declineCode: status === 'requires_payment_method' ? 'insufficient_funds' : null,
      attemptId: hasAttempt ? `pa_dash${String(k).padStart(6, '0')}` : null,
      refundId:
        status === 'succeeded' && k % 2 === 0 ? `re_dash${String(k).padStart(6, '0')}` : null,
    });
  }
  return payments;
}

async function seed(database: Database, payments: readonly Model[]): Promise<void> {
  await database.exec(`
    INSERT INTO merchants (id, name) VALUES ('${merchantA}', 'A'), ('${merchantB}', 'B');
    INSERT INTO vault_data_keys (id, master_key_id, wrapped_key, wrap_iv, wrap_tag)
      VALUES ('dk_dashdata01', '0123456789abcdef', decode(repeat('00', 32), 'hex'),
              decode(repeat('00', 12), 'hex'), decode(repeat('00', 16), 'hex'));`);
  const methods = new Map<string, Model>();
  for (const payment of payments)
    if (payment.paymentMethodId?.startsWith('pm_dash') === true)
      methods.set(payment.paymentMethodId, payment);
  for (const [id, payment] of methods)
    await database.query(
      `INSERT INTO payment_methods (id, merchant_id, brand, last4, exp_month, exp_year, fingerprint,
         ciphertext, iv, auth_tag, data_key_id)
       VALUES ($1, $2, 'mastercard', $3, 12, 2031, 'fpfpfpfpfpfpfpfp', decode('00', 'hex'),
         decode(repeat('00', 12), 'hex'), decode(repeat('00', 16), 'hex'), 'dk_dashdata01')`,
      [id, payment.merchantId, payment.last4],
    );
  for (const payment of payments) {
    if (payment.customerId !== null)
      await database.query(
        `INSERT INTO customers (id, merchant_id, email, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)`,
        [payment.customerId, payment.merchantId, payment.customerEmail, payment.created],
      );
    const received = payment.status === 'succeeded' ? payment.amount : 0n;
    await database.query(
      `INSERT INTO payment_intents (id, merchant_id, amount, currency, status, capture_method,
         payment_method_id, connector, amount_received, client_secret, receipt_email, customer_id,
         created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, 'automatic', $6, $7, $8, $1 || '_secret_x', $9, $10, $11, $11)`,
      [
        payment.id,
        payment.merchantId,
        payment.amount,
        payment.currency,
        payment.status,
        payment.paymentMethodId,
        payment.connector,
        received,
        payment.receiptEmail,
        payment.customerId,
        payment.created,
      ],
    );
    if (payment.attemptId !== null) {
      // A declined payment was first declined elsewhere with another code: the latest counts.
      if (payment.declineCode !== null)
        await database.query(
          `INSERT INTO payment_attempts (id, payment_intent_id, merchant_id, connector, status,
             amount, currency, capture_method, psp_idempotency_key, decline_code, created_at, updated_at)
           VALUES ($1, $2, $3, 'adyen', 'failed', $4, $5, 'automatic', $1, 'do_not_honor', $6, $6)`,
          [
            `pa_dashold${payment.id.slice(-6)}`,
            payment.id,
            payment.merchantId,
            payment.amount,
            payment.currency,
            payment.created,
          ],
        );
      await database.query(
        `INSERT INTO payment_attempts (id, payment_intent_id, merchant_id, connector, status,
           amount, currency, capture_method, psp_idempotency_key, decline_code, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'automatic', $1, $8, $9, $9)`,
        [
          payment.attemptId,
          payment.id,
          payment.merchantId,
          payment.connector,
          payment.declineCode === null ? 'captured' : 'failed',
          payment.amount,
          payment.currency,
          payment.declineCode,
          new Date(payment.created.getTime() + 1000),
        ],
      );
    }
    if (payment.refundId !== null)
      await database.query(
        `INSERT INTO refunds (id, merchant_id, payment_intent_id, attempt_id, amount, currency, status,
           psp_idempotency_key, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 50, $5, 'succeeded', $1, $6, $6)`,
        [
          payment.refundId,
          payment.merchantId,
          payment.id,
          payment.attemptId,
          payment.currency,
          payment.created,
        ],
      );
  }
}

/** What the list must show for this scope and filter, in list order. */
function expected(
  payments: readonly Model[],
  scope: DashboardScope,
  filter: PaymentFilter,
): string[] {
  const term = filter.q === undefined ? undefined : parseSearch(filter.q);
  return payments
    .filter((payment) => {
      if (scope.merchantId !== undefined && payment.merchantId !== scope.merchantId) return false;
      if (
        filter.statuses !== undefined &&
        filter.statuses.length > 0 &&
        !filter.statuses.includes(payment.status)
      )
        return false;
      if (filter.connector !== undefined && payment.connector !== filter.connector) return false;
      if (filter.currency !== undefined && payment.currency !== filter.currency) return false;
      if (filter.amountMin !== undefined && payment.amount < filter.amountMin) return false;
      if (filter.amountMax !== undefined && payment.amount > filter.amountMax) return false;
      if (filter.created?.gte !== undefined && payment.created < filter.created.gte) return false;
      if (filter.created?.lt !== undefined && payment.created >= filter.created.lt) return false;
      if (term !== undefined) {
        switch (term.kind) {
          case 'payment_intent':
            return payment.id === term.id;
          case 'attempt':
            return payment.attemptId === term.id || `pa_dashold${payment.id.slice(-6)}` === term.id;
          case 'refund':
            return payment.refundId === term.id;
          case 'payment_method':
            return payment.paymentMethodId === term.id;
          case 'customer':
            return payment.customerId === term.id;
          case 'email':
            return (
              payment.receiptEmail?.toLowerCase() === term.email.toLowerCase() ||
              payment.customerEmail?.toLowerCase() === term.email.toLowerCase()
            );
          case 'last4':
            return payment.last4 === term.last4;
          case 'nothing':
            return false;
        }
      }
      return true;
    })
    .toSorted((a, b) => b.created.getTime() - a.created.getTime() || (a.id < b.id ? 1 : -1))
    .map((payment) => payment.id);
}

async function exported(
  queries: DashboardPayments,
  scope: DashboardScope,
  filter: PaymentFilter,
  chunk = 7,
): Promise<PaymentRow[]> {
  const rows: PaymentRow[] = [];
  for await (const row of queries.exportRows(scope, filter, chunk)) rows.push(row);
  return rows;
}

const scopeA: DashboardScope = { kind: 'merchant', merchantId: merchantA };
const scopeB: DashboardScope = { kind: 'merchant', merchantId: merchantB };
const operator: DashboardScope = { kind: 'operator' };

for (const kind of databaseKinds) {
  describe(`dashboard payments list on ${kind}`, () => {
    let test_: TestDatabase;
    let queries: DashboardPayments;
    const payments = buildModel();

    before(async () => {
      test_ = await openTestDatabase(kind);
      await seed(test_.database, payments);
      queries = new DashboardPayments(test_.database);
    });
    after(() => test_?.drop());

    test('each filter narrows to exactly the payments it names, in list order', async () => {
      const filters: PaymentFilter[] = [
        {},
        { statuses: ['succeeded'] },
        { statuses: ['succeeded', 'canceled', 'requires_action'] },
        { connector: 'adyen' },
        { currency: 'eur' },
        { amountMin: 1000n, amountMax: 3000n },
        { amountMin: 4000n },
        { created: { gte: new Date(base + 20 * 60_000), lt: new Date(base + 50 * 60_000) } },
        { statuses: ['requires_payment_method'], connector: 'stripe', currency: 'usd' },
        { statuses: ['requires_confirmation'], connector: 'stripe' },
        { connector: 'paytm' },
        { currency: 'jpy', statuses: ['succeeded'] },
      ];
      for (const scope of [
        scopeA,
        scopeB,
        operator,
        { kind: 'operator', merchantId: merchantB } as const,
      ])
        for (const filter of filters) {
          const want = expected(payments, scope, filter);
          const rows = await exported(queries, scope, filter);
          assert.deepEqual(
            rows.map((row) => row.id),
            want,
            JSON.stringify({ scope, filter }, (_k, v: unknown) =>
              typeof v === 'bigint' ? String(v) : v,
            ),
          );
          const first = await queries.list(scope, filter, { limit: 10 });
          assert.deepEqual(
            first.rows.map((row) => row.id),
            want.slice(0, 10),
          );
          assert.equal(first.hasMore, want.length > 10);
        }
    });

    test('a row shows the email, the card as brand and last4, and the latest decline code', async () => {
      const byId = new Map((await exported(queries, operator, {})).map((row) => [row.id, row]));
      for (const payment of payments) {
        const row = byId.get(payment.id);
        assert.ok(row !== undefined);
        assert.equal(row.merchantId, payment.merchantId);
        assert.equal(row.amount, payment.amount);
        assert.equal(row.status, payment.status);
        assert.equal(row.connector, payment.connector);
        assert.equal(row.created.getTime(), payment.created.getTime());
        assert.equal(row.customerEmail, payment.receiptEmail ?? payment.customerEmail);
        assert.equal(row.cardLast4, payment.last4);
        assert.equal(
          row.cardBrand,
          payment.paymentMethodId === 'pm_card_visa' ? 'visa' : 'mastercard',
        );
        assert.equal(row.declineCode, payment.declineCode);
      }
    });

    test('the search box: ids, an email in any case, a last4', async () => {
      const declined = payments.find((payment) => payment.declineCode !== null) as Model;
      const refunded = payments.find((payment) => payment.refundId !== null) as Model;
      const searches = [
        declined.id,
        `ch_${(declined.attemptId as string).slice(3)}`,
        declined.attemptId as string,
        `pa_dashold${declined.id.slice(-6)}`,
        refunded.refundId as string,
        'buyer1@example.COM',
        'CUSTOMER10@example.org',
        '4242',
        '1003',
        '9999',
        'pi_doesnotexist',
        'hello world',
        `cus_dash000010`,
      ];
      for (const scope of [scopeA, scopeB, operator])
        for (const q of searches) {
          const want = expected(payments, scope, { q });
          const rows = await exported(queries, scope, { q });
          assert.deepEqual(
            rows.map((row) => row.id),
            want,
            `${q} in ${JSON.stringify(scope)}`,
          );
        }
      assert.ok(expected(payments, operator, { q: '4242' }).length > 5);
      assert.equal(expected(payments, operator, { q: declined.id }).length, 1);
      // Combined with a filter, the search narrows it further.
      const combined = await queries.list(operator, { q: '4242', statuses: ['succeeded'] });
      assert.deepEqual(
        combined.rows.map((row) => row.id),
        expected(payments, operator, { q: '4242', statuses: ['succeeded'] }),
      );
    });

    test('keyset pages forward and back: every payment once, none skipped (property)', async () => {
      const filterArbitrary = fc.record(
        {
          statuses: fc.subarray([...intentStatuses], { minLength: 1 }),
          connector: fc.constantFrom(...connectors),
          currency: fc.constantFrom(...currencies),
          amountMin: fc.bigInt({ min: 0n, max: 3000n }),
        },
        { requiredKeys: [] },
      );
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(scopeA, scopeB, operator),
          filterArbitrary,
          fc.integer({ min: 1, max: 12 }),
          async (scope, filter, limit) => {
            const want = expected(payments, scope, filter);
            // Forward from the first page to the last.
            const forward: string[] = [];
            let page = await queries.list(scope, filter, { limit });
            forward.push(...page.rows.map((row) => row.id));
            while (page.hasMore) {
              page = await queries.list(scope, filter, {
                limit,
                startingAfter: page.rows.at(-1)?.id,
              });
              forward.push(...page.rows.map((row) => row.id));
            }
            assert.deepEqual(forward, want);
            // Back from the last payment to the first.
            const last = want.at(-1);
            if (last === undefined) return;
            const backward: string[] = [last];
            let cursor: string | undefined = last;
            for (;;) {
              const previous = await queries.list(scope, filter, { limit, endingBefore: cursor });
              backward.unshift(...previous.rows.map((row) => row.id));
              if (!previous.hasMore) break;
              cursor = previous.rows[0]?.id;
            }
            assert.deepEqual(backward, want);
          },
        ),
        { numRuns: kind === 'pglite' ? 25 : 40 },
      );
    });

    test("a merchant never sees another merchant's payment: list, export, cursor, timeline", async () => {
      const ofB = payments.filter((payment) => payment.merchantId === merchantB);
      const listed = await exported(queries, scopeA, {});
      assert.ok(listed.length > 0);
      assert.ok(listed.every((row) => row.merchantId === merchantA));
      for (const payment of ofB.slice(0, 5)) {
        assert.equal(await queries.timeline(scopeA, payment.id), undefined);
        assert.deepEqual((await queries.list(scopeA, { q: payment.id })).rows, []);
        await assert.rejects(
          queries.list(scopeA, {}, { startingAfter: payment.id }),
          UnknownCursorError,
        );
        assert.equal((await queries.timeline(scopeB, payment.id))?.payment.id, payment.id);
        assert.equal((await queries.timeline(operator, payment.id))?.payment.id, payment.id);
      }
      assert.equal(await queries.timeline(scopeA, 'pi_nope'), undefined);
      assert.equal(await queries.timeline(scopeA, "pi_'; DROP TABLE x"), undefined);
    });

    test('a last4 or an email of more than 1,000 keys still finds exactly its payments', async () => {
      const database = test_.database;
      await database.query(
        `INSERT INTO payment_methods (id, merchant_id, brand, last4, exp_month, exp_year, fingerprint,
           ciphertext, iv, auth_tag, data_key_id)
         SELECT 'pm_many' || lpad(i::text, 6, '0'), $1, 'visa', '7777', 1, 2030, 'fpfpfpfpfpfpfpfp',
                decode('00', 'hex'), decode(repeat('00', 12), 'hex'), decode(repeat('00', 16), 'hex'),
                'dk_dashdata01'
           FROM generate_series(1, 1100) i`,
        [merchantA],
      );
      await database.query(
        `INSERT INTO customers (id, merchant_id, email, created_at, updated_at)
         SELECT 'cus_many' || lpad(i::text, 6, '0'), $1, 'Many@example.com', now(), now()
           FROM generate_series(1, 1100) i`,
        [merchantA],
      );
      const paid = [
        ['pi_many000001', 'pm_many000003', 'cus_many000004', '2026-11-02T00:00:00Z'],
        ['pi_many000002', 'pm_many001050', 'cus_many001099', '2026-11-03T00:00:00Z'],
      ];
      for (const [id, method, customer, created] of paid)
        await database.query(
          `INSERT INTO payment_intents (id, merchant_id, amount, currency, status, capture_method,
             payment_method_id, client_secret, customer_id, created_at, updated_at)
           VALUES ($1, $2, 100, 'usd', 'requires_confirmation', 'automatic', $3, $1 || '_secret_x', $4, $5, $5)`,
          [id, merchantA, method, customer, created],
        );
      for (const q of ['7777', 'many@EXAMPLE.com'])
        for (const scope of [scopeA, operator]) {
          const rows = await exported(queries, scope, { q }, 1);
          assert.deepEqual(
            rows.map((row) => row.id),
            ['pi_many000002', 'pi_many000001'],
            q,
          );
          assert.deepEqual(await exported(queries, scopeB, { q }), []);
        }
    });

    test('payments apart by microseconds page one by one without a gap', async () => {
      for (const [id, created] of [
        ['pi_micro000001', '2027-01-01 00:00:00.000100+00'],
        ['pi_micro000002', '2027-01-01 00:00:00.000300+00'],
        ['pi_micro000003', '2027-01-01 00:00:00.000200+00'],
      ])
        await test_.database.query(
          `INSERT INTO payment_intents (id, merchant_id, amount, currency, status, capture_method,
             client_secret, created_at, updated_at)
           VALUES ($1, $2, 100, 'usd', 'requires_payment_method', 'automatic', $1 || '_secret_x',
             $3::timestamptz, $3::timestamptz)`,
          [id, merchantB, created],
        );
      const filter: PaymentFilter = { created: { gte: new Date('2027-01-01T00:00:00Z') } };
      const want = ['pi_micro000002', 'pi_micro000003', 'pi_micro000001'];
      for (const scope of [scopeB, operator]) {
        assert.deepEqual(
          (await exported(queries, scope, filter, 1)).map((row) => row.id),
          want,
        );
        const back = await queries.list(scope, filter, {
          limit: 1,
          endingBefore: 'pi_micro000001',
        });
        assert.deepEqual(
          back.rows.map((row) => row.id),
          ['pi_micro000003'],
        );
        assert.equal(back.hasMore, true);
      }
    });

    test('bad filters are refused, limits are bounded', async () => {
      await assert.rejects(
        queries.list(operator, { statuses: ['paid' as IntentStatus] }),
        /Unknown status/,
      );
      await assert.rejects(queries.list(operator, { currency: 'USD' }), /currency/);
      await assert.rejects(queries.list(operator, { amountMin: -1n }), /amount_min/);
      const all = (await exported(queries, operator, {})).length;
      assert.ok(all > 90);
      assert.equal(
        (await queries.list(operator, {}, { limit: 1000 })).rows.length,
        Math.min(all, 100),
      );
      assert.equal((await queries.list(operator, {}, { limit: 0 })).rows.length, 1);
      assert.equal((await queries.list(operator, {}, { limit: Number.NaN })).rows.length, 25);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// A payment made through the API: its timeline.

type Receiver = { url: string; count(): number; close(): Promise<void> };

async function startReceiver(): Promise<Receiver> {
  let received = 0;
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      received++;
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    count: () => received,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const everyKind: readonly TimelineEntryKind[] = [
  'api_request',
  'routing',
  'risk',
  'attempt',
  'refund',
  'ledger',
  'event',
  'webhook_delivery',
];

for (const kind of databaseKinds) {
  describe(`a payment's timeline on ${kind}`, () => {
    let stack: SimulatedStack;
    let receiver: Receiver;

    before(async () => {
      stack = await startSimulatedStack({
        database: kind,
        env: { PAYRAIL_WEBHOOK_ALLOW_LOOPBACK: '1' },
      });
      receiver = await startReceiver();
    });
    after(async () => {
      try {
        await receiver?.close();
      } finally {
        await stack?.stop();
      }
    });

    test('API request, routing, risk, the attempt with its latency, refund, ledger postings, events and deliveries', async () => {
      const { server } = stack;
      const shop = await stack.merchant('Timeline shop');
      const other = await stack.merchant('Other shop');
      const endpoint = await call(server, 'POST', '/v1/webhook_endpoints', {
        key: shop.key,
        body: { url: receiver.url, enabled_events: ['*'] },
      });
      assert.equal(endpoint.status, 200, JSON.stringify(endpoint.body));
      const created = await call(server, 'POST', '/v1/payment_intents', {
        key: shop.key,
        idempotencyKey: 'timeline-create-1',
        body: {
          amount: 4200,
          currency: 'usd',
          payment_method: 'pm_card_visa',
          confirm: true,
          capture_method: 'manual',
          receipt_email: 'Timeline@Example.com',
        },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const id = String(created.body.id);
      const captured = await call(server, 'POST', `/v1/payment_intents/${id}/capture`, {
        key: shop.key,
        idempotencyKey: 'timeline-capture-1',
        body: {},
      });
      assert.equal(captured.status, 200, JSON.stringify(captured.body));
      const refund = await call(server, 'POST', '/v1/refunds', {
        key: shop.key,
        body: { payment_intent: id, amount: 1200 },
      });
      assert.equal(refund.status, 200, JSON.stringify(refund.body));

      const queries = new DashboardPayments(server.context.database);
      const scope: DashboardScope = { kind: 'merchant', merchantId: shop.id };
      const timeline = await waitFor('every event delivered', async () => {
        const found = await queries.timeline(scope, id);
        const events = found?.entries.filter((entry) => entry.kind === 'event') ?? [];
        const delivered = found?.entries.filter(
          (entry) => entry.kind === 'webhook_delivery' && entry.status === 'succeeded',
        );
        return events.length > 0 && delivered?.length === events.length ? found : undefined;
      });
      assert.ok(timeline !== undefined);
      const kinds = new Set(timeline.entries.map((entry) => entry.kind));
      for (const wanted of everyKind) assert.ok(kinds.has(wanted), `a ${wanted} entry`);
      assert.equal(timeline.truncated, false);
      assert.equal(timeline.payment.status, 'succeeded');
      assert.equal(timeline.payment.cardLast4, '4242');
      assert.equal(timeline.payment.customerEmail, 'Timeline@Example.com');

      for (let index = 1; index < timeline.entries.length; index++)
        assert.ok(
          (timeline.entries[index - 1]?.at.getTime() ?? 0) <=
            (timeline.entries[index]?.at.getTime() ?? 0),
          'in time order',
        );
      const attempt = timeline.entries.find((entry) => entry.kind === 'attempt');
      assert.ok(attempt?.kind === 'attempt');
      assert.equal(typeof attempt.latencyMs, 'number', 'the PSP call latency is recorded');
      assert.equal(attempt.chargeId, created.body.latest_charge);
      const requests = timeline.entries.filter((entry) => entry.kind === 'api_request');
      const create = requests.find((entry) => entry.idempotencyKey === 'timeline-create-1');
      assert.equal(create?.method, 'POST');
      assert.equal(create?.path, '/v1/payment_intents');
      assert.equal(create?.responseStatus, 200);
      assert.ok(requests.some((entry) => entry.idempotencyKey === 'timeline-capture-1'));
      const ledger = timeline.entries.filter((entry) => entry.kind === 'ledger');
      assert.ok(ledger.some((entry) => entry.transactionId.startsWith('capture:')));
      assert.ok(ledger.some((entry) => entry.transactionId.startsWith('refund:')));
      for (const entry of ledger) {
        assert.ok(entry.postings.length >= 2);
        const net = (layer: string) =>
          entry.postings
            .filter((posting) => posting.layer === layer)
            .reduce((sum, p) => sum + (p.direction === 'debit' ? p.amount : -p.amount), 0n);
        assert.equal(net('posted'), 0n, `${entry.transactionId} balances`);
      }
      const delivery = timeline.entries.find((entry) => entry.kind === 'webhook_delivery');
      assert.ok(delivery?.kind === 'webhook_delivery');
      assert.equal(delivery.url, receiver.url);
      assert.equal(delivery.lastHttpStatus, 200);

      // The same payment in the list, by every search, and nowhere for another merchant.
      for (const q of [
        id,
        String(created.body.latest_charge),
        String(refund.body.id),
        'timeline@example.com',
        '4242',
      ]) {
        const page = await queries.list(scope, { q });
        assert.deepEqual(
          page.rows.map((row) => row.id),
          [id],
          q,
        );
        assert.deepEqual(
          (await queries.list({ kind: 'merchant', merchantId: other.id }, { q })).rows,
          [],
        );
      }
      assert.equal(
        await queries.timeline({ kind: 'merchant', merchantId: other.id }, id),
        undefined,
      );
      assert.equal((await queries.timeline({ kind: 'operator' }, id))?.payment.id, id);

      // No card number in anything the queries return.
      const everything = JSON.stringify(
        [timeline, await queries.list(scope), await queries.list({ kind: 'operator' })],
        (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value),
      );
      assert.equal(findCardNumberInLogs([everything], knownTestCardNumbers), undefined);
      assert.doesNotMatch(everything, /\d{12,19}/);
      assert.ok(receiver.count() > 0);
    });
  });
}
