// The dashboard's money pages (issue 15) on real data: two merchants pay through the simulator's
// PSP, the test clock and the money-out pipeline take the money through a clearing batch to
// available balances and payouts, and a reconciliation run raises exceptions (two bank credits no
// batch names, as the bank's statement would show them). Then each page must show it, its filters
// and CSV export must give exactly the filtered list, its actions must work, ask for a reason and
// be audited, a support user must be refused them, merchant B must never see merchant A's objects
// (a 404 exactly like a missing one), the operator pages must be the operator's only, and no page
// may carry a card number. On PGlite and on PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Papa from 'papaparse';
import { formatMoney } from '../../src/web/format.ts';
import { signedIn, type DashboardClient, type PageAnswer } from '../support/dashboard.ts';
import { dayAt, MoneyOutDriver, nextWeekdayAt, type Json } from '../support/money-out.ts';
import type { Merchant } from '../support/merchants.ts';
import { call, knownTestCardNumbers, testAdminKey } from '../support/server.ts';
import { startSimulatedStack } from '../support/simulator.ts';
import { databaseKinds } from '../support/databases.ts';

const friday = 5;

let driver: MoneyOutDriver;
let shopA: Merchant;
let shopB: Merchant;
/** A's payout the bank paid, and A's payout created after the last run (never sent). */
let paidPayout: string;
let pendingPayout: string;
let payoutB: string;
let batchId: string;
let runId: string;
const unknownCredits: Record<string, string> = {};
/** Every page and CSV any test read: none may carry a card number. */
const seen: { path: string; body: string }[] = [];

async function page(client: DashboardClient, path: string, status = 200): Promise<PageAnswer> {
  const answer = await client.get(path);
  seen.push({ path, body: answer.body });
  assert.equal(answer.status, status, `${path}: ${answer.status} ${answer.body.slice(0, 2000)}`);
  return answer;
}

/** The data rows of a CSV export (the header checked first). */
function csvRows(body: string, firstColumn = 'id'): Record<string, string>[] {
  const parsed = Papa.parse<Record<string, string>>(body.trim(), { header: true });
  assert.deepEqual(parsed.errors, []);
  assert.equal(parsed.meta.fields?.[0], firstColumn);
  return parsed.data;
}

/** The exactly-once token of the first action form of a page. */
function onceOf(answer: PageAnswer): string {
  const token = /name="_once" value="([^"]+)"/.exec(answer.body)?.[1];
  assert.ok(token !== undefined, 'the page has an action form');
  return token;
}

/** The ids of a list page's rows (`<tr data-id="…">`), in order. */
function rowIds(body: string): string[] {
  return [...body.matchAll(/<tr data-id="([^"]+)"/g)].map((match) => match[1] as string);
}

const admin = (method: string, path: string, body?: unknown) =>
  call(driver.server, method, path, { key: testAdminKey, body });

