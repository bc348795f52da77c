// Money in on PGlite and PostgreSQL: PSP report ingestion (fees posted exactly once, items matched,
// discrepancies kept, failures retried by the clock) and bank statement ingestion (split credits
// fund a batch, a late line on a later day, re-ingestion changes nothing, payout debits and
// returns go to the payouts module through its interface).
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { StatementEntry, Statement } from '../../src/banking/camt053.ts';
import { BankUnavailableError, type BankStatementSource } from '../../src/banking/bank-client.ts';
import type { PayoutBankEvents } from '../../src/banking/payout-events.ts';
import { StatementIngestion } from '../../src/banking/statements.ts';
import { OffsetClock } from '../../src/clock.ts';
import { DomainError } from '../../src/errors.ts';
import { Ledger } from '../../src/ledger/index.ts';
import { MoneyInMetrics } from '../../src/observability/money-in-metrics.ts';
import { paymentAccounts } from '../../src/accounts/index.ts';
import { directCapture, refundTransfer } from '../../src/payments/postings.ts';
import { Registry } from 'prom-client';
import type { Queryable } from '../../src/storage/database.ts';
import type { SettlementReportSource } from '../../src/settlement/reports/client.ts';
import { SettlementReportIngestion } from '../../src/settlement/reports/ingestion.ts';
import {
  ReportUnavailableError,
  type ReportItem,
  type SettlementReport,
} from '../../src/settlement/reports/types.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/databases.ts';
import { seedBatch, seedPayout, testMerchant } from '../support/money-in-fixtures.ts';

function item(
  pspReference: string,
  type: 'charge' | 'refund',
  amount: bigint,
  fee: bigint,
  line = 1,
): ReportItem {
  return { line, pspReference, type, currency: 'usd', amount, fee, net: amount - fee };
}

class FakeReports implements SettlementReportSource {
  readonly reports = new Map<string, SettlementReport | Error>();
  calls = 0;
  async fetch(connector: string, reference: string): Promise<SettlementReport> {
    this.calls++;
    const report = this.reports.get(`${connector}:${reference}`);
    if (report === undefined) throw new ReportUnavailableError(connector, 'HTTP 404 not yet');
    if (report instanceof Error) throw report;
    return report;
  }
}

class FakeBank implements BankStatementSource {
  readonly days = new Map<string, StatementEntry[]>();
  readonly fetched: string[] = [];
  failOn: string | undefined;
  async fetch(date: string): Promise<Statement> {
    this.fetched.push(date);
    if (date === this.failOn) throw new BankUnavailableError('HTTP 503');
    return { statementId: `stmt-${date}`, entries: this.days.get(date) ?? [] };
  }
  add(
    date: string,
    entry: Partial<StatementEntry> & Pick<StatementEntry, 'entryReference' | 'amount'>,
  ) {
    const entries = this.days.get(date) ?? [];
    entries.push({
      index: entries.length + 1,
      direction: 'credit',
      status: 'booked',
      currency: 'usd',
      bookingDate: date,
      endToEndId: undefined,
      instructionId: undefined,
      transactionReference: undefined,
      remittance: undefined,
      returnReason: undefined,
      reversal: false,
      ...entry,
    });
    this.days.set(date, entries);
  }
}

class FakePayouts implements PayoutBankEvents {
  readonly calls: string[] = [];
  refuse: string | undefined;
  async paid(payoutId: string, traceId: string, bookedAt: Date, tx?: Queryable) {
    assert.ok(tx !== undefined, 'the event comes with the ingestion transaction');
    if (this.refuse === payoutId) throw new DomainError('payout_not_in_transit', 'conflict', 'no');
    await tx.query(`UPDATE payouts SET status = 'paid' WHERE id = $1`, [payoutId]);
    this.calls.push(`paid ${payoutId} ${traceId} ${bookedAt.toISOString().slice(0, 10)}`);
    return 'applied' as const;
  }
  async returned(payoutId: string, reasonCode: string, bookedAt: Date, tx?: Queryable) {
    assert.ok(tx !== undefined);
    await tx.query(`UPDATE payouts SET status = 'failed', failure_code = $2 WHERE id = $1`, [
      payoutId,
      reasonCode,
    ]);
    this.calls.push(`returned ${payoutId} ${reasonCode} ${bookedAt.toISOString().slice(0, 10)}`);
    return 'applied' as const;
  }
}

