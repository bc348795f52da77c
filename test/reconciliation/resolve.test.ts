// Resolutions move money only where the ledger is wrong, on the account in question, once:
//   a missing PSP line           the PSP receivable gives it up (to recon:adjustments)
//   a fee variance               nothing: the fee was posted as the PSP reported it
//   an unknown bank credit       the bank account takes it, only if the ledger never posted it;
//                                the entry is then claimed so the statement reader never does
//   an adjustment                refused where no account is in question
//   a drift                      one open exception per account, however many runs see it
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { clockFrom } from '../../src/clock.ts';
import { Ledger, verifyLedger } from '../../src/ledger/index.ts';
import { ReconciliationService } from '../../src/reconciliation/service.ts';
import { openTestDatabase, type TestDatabase } from '../support/databases.ts';
import { seedBatch } from '../support/money-in-fixtures.ts';

describe('reconciliation resolutions post where the ledger is wrong', () => {
  let db: TestDatabase;
  let ledger: Ledger;
  let service: ReconciliationService;
  const exceptionId = async (key: string): Promise<string> => {
    const found = await db.database.query<{ id: string }>(
      'SELECT id FROM recon_exceptions WHERE key = $1',
      [key],
    );
    const id = found.rows[0]?.id;
    assert.ok(id !== undefined, `no exception ${key}`);
    return id;
  };
  const posted = async (account: string): Promise<bigint> =>
    (await ledger.getAccount(account))?.balance.posted ?? 0n;
  const writeOff = (id: string) =>
    service.resolve(id, { action: 'write_off', reason: 'accepted as is', actor: 'ops' });

  before(async () => {
    db = await openTestDatabase('pglite');
    const clock = clockFrom(() => new Date('2026-12-12T12:00:00Z'));
    ledger = new Ledger(db.database, { clock });
    service = new ReconciliationService({ database: db.database, ledger, clock });
    await seedBatch(db.database, {
      id: 'sb_resolve01',
      connector: 'stripe',
      currency: 'usd',
      settlementReference: 'st_rs_1',
      cutoffAt: new Date('2026-12-07T18:00:00Z'),
      items: [
        { key: 'rs0000c1', type: 'charge', pspReference: 'ch_r1', amount: 10000n },
        { key: 'rs0000c2', type: 'charge', pspReference: 'ch_r2', amount: 5000n },
      ],
    });
    // ch_r1 reported with a fee one above the schedule (2.9 % + 30 = 320); ch_r2 not at all.
    await db.database.query(
      `INSERT INTO settlement_report_lines (batch_id, line, type, psp_reference, currency, amount, fee, net)
       VALUES ('sb_resolve01', 2, 'charge', 'ch_r1', 'usd', 10000, 321, 9679)`,
    );
    await db.database.query(
      `UPDATE settlement_batches SET psp_fee = 321 WHERE id = 'sb_resolve01'`,
    );
    // Two credits no batch names: one the ledger never posted, one it posted (kind says so).
    await db.database.query(
      `INSERT INTO bank_statement_entries (entry_reference, direction, booking_date, currency,
         amount, kind, end_to_end_id, remittance, seen_at)
       VALUES ('EU-1', 'credit', '2026-12-08', 'usd', 999, 'unmatched', NULL, 'who knows', now()),
              ('EP-1', 'credit', '2026-12-08', 'usd', 555, 'settlement_credit', NULL, 'x', now())`,
    );
    // A credit only an uploaded statement showed (the pipeline's reader has not seen it).
    await db.database.query(
      `INSERT INTO recon_records (source, row_key, line, kind, trace_id, currency, amount,
         value_date, seen_on)
       VALUES ('bank_statement', 'EF-1:credit', 3, 'credit', 'e2e-f', 'usd', 444,
               '2026-12-08', '2026-12-08')`,
    );
    const run = await service.run({ dryRun: false, asOf: '2026-12-10' });
    assert.equal(run.status, 'succeeded', run.error ?? '');
  });
  after(() => db.drop());

  test('a missing PSP line: the receivable gives it up, once', async () => {
    const receivable = 'psp:stripe:receivable:usd';
    const before = await posted(receivable);
    const id = await exceptionId('missing:item:txn_rs0000c2');
    const resolved = await writeOff(id);
    assert.equal(resolved.ledgerTransactionId, `recon_resolution:${id}`);
    const transfer = await ledger.getTransaction(`recon_resolution:${id}`);
    assert.deepEqual(
      transfer?.legs.map((leg) => [leg.accountId, leg.direction, leg.amount]),
      [
        ['recon:adjustments:usd', 'debit', 5000n],
        [receivable, 'credit', 5000n],
      ],
    );
    assert.equal(before - (await posted(receivable)), 5000n);
  });

  test('a fee variance: written off with no posting; an adjustment of it is refused', async () => {
    const id = await exceptionId('fee_variance:item:txn_rs0000c1');
    await assert.rejects(
      service.resolve(id, { action: 'adjust', reason: 'x', actor: 'ops', amount: 1n }),
      (error: Error & { param?: string }) => error.param === 'action',
    );
    const resolved = await writeOff(id);
    assert.equal(resolved.status, 'resolved');
    assert.equal(resolved.ledgerTransactionId, null);
  });

  test('a bank credit the ledger never posted: the bank takes it, and the entry is claimed', async () => {
    const id = await exceptionId('unexpected:bank_statement:EU-1:credit');
    const bankBefore = await posted('bank:usd');
    const resolved = await writeOff(id);
    assert.ok(resolved.ledgerTransactionId !== null);
    assert.equal((await posted('bank:usd')) - bankBefore, 999n);
    const entry = await db.database.query<{ kind: string; ledger_transaction_id: string }>(
      `SELECT kind, ledger_transaction_id FROM bank_statement_entries WHERE entry_reference = 'EU-1'`,
    );
    assert.deepEqual(entry.rows[0], {
      kind: 'written_off',
      ledger_transaction_id: resolved.ledgerTransactionId,
    });
  });

  test('a bank credit only a file showed: the bank takes it, and the reader will find it claimed', async () => {
    const id = await exceptionId('unexpected:bank_statement:EF-1:credit');
    const bankBefore = await posted('bank:usd');
    const resolved = await writeOff(id);
    assert.equal((await posted('bank:usd')) - bankBefore, 444n);
    const entry = await db.database.query<{ kind: string; amount: bigint; booking_date: string }>(
      `SELECT kind, amount, booking_date FROM bank_statement_entries WHERE entry_reference = 'EF-1'`,
    );
    assert.deepEqual(entry.rows[0], {
      kind: 'written_off',
      amount: 444n,
      booking_date: '2026-12-08',
    });
    assert.ok(resolved.ledgerTransactionId !== null);
  });

  test('a bank credit the ledger already posted: written off with no second posting', async () => {
    const id = await exceptionId('unexpected:bank_statement:EP-1:credit');
    const bankBefore = await posted('bank:usd');
    const resolved = await writeOff(id);
    assert.equal(resolved.ledgerTransactionId, null);
    assert.equal(await posted('bank:usd'), bankBefore);
    const report = await verifyLedger(db.database);
    assert.equal(report.ok, true, JSON.stringify(report.problems));
  });

  test('a drift seen by several runs is one open exception per account', async () => {
    await service.run({ dryRun: false, asOf: '2026-12-11' });
    await service.run({ dryRun: false, asOf: '2026-12-12' });
    const open = await db.database.query<{ account: string; count: number }>(
      `SELECT details ->> 'account' AS account, count(*)::int AS count FROM recon_exceptions
        WHERE reason = 'balance_drift' AND status = 'open' GROUP BY 1`,
    );
    assert.ok(open.rows.length > 0, 'the seeded world drifts (no ledger postings for its items)');
    assert.ok(
      open.rows.every((row) => row.count === 1),
      JSON.stringify(open.rows),
    );
  });

  test('a run as of a day after tomorrow is refused', async () => {
    await assert.rejects(
      service.run({ dryRun: false, asOf: '2026-12-14' }),
      (error: Error & { param?: string }) => error.param === 'as_of',
    );
  });
});
