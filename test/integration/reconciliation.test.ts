// Three-way reconciliation end to end (issue 12, architecture §13): a real Payrail server and the
// simulator's PSP, acquirer and bank over HTTP, driven by the test clock. The simulator seeds known
// discrepancies into its settlement reports and bank statements and lists what it injected; the
// pipeline reads the reports and statements, the operator uploads the same files, and a run must
// raise exactly one exception per injected discrepancy with its right reason (precision and
// recall 100 %), match the split settlement in aggregate, and raise nothing else.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dayAt, MoneyOutDriver, nextWeekdayAt, type Json } from '../support/money-out.ts';
import {
  dayFiles,
  downloadFile,
  downloadStatement,
  exceptionKey,
  exceptionSubject,
  expectedExceptionOf,
  injectedDiscrepancies,
  pspReferencesOfItems,
  setSeeding,
  type ExceptionJson,
  type Injected,
} from '../support/reconciliation.ts';
import { startSimulatedStack } from '../support/simulator.ts';
import { call, testAdminKey } from '../support/server.ts';
import { verifyLedger } from '../../src/ledger/index.ts';

const thursday = 4;

describe('reconciliation end to end: seeded discrepancies found, nothing else', () => {
  let driver: MoneyOutDriver;
  let injected: Injected[];
  let exceptions: ExceptionJson[];
  const admin = (method: string, path: string, body?: unknown) =>
    call(driver.server, method, path, { key: testAdminKey, body });

  before(async () => {
    const stack = await startSimulatedStack({ env: { PAYRAIL_RUN_WORKERS: 'false' } });
    driver = new MoneyOutDriver(stack);
  });
  after(() => driver.stack.stop());

  async function allExceptions(query = ''): Promise<ExceptionJson[]> {
    const found: ExceptionJson[] = [];
    let after = '';
    for (;;) {
      const page = await admin(
        'GET',
        `/v1/reconciliation/exceptions?limit=100${query}${after === '' ? '' : `&starting_after=${after}`}`,
      );
      assert.equal(page.status, 200, JSON.stringify(page.body));
      const data = page.body.data as ExceptionJson[];
      found.push(...data);
      if (page.body.has_more !== true) return found;
      after = String(data.at(-1)?.id);
    }
  }

  test('a week of payments, settlements and payouts with every kind seeded', async () => {
    const start = nextWeekdayAt(await driver.now(), thursday, 10);
    await driver.at(start);
    await setSeeding(driver.stack.simulator, {
      seed: 12,
      rates: {
        missing_line: 0.06,
        unexpected_line: 0.06,
        duplicate_line: 0.06,
        fee_variance: 0.06,
        amount_off_by_one: 0.06,
        late_line: 0.06,
        split_settlement: 1,
        payout_returned: 1,
      },
    });
    const shop = await driver.merchant('Reconciled shop');
    for (let index = 0; index < 40; index += 1) await driver.pay(shop, 1_000 + index * 37);
    await driver.runAt(dayAt(start, 0, 19));
    // Friday: more payments (their batch carries Thursday's late line), Thursday's credit booked.
    await driver.runAt(dayAt(start, 1, 10));
    for (let index = 0; index < 10; index += 1) await driver.pay(shop, 2_000 + index * 41);
    await driver.runAt(dayAt(start, 1, 19));
    // Through the next week: availability, payouts (returned by seeding), statements.
    for (const day of [4, 5, 6, 7, 8]) await driver.runAt(dayAt(start, day, 12));
    injected = await injectedDiscrepancies(driver.stack.simulator);
    const kinds = new Set(injected.map((entry) => entry.kind));
    for (const kind of [
      'missing_line',
      'unexpected_line',
      'duplicate_line',
      'fee_variance',
      'amount_off_by_one',
      'late_line',
      'split_settlement',
      'payout_returned',
    ])
      assert.ok(kinds.has(kind as Injected['kind']), `the seed injects a ${kind}`);

    const ran = await admin('POST', '/v1/reconciliation/runs', {});
    assert.equal(ran.status, 201, JSON.stringify(ran.body));
    assert.equal(ran.body.status, 'succeeded');
    // The bank side is judged (the statements' closing balances were kept) and agrees.
    const drift = (ran.body.summary as { drift: Record<string, string | null>[] }).drift;
    const bank = drift.find((row) => row.account === 'bank:usd');
    assert.ok(bank !== undefined, JSON.stringify(drift));
    assert.equal(bank.unexplained, '0', JSON.stringify(bank));
    assert.notEqual(bank.ledger, '0', 'the ledger moved the bank account');
    exceptions = await allExceptions('&status=open');
    const summary = ran.body.summary as { matched: { aggregate: number } };
    const splits = injected.filter((entry) => entry.kind === 'split_settlement');
    assert.equal(summary.matched.aggregate, splits.length, 'each split credit pair matched');
  });

  test('precision and recall are 100 %: one exception per injected discrepancy, nothing else', async () => {
    const pspReferenceOf = await pspReferencesOfItems(driver.server.context.database);
    const expected = injected
      .flatMap((entry) => expectedExceptionOf(entry) ?? [])
      .map(exceptionKey)
      .sort();
    const found = exceptions
      .map((exception) =>
        exceptionKey({
          reason: exception.reason,
          subject: exceptionSubject(exception, pspReferenceOf),
        }),
      )
      .sort();
    assert.deepEqual(found, expected);
    // The split settlements: no exception names their batch.
    for (const split of injected.filter((entry) => entry.kind === 'split_settlement'))
      assert.ok(
        !exceptions.some(
          (exception) => exception.expectation === `batch:${String(split.subject.batch_id)}`,
        ),
      );
  });

  test('uploading the same reports and statements changes nothing; neither does running again', async () => {
    const start = new Date((await driver.now()).getTime() - 8 * 86_400_000);
    for (let day = 0; day <= 8; day += 1) {
      const date = new Date(start.getTime() + day * 86_400_000).toISOString().slice(0, 10);
      const listing = await dayFiles(driver.stack.simulator, date);
      const files = [
        ...(await Promise.all(
          listing.reports.map((report) => downloadFile(driver.stack.simulator, report.path)),
        )),
        await downloadStatement(driver.stack.simulator, date),
      ];
      for (const file of files) {
        const response = await fetch(
          `${driver.server.url}/v1/reconciliation/files?name=${encodeURIComponent(file.filename)}`,
          {
            method: 'POST',
            headers: { authorization: `Bearer ${testAdminKey}`, 'content-type': file.contentType },
            body: file.bytes,
          },
        );
        const body = (await response.json()) as Json;
        assert.equal(response.status, 201, JSON.stringify(body));
        assert.equal(body.status, 'ingested', JSON.stringify(body));
        assert.equal(body.quarantined_count, 0, JSON.stringify(body));
        assert.equal(body.record_count, 0, `${file.filename}: every line already known`);
        const again = await fetch(`${driver.server.url}/v1/reconciliation/files?name=again`, {
          method: 'POST',
          headers: { authorization: `Bearer ${testAdminKey}`, 'content-type': file.contentType },
          body: file.bytes,
        });
        assert.equal(again.status, 200, 'the same content is the same file');
        assert.equal(((await again.json()) as Json).id, body.id);
      }
    }
    const dry = await admin('POST', '/v1/reconciliation/runs', { dry_run: true });
    assert.equal(dry.status, 201, JSON.stringify(dry.body));
    assert.equal(dry.body.dry_run, true);
    const rerun = await admin('POST', '/v1/reconciliation/runs', {});
    assert.equal(rerun.body.result_hash, dry.body.result_hash, 'a dry run foretells the run');
    assert.deepEqual(
      (await allExceptions('&status=open')).map((exception) => exception.id).sort(),
      exceptions.map((exception) => exception.id).sort(),
    );
  });

  test('exceptions: CSV export of exactly the filtered list, operator events, a resolution through the ledger', async () => {
    const missing = await allExceptions('&reason=missing');
    const csv = await fetch(
      `${driver.server.url}/v1/reconciliation/exceptions.csv?reason=missing`,
      {
        headers: { authorization: `Bearer ${testAdminKey}` },
      },
    );
    assert.equal(csv.status, 200);
    const lines = (await csv.text()).trim().split('\r\n');
    assert.equal(lines[0]?.split(',')[0], 'id');
    assert.deepEqual(
      lines.slice(1).map((line) => line.split(',')[0]),
      missing.map((exception) => exception.id),
    );
    const events = await admin(
      'GET',
      '/v1/admin/events?limit=100&type=reconciliation_exception.created',
    );
    assert.equal((events.body.data as Json[]).length, exceptions.length);

    const target = missing[0] as ExceptionJson;
    const resolved = await admin('POST', `/v1/reconciliation/exceptions/${target.id}/resolve`, {
      action: 'write_off',
      reason: 'The PSP confirmed the payment was never settled; written off.',
      actor: 'ops@example.com',
    });
    assert.equal(resolved.status, 200, JSON.stringify(resolved.body));
    assert.equal(resolved.body.status, 'resolved');
    assert.equal(resolved.body.resolution, 'written_off');
    const transaction = String(resolved.body.ledger_transaction);
    assert.match(transaction, /^recon_resolution:/);
    const twice = await admin('POST', `/v1/reconciliation/exceptions/${target.id}/resolve`, {
      action: 'write_off',
      reason: 'again',
    });
    assert.equal(twice.status, 409);
    const report = await verifyLedger(driver.server.context.database);
    assert.equal(report.ok, true, JSON.stringify(report));
    const detail = await admin('GET', `/v1/reconciliation/exceptions/${target.id}`);
    assert.deepEqual(
      (detail.body.history as { action: string }[]).map((entry) => entry.action),
      ['raised', 'resolved'],
    );
    const resolvedEvents = await admin(
      'GET',
      '/v1/admin/events?limit=10&type=reconciliation_exception.resolved',
    );
    assert.deepEqual(
      (resolvedEvents.body.data as { data: { object: Json } }[]).map(
        (event) => event.data.object.id,
      ),
      [target.id],
    );
    // The resolution is in the adjustments account's history, with the operator's transaction id.
    const entries = await admin(
      'GET',
      `/v1/admin/ledger/accounts/${encodeURIComponent('recon:adjustments:usd')}/entries?limit=10`,
    );
    assert.equal(entries.status, 200, JSON.stringify(entries.body));
    assert.ok(
      (entries.body.data as Json[]).some((entry) => entry.transaction === transaction),
      JSON.stringify(entries.body.data),
    );
    // The metrics: the latest run's match rate, open exceptions by reason and age.
    const metrics = await (await fetch(`${driver.server.url}/metrics`)).text();
    assert.match(metrics, /payrail_reconciliation_match_rate 0\.\d+/);
    const open = exceptions.filter((exception) => exception.reason === 'late').length;
    assert.ok(
      metrics.includes(`payrail_reconciliation_open_exceptions{reason="late",age="0-1d"} ${open}`),
      metrics
        .split('\n')
        .filter((line) => line.includes('reconciliation'))
        .join('\n'),
    );
    const runs = await admin('GET', '/v1/reconciliation/runs?limit=10');
    assert.ok((runs.body.data as Json[]).length >= 3);
  });
});