async function snapshot(db: Queryable): Promise<string> {
  const parts: string[] = [];
  for (const sql of [
    'SELECT id FROM ledger_transactions ORDER BY id',
    'SELECT id, posted_debits, posted_credits FROM ledger_accounts ORDER BY id',
    'SELECT id, status, psp_fee, funded_amount FROM settlement_batches ORDER BY id',
    'SELECT id, psp_fee FROM balance_transactions ORDER BY id',
    'SELECT key FROM money_in_discrepancies ORDER BY key',
    'SELECT entry_reference, direction, kind FROM bank_statement_entries ORDER BY 1, 2',
  ])
    parts.push(
      JSON.stringify((await db.query(sql)).rows, (_, value) =>
        typeof value === 'bigint' ? value.toString() : value,
      ),
    );
  return parts.join('\n');
}

const realNow = () => Date.parse('2026-12-08T12:00:00Z');

for (const kind of databaseKinds) {
  describe(`money in on ${kind}`, () => {
    let testDatabase: TestDatabase;
    let ledger: Ledger;
    let clock: OffsetClock;
    let reports: FakeReports;
    let bank: FakeBank;
    let payouts: FakePayouts;
    let reportIngestion: SettlementReportIngestion;
    let statements: StatementIngestion;
    let registry: Registry;
    let sequence = 0;
    const next = () => `${++sequence}`.padStart(8, '0');

    before(async () => {
      testDatabase = await openTestDatabase(kind);
    });
    after(() => testDatabase.drop());
    beforeEach(() => {
      clock = new OffsetClock(realNow);
      ledger = new Ledger(testDatabase.database, { clock });
      reports = new FakeReports();
      bank = new FakeBank();
      payouts = new FakePayouts();
      registry = new Registry();
      const metrics = new MoneyInMetrics(registry);
      reportIngestion = new SettlementReportIngestion(
        { database: testDatabase.database, ledger, source: reports, clock, metrics },
        { batchesPerCallMax: 50, retryDelayMs: 60_000, retryDelayMsMax: 3_600_000 },
      );
      statements = new StatementIngestion(
        {
          database: testDatabase.database,
          ledger,
          source: bank,
          payoutEvents: payouts,
          clock,
          metrics,
        },
        { daysPerCallMax: 10, completeAfterDays: 2, initialLookbackDays: 3 },
      );
    });

    async function acknowledgedBatch(accepted = true) {
      const n = next();
      const batchId = `sb_batch${n}`;
      const reference = `po_settle${n}`;
      await seedBatch(testDatabase.database, {
        id: batchId,
        connector: 'stripe',
        currency: 'usd',
        settlementReference: reference,
        cutoffAt: new Date(Date.parse('2026-12-07T18:00:00Z') - Number(n) * 60_000),
        items: [
          { key: `a${n}`, type: 'charge', pspReference: `pi_psp_a${n}`, amount: 10_000n },
          { key: `b${n}`, type: 'charge', pspReference: `pi_psp_b${n}`, amount: 5_000n },
          { key: `c${n}`, type: 'refund', pspReference: `re_psp_c${n}`, amount: 2_000n },
          { key: `d${n}`, type: 'charge', pspReference: `pi_psp_d${n}`, amount: 700n, accepted },
        ],
      });
      return { batchId, reference, n };
    }

    function fullReport(reference: string, n: string): SettlementReport {
      return {
        connector: 'stripe',
        settlementReference: reference,
        items: [
          item(`pi_psp_a${n}`, 'charge', 10_000n, 320n, 1),
          item(`pi_psp_b${n}`, 'charge', 5_000n, 175n, 2),
          item(`re_psp_c${n}`, 'refund', -2_000n, 0n, 3),
          item(`pi_psp_d${n}`, 'charge', 700n, 50n, 4),
        ],
      };
    }

    test('the PSP fee is posted once per batch, with each item its fee', async () => {
      const { batchId, reference, n } = await acknowledgedBatch();
      reports.reports.set(`stripe:${reference}`, fullReport(reference, n));
      const first = await reportIngestion.ingestBatch(batchId);
      assert.equal(first.status, 'ingested');
      assert.ok(first.status === 'ingested');
      assert.equal(first.pspFee, 545n);
      assert.equal(first.matched, 4);
      assert.equal(first.discrepancies, 0);
      const fees = await testDatabase.database.query<{ id: string; psp_fee: bigint }>(
        'SELECT id, psp_fee FROM balance_transactions WHERE batch_id = $1 ORDER BY id',
        [batchId],
      );
      assert.deepEqual(
        fees.rows.map((row) => [row.id, row.psp_fee]),
        [
          [`txn_a${n}`, 320n],
          [`txn_b${n}`, 175n],
          [`txn_c${n}`, 0n],
          [`txn_d${n}`, 50n],
        ],
      );
      const transfer = await ledger.getTransaction(`psp_fee:${batchId}`);
      assert.deepEqual(
        transfer?.legs.map((leg) => [leg.accountId, leg.direction, leg.amount]),
        [
          ['psp:stripe:fees:usd', 'debit', 545n],
          ['psp:stripe:receivable:usd', 'credit', 545n],
        ],
      );
      const before = await snapshot(testDatabase.database);
      assert.deepEqual(await reportIngestion.ingestBatch(batchId), { status: 'already_ingested' });
      const due = await reportIngestion.ingestDue();
      assert.equal(due.ingested, 0);
      assert.equal(await snapshot(testDatabase.database), before);
    });

    test('unknown, missing and mismatching items are discrepancies, not blockers', async () => {
      const { batchId, reference, n } = await acknowledgedBatch(false);
      reports.reports.set(`stripe:${reference}`, {
        connector: 'stripe',
        settlementReference: reference,
        items: [
          item(`pi_psp_a${n}`, 'charge', 10_001n, 320n, 1),
          item(`re_psp_c${n}`, 'refund', -2_000n, 0n, 2),
          item(`pi_psp_zz${n}`, 'charge', 999n, 9n, 3),
        ],
      });
      const result = await reportIngestion.ingestBatch(batchId);
      assert.ok(result.status === 'ingested');
      assert.equal(result.pspFee, 320n);
      const rendered = await registry.metrics();
      assert.match(rendered, /payrail_settlement_report_items_total\{connector="stripe"\} 3/);
      assert.match(rendered, /payrail_money_in_discrepancies_total\{source="psp_report"\} 3/);
      const found = await testDatabase.database.query<{ kind: string; reference: string }>(
        'SELECT kind, reference FROM money_in_discrepancies WHERE batch_id = $1 ORDER BY kind',
        [batchId],
      );
      assert.deepEqual(
        found.rows.map((row) => [row.kind, row.reference]),
        [
          ['report_amount_mismatch', `charge:pi_psp_a${n}`],
          ['report_missing_item', `txn_b${n}`],
          ['report_unknown_item', `charge:pi_psp_zz${n}`],
        ],
      );
      const batch = await testDatabase.database.query<{ psp_fee: bigint }>(
        'SELECT psp_fee FROM settlement_batches WHERE id = $1',
        [batchId],
      );
      assert.equal(batch.rows[0]?.psp_fee, 320n);
    });

    test('a report not available yet is tried again after the delay, by the clock', async () => {
      const { batchId, reference, n } = await acknowledgedBatch();
      const first = await reportIngestion.ingestDue();
      assert.ok(first.failed >= 1);
      const calls = reports.calls;
      assert.equal((await reportIngestion.ingestDue()).batches, 0, 'not due again at once');
      assert.equal(reports.calls, calls);
      reports.reports.set(`stripe:${reference}`, fullReport(reference, n));
      clock.advance(61_000);
      const second = await reportIngestion.ingestDue();
      assert.ok(second.ingested >= 1);
      const fetches = await testDatabase.database.query<{
        attempts: number;
        ingested_at: Date | null;
      }>('SELECT attempts, ingested_at FROM settlement_report_fetches WHERE batch_id = $1', [
        batchId,
      ]);
      assert.equal(fetches.rows[0]?.attempts, 2);
      assert.ok(fetches.rows[0]?.ingested_at instanceof Date);
    });

    test('a split settlement funds its batch with the second credit, the late one on a later day', async () => {
      const { batchId, reference, n } = await acknowledgedBatch();
      reports.reports.set(`stripe:${reference}`, fullReport(reference, n));
      await reportIngestion.ingestBatch(batchId);
      // accepted 13,700 − fee 545 = 13,155, in two credits
      bank.add('2026-12-08', { entryReference: `E-${n}-1`, amount: 8_000n, remittance: reference });
      const first = await statements.ingestThrough('2026-12-08');
      assert.deepEqual(first.days, ['2026-12-05', '2026-12-06', '2026-12-07', '2026-12-08']);
      assert.equal(first.settlementCredits, 1);
      assert.equal(first.batchesFunded, 0);
      assert.equal(first.cursor, '2026-12-06', 'the last two days are not complete yet');
      let batch = await testDatabase.database.query<{ status: string; funded_amount: bigint }>(
        'SELECT status, funded_amount FROM settlement_batches WHERE id = $1',
        [batchId],
      );
      assert.deepEqual(
        [batch.rows[0]?.status, batch.rows[0]?.funded_amount],
        ['acknowledged', 8_000n],
      );
      // The bank books the rest two days later; the clock moves there.
      clock.advance(2 * 86_400_000);
      bank.add('2026-12-10', {
        entryReference: `E-${n}-2`,
        amount: 5_155n,
        remittance: `Settlement ${reference}`,
      });
      const second = await statements.ingestThrough();
      assert.deepEqual(second.days, ['2026-12-07', '2026-12-08', '2026-12-09', '2026-12-10']);
      assert.equal(second.settlementCredits, 1);
      assert.equal(second.batchesFunded, 1);
      batch = await testDatabase.database.query(
        'SELECT status, funded_amount FROM settlement_batches WHERE id = $1',
        [batchId],
      );
      assert.deepEqual([batch.rows[0]?.status, batch.rows[0]?.funded_amount], ['funded', 13_155n]);
      const credit = await ledger.getTransaction(`bank_credit:E-${n}-2`);
      assert.deepEqual(
        credit?.legs.map((leg) => [leg.accountId, leg.direction, leg.amount]),
        [
          ['bank:usd', 'debit', 5_155n],
          ['psp:stripe:receivable:usd', 'credit', 5_155n],
        ],
      );
      // The same statements again (and the same lines on other days): nothing changes.
      const before = await snapshot(testDatabase.database);
      bank.add('2026-12-09', { entryReference: `E-${n}-1`, amount: 8_000n, remittance: reference });
      const again = await statements.applyStatement(await bank.fetch('2026-12-10'));
      const late = await statements.applyStatement(await bank.fetch('2026-12-09'));
      assert.equal(again.settlementCredits + late.settlementCredits, 0);
      assert.equal(await snapshot(testDatabase.database), before);
    });

    test('captures, refunds, the PSP fee and the bank credits leave the receivable at zero', async () => {
      const { batchId, reference, n } = await acknowledgedBatch();
      const movement = { merchantId: testMerchant, connector: 'stripe', currency: 'usd' };
      await ledger.createAccounts(paymentAccounts(testMerchant, 'stripe', 'usd'));
      const receivable = 'psp:stripe:receivable:usd';
      const before = (await ledger.getAccount(receivable))?.balance.posted ?? 0n;
      await ledger.transferBatch([
        directCapture(`a${n}`, movement, 10_000n),
        directCapture(`b${n}`, movement, 5_000n),
        directCapture(`d${n}`, movement, 700n),
        directCapture(`cp${n}`, movement, 2_000n),
        refundTransfer(`c${n}`, movement, 2_000n),
      ]);
      reports.reports.set(`stripe:${reference}`, fullReport(reference, n));
      await reportIngestion.ingestBatch(batchId);
      bank.add('2026-11-20', {
        entryReference: `Z-${n}-1`,
        amount: 13_000n,
        remittance: reference,
      });
      bank.add('2026-11-20', { entryReference: `Z-${n}-2`, amount: 155n, remittance: reference });
      await statements.applyStatement(await bank.fetch('2026-11-20'));
      // The capture of the refunded payment settled in an earlier batch (not modelled here).
      const after = (await ledger.getAccount(receivable))?.balance.posted ?? 0n;
      assert.equal(
        after - before,
        2_000n,
        'only the earlier capture of the refunded payment remains',
      );
      const fees = await testDatabase.database.query<{ total: bigint }>(
        `SELECT coalesce(sum(psp_fee), 0)::bigint AS total FROM balance_transactions WHERE batch_id = $1`,
        [batchId],
      );
      assert.equal(fees.rows[0]?.total, 545n);
    });

    test('credits seen before the report fund the batch when the report gives the fee', async () => {
      const { batchId, reference, n } = await acknowledgedBatch();
      const statement: Statement = {
        statementId: 's',
        entries: [
          {
            index: 1,
            entryReference: `EB-${n}`,
            direction: 'credit',
            status: 'booked',
            amount: 13_155n,
            currency: 'usd',
            bookingDate: '2026-12-08',
            endToEndId: undefined,
            instructionId: undefined,
            transactionReference: undefined,
            remittance: reference,
            returnReason: undefined,
            reversal: false,
          },
        ],
      };
      const applied = await statements.applyStatement(statement);
      assert.equal(applied.batchesFunded, 0);
      reports.reports.set(`stripe:${reference}`, fullReport(reference, n));
      const result = await reportIngestion.ingestBatch(batchId);
      assert.ok(result.status === 'ingested' && result.funded);
    });

    test('a negative batch is settled by a debit, found by its end-to-end id', async () => {
      const n = next();
      const batchId = `sb_negative${n}`;
      const reference = `po_negative${n}`;
      await seedBatch(testDatabase.database, {
        id: batchId,
        connector: 'stripe',
        currency: 'usd',
        settlementReference: reference,
        cutoffAt: new Date(Date.parse('2026-12-01T18:00:00Z') - Number(n) * 60_000),
        items: [
          { key: `n${n}`, type: 'charge', pspReference: `pi_psp_n${n}`, amount: 1_000n },
          { key: `m${n}`, type: 'refund', pspReference: `re_psp_m${n}`, amount: 3_000n },
        ],
      });
      reports.reports.set(`stripe:${reference}`, {
        connector: 'stripe',
        settlementReference: reference,
        items: [
          item(`pi_psp_n${n}`, 'charge', 1_000n, 30n, 1),
          item(`re_psp_m${n}`, 'refund', -3_000n, 10n, 2),
        ],
      });
      await reportIngestion.ingestBatch(batchId);
      bank.add('2026-11-30', {
        entryReference: `ND-${n}`,
        direction: 'debit',
        amount: 2_040n,
        endToEndId: reference,
      });
      const applied = await statements.applyStatement(await bank.fetch('2026-11-30'));
      assert.equal(applied.settlementCredits, 1);
      assert.equal(applied.batchesFunded, 1);
      const debit = await ledger.getTransaction(`bank_debit:ND-${n}`);
      assert.deepEqual(
        debit?.legs.map((leg) => [leg.accountId, leg.direction, leg.amount]),
        [
          ['psp:stripe:receivable:usd', 'debit', 2_040n],
          ['bank:usd', 'credit', 2_040n],
        ],
      );
    });

    test('a day whose statement cannot be fetched stops the call there; the next call resumes it', async () => {
      clock.advance(5 * 86_400_000);
      bank.failOn = '2026-12-12';
      const first = await statements.ingestThrough();
      assert.equal(first.failure?.day, '2026-12-12');
      assert.match(first.failure?.message ?? '', /503/);
      assert.ok(!first.days.includes('2026-12-12'));
      bank.failOn = undefined;
      const second = await statements.ingestThrough();
      assert.equal(second.failure, undefined);
      assert.ok(second.days.includes('2026-12-12'));
      assert.equal(second.days.at(-1), '2026-12-13', 'never past the system today');
    });

    if (kind === 'postgres')
      test('concurrent ingestions of the same report and the same statement apply once', async () => {
        const { batchId, reference, n } = await acknowledgedBatch();
        reports.reports.set(`stripe:${reference}`, fullReport(reference, n));
        const results = await Promise.all([
          reportIngestion.ingestBatch(batchId),
          reportIngestion.ingestBatch(batchId),
          reportIngestion.ingestBatch(batchId),
        ]);
        assert.equal(results.filter((result) => result.status === 'ingested').length, 1);
        const statement: Statement = {
          statementId: 'c',
          entries: [1, 2].map((index) => ({
            index,
            entryReference: `CC-${n}-${index}`,
            direction: 'credit' as const,
            status: 'booked' as const,
            amount: index === 1 ? 10_000n : 3_155n,
            currency: 'usd',
            bookingDate: '2026-12-08',
            endToEndId: undefined,
            instructionId: undefined,
            transactionReference: undefined,
            remittance: reference,
            returnReason: undefined,
            reversal: false,
          })),
        };
        const applied = await Promise.all(
          [1, 2, 3, 4].map(() => statements.applyStatement(statement)),
        );
        assert.equal(
          applied.reduce((total, part) => total + part.settlementCredits, 0),
          2,
        );
        assert.equal(
          applied.reduce((total, part) => total + part.batchesFunded, 0),
          1,
        );
        const batch = await testDatabase.database.query<{ status: string; funded_amount: bigint }>(
          'SELECT status, funded_amount FROM settlement_batches WHERE id = $1',
          [batchId],
        );
        assert.deepEqual(
          [batch.rows[0]?.status, batch.rows[0]?.funded_amount],
          ['funded', 13_155n],
        );
      });

    test('payout debits and returns go to the payouts module; unknown ones are discrepancies', async () => {
      const n = next();
      await seedPayout(testDatabase.database, {
        id: `po_payout${n}`,
        amount: 2_500n,
        currency: 'usd',
        traceId: `trc_${n}`,
      });
      await seedPayout(testDatabase.database, {
        id: `po_refused${n}`,
        amount: 100n,
        currency: 'usd',
        traceId: `trc_r${n}`,
      });
      bank.add('2026-12-08', {
        entryReference: `trc_${n}`,
        direction: 'debit',
        amount: 2_500n,
        endToEndId: `po_payout${n}`,
        instructionId: `trc_${n}`,
      });
      bank.add('2026-12-08', {
        entryReference: `D-${n}-x`,
        direction: 'debit',
        amount: 300n,
        endToEndId: `po_nothere${n}`,
      });
      bank.add('2026-12-08', {
        entryReference: `trc_r${n}`,
        direction: 'debit',
        amount: 100n,
        endToEndId: `po_refused${n}`,
      });
      bank.add('2026-12-08', {
        entryReference: `C-${n}-x`,
        amount: 42n,
        remittance: 'nothing known',
      });
      bank.add('2026-12-08', {
        entryReference: `M-${n}`,
        direction: 'debit',
        amount: 2_501n,
        endToEndId: `po_payout${n}`,
      });
      payouts.refuse = `po_refused${n}`;
      const statement = await bank.fetch('2026-12-08');
      const first = await statements.applyStatement(statement);
      assert.equal(first.payoutsPaid, 1);
      assert.equal(first.unmatched, 4);
      assert.match(
        await registry.metrics(),
        /payrail_bank_statement_entries_total\{kind="unmatched"\} 4/,
      );
      bank.days.set('2026-12-10', []);
      bank.add('2026-12-10', {
        entryReference: `trc_${n}`,
        amount: 2_500n,
        endToEndId: `po_payout${n}`,
        returnReason: 'AC04',
      });
      const second = await statements.applyStatement(await bank.fetch('2026-12-10'));
      assert.equal(second.payoutsReturned, 1);
      assert.deepEqual(payouts.calls.slice(-2), [
        `paid po_payout${n} trc_${n} 2026-12-08`,
        `returned po_payout${n} AC04 2026-12-10`,
      ]);
      const kinds = await testDatabase.database.query<{ kind: string }>(
        `SELECT kind FROM money_in_discrepancies WHERE reference IN ($1, $2, $3, $4) ORDER BY kind`,
        [`D-${n}-x`, `trc_r${n}`, `C-${n}-x`, `M-${n}`],
      );
      assert.deepEqual(
        kinds.rows.map((row) => row.kind),
        [
          'bank_amount_mismatch',
          'bank_payout_event_refused',
          'bank_unmatched_credit',
          'bank_unmatched_debit',
        ],
      );
      const before = await snapshot(testDatabase.database);
      const again = await statements.applyStatement(statement);
      assert.equal(again.payoutsPaid + again.unmatched, 0);
      assert.equal(payouts.calls.length, 2);
      assert.equal(await snapshot(testDatabase.database), before);
    });
  });
}