for (const kind of databaseKinds)
  describe(`the money pages on ${kind}`, () => {
    before(async () => {
      const stack = await startSimulatedStack({
        database: kind,
        env: { PAYRAIL_RUN_WORKERS: 'false' },
      });
      driver = new MoneyOutDriver(stack);
      const start = nextWeekdayAt(await driver.now(), friday, 10);
      await driver.at(start);
      shopA = await driver.merchant('Dashboard shop A');
      shopB = await driver.merchant('Dashboard shop B');
      await driver.setPayoutSettings(shopA, { schedule: 'manual' });
      const first = await driver.pay(shopA, 4_000);
      await driver.pay(shopA, 6_000);
      await driver.refund(shopA, String(first.id), 1_000);
      await driver.pay(shopB, 7_000);
      // Friday 19:00: the batch is closed, submitted and acknowledged; Tuesday (T+2 business days) the
      // money is available, and B's daily payout is made and sent.
      await driver.runAt(dayAt(start, 0, 19));
      batchId = [...(await driver.clearing(shopA.id)).values()][0]?.batch as string;
      await driver.runAt(dayAt(start, 4, 9));
      const [automatic] = await driver.payouts(shopB);
      payoutB = String(automatic?.id);
      // A pays out part by hand: sent and paid the same day; then the rest, never sent.
      const part = await call(driver.server, 'POST', '/v1/payouts', {
        key: shopA.key,
        body: { currency: 'usd', amount: 3_000 },
      });
      assert.equal(part.status, 200, JSON.stringify(part.body));
      paidPayout = String(part.body.id);
      await driver.runAt(dayAt(start, 4, 10));
      await driver.runAt(dayAt(start, 4, 12));
      assert.equal((await driver.payout(shopA, paidPayout)).status, 'paid');
      const rest = await call(driver.server, 'POST', '/v1/payouts', {
        key: shopA.key,
        body: { currency: 'usd' },
      });
      assert.equal(rest.status, 200, JSON.stringify(rest.body));
      pendingPayout = String(rest.body.id);
      // Two credits on the bank's statement that no batch names: reconciliation raises each.
      const booked = dayAt(start, 4, 0).toISOString().slice(0, 10);
      await driver.server.context.database.query(
        `INSERT INTO bank_statement_entries (entry_reference, direction, booking_date, currency,
         amount, kind, end_to_end_id, remittance, seen_at)
       VALUES ('DASH-U1', 'credit', $1, 'usd', 999, 'unmatched', NULL, 'who knows', now()),
              ('DASH-U2', 'credit', $1, 'usd', 555, 'unmatched', NULL, 'who knows', now())`,
        [booked],
      );
      // And 55 more: more exceptions than a page holds.
      await driver.server.context.database.query(
        `INSERT INTO bank_statement_entries (entry_reference, direction, booking_date, currency,
         amount, kind, end_to_end_id, remittance, seen_at)
       SELECT 'BULK-' || n, 'credit', $1, 'usd', 100 + n, 'unmatched', NULL, 'bulk', now()
         FROM generate_series(1, 55) AS n`,
        [booked],
      );
      const run = await admin('POST', '/v1/reconciliation/runs', { as_of: booked });
      assert.equal(run.status, 201, JSON.stringify(run.body));
      runId = String(run.body.id);
      const raised = await admin(
        'GET',
        `/v1/reconciliation/exceptions?limit=100&reason=unexpected&source=bank_statement`,
      );
      for (const exception of raised.body.data as Json[]) {
        const key = String((exception.record as { key: string }).key);
        if (key.startsWith('DASH-')) unknownCredits[key.slice(0, 7)] = String(exception.id);
        if (key === 'BULK-1:credit') unknownCredits['BULK-1'] = String(exception.id);
      }
      assert.deepEqual(Object.keys(unknownCredits).sort(), ['BULK-1', 'DASH-U1', 'DASH-U2']);
    });
    after(() => driver.stack.stop());

    describe('balances and balance transactions', () => {
      test("a merchant's balance per currency, as /v1/balance shows it", async () => {
        const browser = await signedIn(driver.server.url, { key: shopA.key });
        const shown = await page(browser, '/dashboard/balances');
        const balance = await driver.balance(shopA);
        const row = /<tr data-currency="usd">([\s\S]*?)<\/tr>/.exec(shown.body)?.[1] ?? '';
        for (const amount of [balance.available, balance.pending, balance.reserved])
          assert.ok(row.includes(formatMoney(BigInt(amount), 'usd')), `${amount} in ${row}`);
        assert.match(shown.body, /<th scope="col" class="amount">Available<\/th>/);
        // The navigation shows the merchant's sections, not the operator's.
        assert.match(shown.body, /href="\/dashboard\/payouts"/);
        assert.doesNotMatch(shown.body, /href="\/dashboard\/settlement"/);
      });

      test('the operator picks a merchant; a bad or unknown merchant is refused', async () => {
        const operator = await signedIn(driver.server.url, { key: testAdminKey });
        const picker = await page(operator, '/dashboard/balances');
        assert.match(picker.body, /kept per merchant/);
        assert.match(picker.body, /<label for="merchant">/);
        const ofA = await page(operator, `/dashboard/balances?merchant=${shopA.id}`);
        assert.match(ofA.body, /<tr data-currency="usd">/);
        assert.match(
          ofA.body,
          new RegExp(`/dashboard/balances/transactions\\?currency=usd&amp;merchant=${shopA.id}`),
        );
        const bad = await page(operator, '/dashboard/balances?merchant=nobody', 400);
        assert.match(bad.body, /merchant: /);
        await page(operator, '/dashboard/balances?merchant=mch_doesnotexist0000', 404);
      });

      test('the list: every transaction of the merchant, filtered; the CSV is exactly the filtered list', async () => {
        const browser = await signedIn(driver.server.url, { key: shopA.key });
        const all = (await driver.transactions(shopA)).map((row) => String(row.id));
        const listed = await page(browser, '/dashboard/balances/transactions');
        assert.deepEqual(rowIds(listed.body), all);
        assert.match(listed.body, /<span class="status available">available<\/span>/);
        const charges = (await driver.transactions(shopA, 'type=charge')).map((row) =>
          String(row.id),
        );
        assert.equal(charges.length, 2);
        const filtered = await page(
          browser,
          '/dashboard/balances/transactions?type=charge&currency=usd',
        );
        assert.deepEqual(rowIds(filtered.body), charges);
        assert.match(filtered.body, /<option value="charge" selected>/);
        const csv = await page(
          browser,
          '/dashboard/balances/transactions.csv?type=charge&currency=usd',
        );
        assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
        const rows = csvRows(csv.body);
        assert.deepEqual(
          rows.map((row) => row.id),
          charges,
        );
        assert.ok(rows.every((row) => row.type === 'charge' && row.currency === 'usd'));
        assert.deepEqual(
          csvRows((await page(browser, '/dashboard/balances/transactions.csv')).body).map(
            (row) => row.id,
          ),
          all,
        );
        // A day range: today's (the clock's) transactions are all of them; none before.
        const today = (await driver.now()).toISOString().slice(0, 10);
        const none = await page(
          browser,
          '/dashboard/balances/transactions?created_to=2020-01-01&type=charge',
        );
        assert.deepEqual(rowIds(none.body), []);
        const some = await page(browser, `/dashboard/balances/transactions?created_to=${today}`);
        assert.deepEqual(rowIds(some.body), all);
        assert.deepEqual(
          rowIds((await page(browser, '/dashboard/balances/transactions?currency=eur')).body),
          [],
        );
      });

      test('bad filters are a 400 page naming the field', async () => {
        const browser = await signedIn(driver.server.url, { key: shopA.key });
        for (const [query, field] of [
          ['type=gift', 'type'],
          ['currency=USD', 'currency'],
          ['created_from=yesterday', 'created_from'],
          ['created_from=2026-02-30', 'created_from'],
          ['created_from=2026-03-02&created_to=2026-03-01', 'created_to'],
          ['starting_after=x%27y', 'starting_after'],
        ] as const) {
          const answer = await page(browser, `/dashboard/balances/transactions?${query}`, 400);
          assert.match(answer.body, new RegExp(`${field}: `), query);
          // The export is every page of the filter: it reads no cursor.
          if (field !== 'starting_after')
            await page(browser, `/dashboard/balances/transactions.csv?${query}`, 400);
        }
      });
    });

    describe('payouts', () => {
      test('the list with its filters and CSV; a payout with its contents', async () => {
        const browser = await signedIn(driver.server.url, { key: shopA.key });
        const listed = await page(browser, '/dashboard/payouts');
        assert.deepEqual(rowIds(listed.body), [pendingPayout, paidPayout]);
        assert.match(listed.body, /<span class="status paid">paid<\/span>/);
        assert.match(listed.body, /<span class="status pending">pending<\/span>/);
        assert.ok(listed.body.includes(formatMoney(3_000n, 'usd')));
        const pending = await page(browser, '/dashboard/payouts?status=pending');
        assert.deepEqual(rowIds(pending.body), [pendingPayout]);
        const csv = csvRows((await page(browser, '/dashboard/payouts.csv?status=paid')).body);
        assert.deepEqual(
          csv.map((row) => [row.id, row.status, row.amount]),
          [[paidPayout, 'paid', '3000']],
        );
        assert.deepEqual(
          csvRows((await page(browser, '/dashboard/payouts.csv')).body).map((row) => row.id),
          [pendingPayout, paidPayout],
        );
        await page(browser, '/dashboard/payouts?status=lost', 400);

        const detail = await page(browser, `/dashboard/payouts/${paidPayout}`);
        const contents = (await driver.transactions(shopA, `payout=${paidPayout}`)).map((row) =>
          String(row.id),
        );
        assert.ok(contents.length >= 3, JSON.stringify(contents));
        assert.deepEqual(rowIds(detail.body), contents);
        // A paid payout has no cancel form.
        assert.doesNotMatch(detail.body, /Cancel payout/);
        const open = await page(browser, `/dashboard/payouts/${pendingPayout}`);
        assert.match(open.body, /Cancel payout/);
        assert.match(open.body, /<label for="cancel-reason">/);
      });

      test("merchant B never sees A's payouts: a 404 exactly like a missing one", async () => {
        const browser = await signedIn(driver.server.url, { key: shopB.key });
        const own = await page(browser, '/dashboard/payouts');
        assert.deepEqual(rowIds(own.body), [payoutB]);
        const missing = await page(browser, '/dashboard/payouts/po_doesnotexist0000', 404);
        const othersPayout = await page(browser, `/dashboard/payouts/${paidPayout}`, 404);
        const normalize = (body: string, id: string) =>
          body.replace(id, 'ID').replace(/name="_csrf" value="[^"]+"/, '');
        assert.equal(
          normalize(othersPayout.body, paidPayout),
          normalize(missing.body, 'po_doesnotexist0000'),
        );
        // The operator's ?merchant= is ignored for a merchant's session: it is its own scope.
        const scoped = await page(browser, `/dashboard/payouts?merchant=${shopA.id}`);
        assert.deepEqual(rowIds(scoped.body), [payoutB]);
        await page(browser, `/dashboard/payouts/${paidPayout}?merchant=${shopA.id}`, 404);
        const csv = await page(browser, `/dashboard/payouts.csv?merchant=${shopA.id}`);
        assert.deepEqual(
          csvRows(csv.body).map((row) => row.id),
          [payoutB],
        );
        const transactions = await page(browser, `/dashboard/balances/transactions.csv`);
        const theirs = new Set((await driver.transactions(shopA)).map((row) => String(row.id)));
        const mine = csvRows(transactions.body).map((row) => String(row.id));
        assert.ok(mine.length > 0);
        assert.ok(mine.every((id) => !theirs.has(id)));
        const contents = await page(
          browser,
          `/dashboard/balances/transactions?payout=${paidPayout}`,
        );
        assert.deepEqual(rowIds(contents.body), []);
        // Nor can B cancel it.
        const cancel = await browser.post(`/dashboard/payouts/${pendingPayout}/cancel`, {
          _once: 'a-form-token-of-b-0001',
          reason: 'not mine to cancel',
        });
        assert.equal(cancel.status, 404);
        assert.equal((await driver.payout(shopA, pendingPayout)).status, 'pending');
      });

      test('cancel: support is refused, a reason is required, then canceled and audited', async () => {
        await driver.server.context.dashboard.users.create({
          email: 'support@shop-a.example',
          password: 'a long enough password',
          role: 'support',
          merchantId: shopA.id,
        });
        const support = await signedIn(driver.server.url, {
          email: 'support@shop-a.example',
          password: 'a long enough password',
        });
        const seenBySupport = await page(support, `/dashboard/payouts/${pendingPayout}`);
        assert.doesNotMatch(seenBySupport.body, /Cancel payout/);
        const refused = await support.post(`/dashboard/payouts/${pendingPayout}/cancel`, {
          reason: 'support tries',
        });
        assert.equal(refused.status, 403);
        assert.match(refused.body, /move_money/);

        const browser = await signedIn(driver.server.url, { key: shopA.key });
        const form = await page(browser, `/dashboard/payouts/${pendingPayout}`);
        const noReason = await browser.post(`/dashboard/payouts/${pendingPayout}/cancel`, {
          _once: onceOf(form),
          reason: ' ',
        });
        assert.equal(noReason.status, 400);
        assert.match(noReason.body, /reason: /);
        assert.equal((await driver.payout(shopA, pendingPayout)).status, 'pending');

        const fields = { _once: onceOf(form), reason: 'wrong bank account' };
        const canceled = await browser.post(`/dashboard/payouts/${pendingPayout}/cancel`, fields);
        assert.equal(canceled.status, 303, canceled.body);
        assert.equal(canceled.location, `/dashboard/payouts/${pendingPayout}?done=cancel`);
        // The same form sent again (a double click): the first answer, nothing done twice.
        const resent = await browser.post(`/dashboard/payouts/${pendingPayout}/cancel`, fields);
        assert.equal(resent.status, 303, resent.body);
        assert.equal(resent.location, canceled.location);
        assert.equal((await driver.payout(shopA, pendingPayout)).status, 'canceled');
        const after = await page(browser, canceled.location ?? '');
        assert.match(after.body, /<span class="status canceled">canceled<\/span>/);
        assert.match(after.body, /role="status">Payout canceled/);
        assert.doesNotMatch(after.body, /Cancel payout/);

        const entries = await driver.server.context.dashboard.audit.list(
          shopA.id,
          { objectId: pendingPayout },
          { limit: 10 },
        );
        assert.equal(entries.rows.length, 1);
        const entry = entries.rows[0];
        assert.equal(entry?.action, 'payout.cancel');
        assert.equal(entry?.reason, 'wrong bank account');
        assert.equal(entry?.merchantId, shopA.id);
        assert.equal((entry?.before as Json).status, 'pending');
        assert.equal((entry?.after as Json).status, 'canceled');
        const audit = await page(browser, `/dashboard/audit?object=${pendingPayout}`);
        assert.match(audit.body, /wrong bank account/);
        // B's audit page does not show A's entry.
        const other = await signedIn(driver.server.url, { key: shopB.key });
        const otherAudit = await page(other, `/dashboard/audit?object=${pendingPayout}`);
        assert.doesNotMatch(otherAudit.body, /wrong bank account/);

        // Canceled once: a second cancel is refused and not audited again.
        const again = await browser.post(`/dashboard/payouts/${pendingPayout}/cancel`, {
          _once: 'another-form-token-0001',
          reason: 'once more',
        });
        assert.ok(again.status >= 400 && again.status < 500, String(again.status));
        const still = await driver.server.context.dashboard.audit.list(
          shopA.id,
          { objectId: pendingPayout },
          { limit: 10 },
        );
        assert.equal(still.rows.length, 1);
      });

      test('the operator cancels by merchant; without a merchant the page asks for one', async () => {
        const operator = await signedIn(driver.server.url, { key: testAdminKey });
        const picker = await page(operator, '/dashboard/payouts');
        assert.match(picker.body, /Pick a merchant/);
        const ofB = await page(operator, `/dashboard/payouts?merchant=${shopB.id}`);
        assert.deepEqual(rowIds(ofB.body), [payoutB]);
        assert.match(ofB.body, new RegExp(`/dashboard/payouts/${payoutB}\\?merchant=${shopB.id}`));
        const detail = await page(
          operator,
          `/dashboard/payouts/${paidPayout}?merchant=${shopA.id}`,
        );
        assert.match(detail.body, /<h2>Contents<\/h2>/);
        await page(operator, `/dashboard/payouts/${paidPayout}?merchant=${shopB.id}`, 404);

        // The canceled payout's money is available again: A pays it out, the operator cancels.
        const again = await call(driver.server, 'POST', '/v1/payouts', {
          key: shopA.key,
          body: { currency: 'usd' },
        });
        assert.equal(again.status, 200, JSON.stringify(again.body));
        const id = String(again.body.id);
        const form = await page(operator, `/dashboard/payouts/${id}?merchant=${shopA.id}`);
        assert.ok(
          form.body.includes(`action="/dashboard/payouts/${id}/cancel?merchant=${shopA.id}"`),
        );
        const noMerchant = await operator.post(`/dashboard/payouts/${id}/cancel`, {
          _once: onceOf(form),
          reason: 'operator without a merchant',
        });
        assert.equal(noMerchant.status, 400);
        assert.match(noMerchant.body, /merchant: /);
        const canceled = await operator.post(
          `/dashboard/payouts/${id}/cancel?merchant=${shopA.id}`,
          {
            _once: onceOf(form),
            reason: 'merchant asked by phone',
          },
        );
        assert.equal(canceled.status, 303, canceled.body);
        assert.equal(
          canceled.location,
          `/dashboard/payouts/${id}?done=cancel&merchant=${shopA.id}`,
        );
        assert.equal((await driver.payout(shopA, id)).status, 'canceled');
        const [entry] = (
          await driver.server.context.dashboard.audit.list(
            shopA.id,
            { objectId: id },
            { limit: 10 },
          )
        ).rows;
        assert.deepEqual(
          [entry?.actor, entry?.actorRole, entry?.merchantId, entry?.reason],
          ['admin key', 'admin', shopA.id, 'merchant asked by phone'],
        );
      });
    });

    describe('settlement batches (operator only)', () => {
      test('the batches with status, connector and amounts; a batch in detail', async () => {
        const operator = await signedIn(driver.server.url, { key: testAdminKey });
        const listed = await page(operator, '/dashboard/settlement?connector=stripe');
        assert.ok(rowIds(listed.body).includes(batchId), batchId);
        const batch = (await admin('GET', `/v1/admin/settlement/batches/${batchId}`)).body;
        const row = new RegExp(`<tr data-id="${batchId}">([\\s\\S]*?)</tr>`).exec(listed.body)?.[1];
        assert.ok(row !== undefined);
        assert.ok(row.includes(`<span class="status ${String(batch.status)}">`), row);
        assert.ok(row.includes(formatMoney(BigInt(Number(batch.net_amount)), 'usd')), row);
        const byStatus = await page(
          operator,
          `/dashboard/settlement?status=${String(batch.status)}`,
        );
        assert.ok(rowIds(byStatus.body).includes(batchId));
        const open = await page(operator, '/dashboard/settlement?status=open');
        assert.ok(!rowIds(open.body).includes(batchId));
        const detail = await page(operator, `/dashboard/settlement/${batchId}`);
        assert.match(detail.body, /<dt>Connector<\/dt><dd>stripe<\/dd>/);
        assert.ok(detail.body.includes(formatMoney(BigInt(Number(batch.psp_fee)), 'usd')));
        // Its items: A's three and B's one (every merchant's), each accepted.
        const items = [
          ...(await driver.clearing(shopA.id)).keys(),
          ...(await driver.clearing(shopB.id)).keys(),
        ];
        assert.deepEqual(rowIds(detail.body).sort(), items.sort());
        assert.equal(
          (detail.body.match(/<span class="status accepted">accepted<\/span>/g) ?? []).length,
          items.length,
        );
        await page(operator, '/dashboard/settlement/sb_nothing', 404);
        const bad = await page(operator, '/dashboard/settlement?status=lost', 400);
        assert.match(bad.body, /status: /);
      });

      test("a merchant's session gets 404 on every settlement and reconciliation page", async () => {
        const browser = await signedIn(driver.server.url, { key: shopA.key });
        for (const path of [
          '/dashboard/settlement',
          `/dashboard/settlement/${batchId}`,
          '/dashboard/reconciliation',
          `/dashboard/reconciliation/runs/${runId}`,
          '/dashboard/reconciliation/exceptions',
          '/dashboard/reconciliation/exceptions.csv',
          `/dashboard/reconciliation/exceptions/${unknownCredits['DASH-U1']}`,
        ])
          await page(browser, path, 404);
        const resolve = await browser.post(
          `/dashboard/reconciliation/exceptions/${unknownCredits['DASH-U1']}/resolve`,
          { _once: 'a-merchant-form-token-01', action: 'write_off', reason: 'a merchant tries' },
        );
        assert.equal(resolve.status, 404);
        const home = await page(browser, '/dashboard');
        assert.doesNotMatch(home.body, /href="\/dashboard\/reconciliation"/);
      });
    });

    describe('reconciliation (operator only)', () => {
      test('runs: the list and a run with its figures', async () => {
        const operator = await signedIn(driver.server.url, { key: testAdminKey });
        const runs = await page(operator, '/dashboard/reconciliation');
        assert.ok(rowIds(runs.body).includes(runId));
        const detail = await page(operator, `/dashboard/reconciliation/runs/${runId}`);
        assert.match(detail.body, /<span class="status succeeded">succeeded<\/span>/);
        assert.match(detail.body, /id="run-summary"/);

        // A dry run from the page: a reason asked, audited, its figures shown.
        const refused = await operator.post('/dashboard/reconciliation/runs', {
          _once: onceOf(runs),
          dry_run: 'true',
          reason: 'x',
        });
        assert.equal(refused.status, 400);
        assert.match(refused.body, /reason: /);
        const ran = await operator.post('/dashboard/reconciliation/runs', {
          _once: onceOf(runs),
          dry_run: 'true',
          reason: 'what would today raise?',
        });
        assert.equal(ran.status, 303, ran.body);
        const dryRunId = /\/runs\/([A-Za-z0-9_]+)\?done=run$/.exec(ran.location ?? '')?.[1];
        assert.ok(dryRunId !== undefined, ran.location);
        const shown = await page(operator, ran.location ?? '');
        assert.match(shown.body, /role="status">Reconciled \(dry run\)/);
        assert.match(shown.body, /<dt>Dry run<\/dt><dd>yes/);
        const [entry] = (
          await driver.server.context.dashboard.audit.list(
            null,
            { objectId: dryRunId },
            { limit: 10 },
          )
        ).rows;
        assert.equal(entry?.action, 'reconciliation_run.create');
        assert.equal(entry?.reason, 'what would today raise?');
        assert.equal((entry?.after as Json).dry_run, true);
        const merchant = await signedIn(driver.server.url, { key: shopA.key });
        const byMerchant = await merchant.post('/dashboard/reconciliation/runs', {
          _once: 'a-merchant-form-token-02',
          reason: 'a merchant tries',
        });
        assert.equal(byMerchant.status, 404);
      });

      test('exceptions: filters, the CSV of exactly the filtered list, bad filters named', async () => {
        const operator = await signedIn(driver.server.url, { key: testAdminKey });
        const query = 'reason=unexpected&source=bank_statement&status=open';
        const expected = (
          (await admin('GET', `/v1/reconciliation/exceptions?limit=100&${query}`)).body
            .data as Json[]
        ).map((exception) => String(exception.id));
        assert.ok(expected.includes(String(unknownCredits['DASH-U1'])));
        assert.ok(expected.length > 50, String(expected.length));
        // Page by page through the older links: every row once, in the API's order; then back.
        const pages: string[][] = [];
        let next: string | undefined = `/dashboard/reconciliation/exceptions?${query}`;
        while (next !== undefined) {
          const listed = await page(operator, next);
          pages.push(rowIds(listed.body));
          next = /<a rel="next" href="([^"]+)"/.exec(listed.body)?.[1]?.replaceAll('&amp;', '&');
        }
        assert.equal(pages.length, 2);
        assert.equal(pages[0]?.length, 50);
        assert.deepEqual(pages.flat(), expected);
        const last = await page(
          operator,
          `/dashboard/reconciliation/exceptions?${query}&starting_after=${pages[0]?.at(-1)}`,
        );
        const previous = /<a rel="prev" href="([^"]+)"/
          .exec(last.body)?.[1]
          ?.replaceAll('&amp;', '&');
        assert.ok(previous !== undefined);
        assert.deepEqual(rowIds((await page(operator, previous)).body), pages[0]);
        const csv = csvRows(
          (await page(operator, `/dashboard/reconciliation/exceptions.csv?${query}`)).body,
        );
        assert.deepEqual(
          csv.map((row) => row.id),
          expected,
        );
        assert.ok(csv.every((row) => row.reason === 'unexpected' && row.status === 'open'));
        const all = (
          (await admin('GET', `/v1/reconciliation/exceptions?limit=100&run=${runId}`)).body
            .data as Json[]
        ).map((exception) => String(exception.id));
        assert.deepEqual(
          csvRows(
            (await page(operator, `/dashboard/reconciliation/exceptions.csv?run=${runId}`)).body,
          ).map((row) => row.id),
          all,
        );
        const none = await page(operator, '/dashboard/reconciliation/exceptions?connector=nowhere');
        assert.deepEqual(rowIds(none.body), []);
        for (const [bad, field] of [
          ['reason=odd', 'reason'],
          ['status=closed', 'status'],
          ['connector=Not%20one', 'connector'],
          ['created_to=soon', 'created_to'],
        ] as const) {
          const answer = await page(operator, `/dashboard/reconciliation/exceptions?${bad}`, 400);
          assert.match(answer.body, new RegExp(`${field}: `));
        }
      });

      test('resolve: support is refused; each action asks for a reason, works once, is audited', async () => {
        const id = String(unknownCredits['DASH-U1']);
        const other = String(unknownCredits['DASH-U2']);
        await driver.server.context.dashboard.users.create({
          email: 'support@operator.example',
          password: 'a long enough password',
          role: 'support',
          merchantId: null,
        });
        const support = await signedIn(driver.server.url, {
          email: 'support@operator.example',
          password: 'a long enough password',
        });
        const readOnly = await page(support, `/dashboard/reconciliation/exceptions/${id}`);
        assert.doesNotMatch(readOnly.body, /<h2>Write off<\/h2>/);
        for (const action of ['resolve', 'assign']) {
          const refused = await support.post(
            `/dashboard/reconciliation/exceptions/${id}/${action}`,
            {
              _once: 'a-support-form-token-01',
              action: 'write_off',
              assignee: 'ada',
              reason: 'support tries',
            },
          );
          assert.equal(refused.status, 403, action);
        }
        const run = await support.post('/dashboard/reconciliation/runs', {
          _once: 'a-support-form-token-02',
          reason: 'support tries',
        });
        assert.equal(run.status, 403);
        assert.doesNotMatch(
          (await page(support, '/dashboard/reconciliation')).body,
          /Reconcile now/,
        );

        const operator = await signedIn(driver.server.url, { key: testAdminKey });
        const detail = await page(operator, `/dashboard/reconciliation/exceptions/${id}`);
        for (const heading of ['Assign', 'Match by hand', 'Write off', 'Adjust', "PSP's error"])
          assert.ok(detail.body.includes(`<h2>${heading}</h2>`), heading);
        assert.ok(detail.body.includes(formatMoney(999n, 'usd')));

        const assigned = await operator.post(`/dashboard/reconciliation/exceptions/${id}/assign`, {
          _once: onceOf(detail),
          assignee: 'ada@ops.example',
          reason: 'ada knows this bank',
        });
        assert.equal(assigned.status, 303, assigned.body);
        assert.equal(assigned.location, `/dashboard/reconciliation/exceptions/${id}?done=assign`);
        const byAssignee = await page(
          operator,
          '/dashboard/reconciliation/exceptions?assignee=ada%40ops.example',
        );
        assert.deepEqual(rowIds(byAssignee.body), [id]);

        const form = await page(operator, `/dashboard/reconciliation/exceptions/${id}`);
        const once = onceOf(form);
        assert.notEqual(once, onceOf(detail), 'a new token each time the page is drawn');
        for (const [fields, field] of [
          [{ action: 'write_off', reason: '' }, 'reason'],
          [{ action: 'burn', reason: 'a good reason' }, 'action'],
          [{ action: 'adjust', reason: 'a good reason', amount: '1,5' }, 'amount'],
          [{ action: 'match', reason: 'a good reason' }, 'record_key'],
        ] as const) {
          const refused = await operator.post(
            `/dashboard/reconciliation/exceptions/${id}/resolve`,
            {
              _once: once,
              ...fields,
            },
          );
          assert.equal(refused.status, 400, JSON.stringify(fields));
          assert.match(refused.body, new RegExp(`${field}: `));
        }

        const resolved = await operator.post(`/dashboard/reconciliation/exceptions/${id}/resolve`, {
          _once: once,
          action: 'write_off',
          reason: 'customer wire, booked by hand',
        });
        assert.equal(resolved.status, 303, resolved.body);
        assert.equal(
          resolved.location,
          `/dashboard/reconciliation/exceptions/${id}?done=write_off`,
        );
        const after = (await admin('GET', `/v1/reconciliation/exceptions/${id}`)).body;
        assert.equal(after.status, 'resolved');
        assert.equal(after.resolution, 'written_off');
        assert.equal(after.resolution_reason, 'customer wire, booked by hand');
        assert.equal(after.assignee, 'ada@ops.example');
        assert.ok(after.ledger_transaction !== null);
        const shown = await page(operator, resolved.location ?? '');
        assert.match(shown.body, /<span class="status resolved">resolved<\/span>/);
        assert.doesNotMatch(shown.body, /<h2>Write off<\/h2>/);
        assert.match(shown.body, /role="status">Written off/);
        // Resolving twice is refused by the service (409), and nothing more is audited.
        const twice = await operator.post(`/dashboard/reconciliation/exceptions/${id}/resolve`, {
          _once: 'another-form-token-0002',
          action: 'psp_error',
          reason: 'again',
        });
        assert.equal(twice.status, 409);

        const otherForm = await page(operator, `/dashboard/reconciliation/exceptions/${other}`);
        const pspError = await operator.post(
          `/dashboard/reconciliation/exceptions/${other}/resolve`,
          {
            _once: onceOf(otherForm),
            action: 'psp_error',
            reason: 'the bank will take it back',
          },
        );
        assert.equal(pspError.status, 303, pspError.body);
        assert.equal(
          (await admin('GET', `/v1/reconciliation/exceptions/${other}`)).body.resolution,
          'psp_error',
        );

        // An adjustment: a decimal of the exception's currency, posted to the bank account.
        const bulk = String(unknownCredits['BULK-1']);
        const bulkForm = await page(operator, `/dashboard/reconciliation/exceptions/${bulk}`);
        const adjusted = await operator.post(
          `/dashboard/reconciliation/exceptions/${bulk}/resolve`,
          {
            _once: onceOf(bulkForm),
            action: 'adjust',
            amount: '-1.01',
            reason: 'the bank booked it twice',
          },
        );
        assert.equal(adjusted.status, 303, adjusted.body);
        const adjustment = (await admin('GET', `/v1/reconciliation/exceptions/${bulk}`)).body;
        assert.equal(adjustment.resolution, 'adjusted');
        assert.ok(adjustment.ledger_transaction !== null);
        const posted = await driver.server.context.ledger.getTransaction(
          String(adjustment.ledger_transaction),
        );
        assert.deepEqual(
          posted?.legs.map((leg) => leg.amount),
          [101n, 101n],
        );

        const entries = await driver.server.context.dashboard.audit.list(
          null,
          { objectId: id },
          { limit: 10 },
        );
        assert.deepEqual(
          entries.rows.map((entry) => [entry.action, entry.reason, entry.merchantId]).reverse(),
          [
            ['reconciliation_exception.assign', 'ada knows this bank', null],
            ['reconciliation_exception.resolve', 'customer wire, booked by hand', null],
          ],
        );
        const resolveEntry = entries.rows[0];
        assert.equal((resolveEntry?.before as Json).status, 'open');
        assert.equal((resolveEntry?.after as Json).status, 'resolved');
        // The resolution is the operator's: no merchant's audit page shows it.
        const merchant = await signedIn(driver.server.url, { key: shopA.key });
        const audit = await page(merchant, `/dashboard/audit?object=${id}`);
        assert.doesNotMatch(audit.body, /customer wire/);
      });
    });

    describe('no card number anywhere', () => {
      test('no page or export read by these tests carries a card number', () => {
        assert.ok(seen.length > 40, String(seen.length));
        for (const { path, body } of seen)
          for (const number of knownTestCardNumbers) assert.ok(!body.includes(number), path);
      });
    });
  });
