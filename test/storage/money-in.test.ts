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
import type { SettlementReportSource } from '../../src/settlement/reports/client.ts';
import { SettlementReportIngestion } from '../../src/settlement/reports/ingestion.ts';
import {
  ReportFormatError,
  ReportUnavailableError,
  type ReportItem,
  type ReportPage,
} from '../../src/settlement/reports/types.ts';
import type { Database, Queryable, QueryResult, Row } from '../../src/storage/database.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/databases.ts';
import {
  seedBatch,
  seedLargeBatch,
  seedPayout,
  testMerchant,
} from '../support/money-in-fixtures.ts';

function item(
  pspReference: string,
  type: 'charge' | 'refund',
  amount: bigint,
  fee: bigint,
  line = 1,
): ReportItem {
  return { line, pspReference, type, currency: 'usd', amount, fee, net: amount - fee };
}

/** Reports by `connector:reference`, handed out `pageSize` items a page. */
class FakeReports implements SettlementReportSource {
  readonly reports = new Map<string, readonly ReportItem[] | Error>();
  pageSize = 2;
  /** Fails (the PSP's connection lost) when asked for this page (0-based), once. */
  failAtPage: number | undefined;
  calls = 0;
  async *pages(connector: string, reference: string): AsyncGenerator<ReportPage> {
    this.calls++;
    const report = this.reports.get(`${connector}:${reference}`);
    if (report === undefined) throw new ReportUnavailableError(connector, 'HTTP 404 not yet');
    if (report instanceof Error) throw report;
    for (let start = 0, page = 0; start < report.length; start += this.pageSize, page++) {
      if (page === this.failAtPage) {
        this.failAtPage = undefined;
        throw new ReportUnavailableError(connector, 'the report broke off');
      }
      yield report.slice(start, start + this.pageSize);
    }
  }
}

/** A database whose next transactions fail before they start (a crash after staging). */
function crashingTransactions(database: Database, failures: { count: number }): Database {
  return {
    kind: database.kind,
    query: <R extends Row = Row>(sql: string, parameters?: readonly unknown[]) =>
      database.query<R>(sql, parameters) as Promise<QueryResult<R>>,
    exec: (sql) => database.exec(sql),
    close: () => database.close(),
    transaction: (work, options) => {
      if (failures.count > 0) {
        failures.count--;
        return Promise.reject(new Error('the process died'));
      }
      return database.transaction(work, options);
    },
  };
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

async function snapshot(db: Database): Promise<string> {
  const parts: string[] = [];
  for (const sql of [
    'SELECT id FROM ledger_transactions ORDER BY id',
    'SELECT id, posted_debits, posted_credits FROM ledger_accounts ORDER BY id',
    'SELECT id, status, psp_fee, funded_amount FROM settlement_batches ORDER BY id',
    'SELECT batch_id, line, psp_reference, amount, fee FROM settlement_report_lines ORDER BY 1, 2',
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
        // Two lines per insert: staging in several statements, even for small reports.
        {
          batchesPerCallMax: 50,
          retryDelayMs: 60_000,
          retryDelayMsMax: 3_600_000,
          stageLinesMax: 2,
        },
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

    function fullReport(n: string): ReportItem[] {
      return [
        item(`pi_psp_a${n}`, 'charge', 10_000n, 320n, 1),
        item(`pi_psp_b${n}`, 'charge', 5_000n, 175n, 2),
        item(`re_psp_c${n}`, 'refund', -2_000n, 0n, 3),
        item(`pi_psp_d${n}`, 'charge', 700n, 50n, 4),
      ];
    }

    test('the PSP fee is posted once per batch, the fee of each item kept in its report line', async () => {
      const { batchId, reference, n } = await acknowledgedBatch();
      reports.reports.set(`stripe:${reference}`, fullReport(n));
      const first = await reportIngestion.ingestBatch(batchId);
      assert.equal(first.status, 'ingested');
      assert.ok(first.status === 'ingested');
      assert.equal(first.pspFee, 545n);
      assert.equal(first.matched, 4);
      assert.equal(first.discrepancies, 0);
      const lines = await testDatabase.database.query<{
        line: number;
        type: string;
        psp_reference: string;
        amount: bigint;
        fee: bigint;
        net: bigint;
      }>(
        `SELECT line, type, psp_reference, amount, fee, net FROM settlement_report_lines
          WHERE batch_id = $1 ORDER BY line`,
        [batchId],
      );
      assert.deepEqual(
        lines.rows.map((row) => [
          row.line,
          row.type,
          row.psp_reference,
          row.amount,
          row.fee,
          row.net,
        ]),
        [
          [1, 'charge', `pi_psp_a${n}`, 10_000n, 320n, 9_680n],
          [2, 'charge', `pi_psp_b${n}`, 5_000n, 175n, 4_825n],
          [3, 'refund', `re_psp_c${n}`, -2_000n, 0n, -2_000n],
          [4, 'charge', `pi_psp_d${n}`, 700n, 50n, 650n],
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
      reports.reports.set(`stripe:${reference}`, [
        item(`pi_psp_a${n}`, 'charge', 10_001n, 320n, 1),
        item(`re_psp_c${n}`, 'refund', -2_000n, 0n, 2),
        item(`pi_psp_zz${n}`, 'charge', 999n, 9n, 3),
      ]);
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

    test('every kind of difference, with its key, amount and details', async () => {
      const { batchId, reference, n } = await acknowledgedBatch(false);
      // An item clearing presented without a PSP reference (none is made so; still reported).
      await testDatabase.database.query(
        `UPDATE balance_transactions SET psp_reference = NULL WHERE id = $1`,
        [`txn_c${n}`],
      );
      reports.reports.set(`stripe:${reference}`, [
        item(`pi_psp_a${n}`, 'charge', 10_001n, 320n, 1),
        item(`pi_psp_a${n}`, 'charge', 10_000n, 1n, 2),
        { ...item(`re_psp_c${n}`, 'refund', -2_000n, 5n, 4), currency: 'eur' },
        item(`pi_psp_zz${n}`, 'charge', 999n, 9n, 5),
        item(`pi_psp_b${n}`, 'refund', -5_000n, 0n, 7),
      ]);
      const result = await reportIngestion.ingestBatch(batchId);
      assert.ok(result.status === 'ingested');
      assert.deepEqual(
        [result.items, result.matched, result.pspFee, result.discrepancies],
        [5, 1, 320n, 7],
      );
      const found = await testDatabase.database.query<{
        key: string;
        kind: string;
        reference: string;
        amount: bigint | null;
        currency: string;
        connector: string;
        details: unknown;
      }>(
        `SELECT key, kind, reference, amount, currency, connector, details
           FROM money_in_discrepancies WHERE batch_id = $1 ORDER BY key`,
        [batchId],
      );
      const line = (
        number: number,
        type: string,
        amount: string,
        fee: string,
        currency = 'usd',
      ) => ({
        line: number,
        type,
        amount,
        fee,
        currency,
      });
      const prefix = `psp_report:${batchId}:`;
      assert.deepEqual(
        found.rows.map((row) => [row.key, row.kind, row.reference, row.amount, row.details]),
        [
          [
            `${prefix}report_amount_mismatch:charge:pi_psp_a${n}`,
            'report_amount_mismatch',
            `charge:pi_psp_a${n}`,
            1n,
            { ...line(1, 'charge', '10001', '320'), item: `txn_a${n}`, payrail_amount: '10000' },
          ],
          [
            `${prefix}report_duplicate_item:charge:pi_psp_a${n}:2`,
            'report_duplicate_item',
            `charge:pi_psp_a${n}:2`,
            10_000n,
            line(2, 'charge', '10000', '1'),
          ],
          [
            `${prefix}report_missing_item:txn_b${n}`,
            'report_missing_item',
            `txn_b${n}`,
            5_000n,
            { type: 'charge', psp_reference: `pi_psp_b${n}` },
          ],
          [
            `${prefix}report_missing_item:txn_c${n}`,
            'report_missing_item',
            `txn_c${n}`,
            -2_000n,
            { type: 'refund', psp_reference: null },
          ],
          [
            `${prefix}report_unknown_item:charge:pi_psp_zz${n}`,
            'report_unknown_item',
            `charge:pi_psp_zz${n}`,
            999n,
            line(5, 'charge', '999', '9'),
          ],
          [
            `${prefix}report_unknown_item:refund:pi_psp_b${n}`,
            'report_unknown_item',
            `refund:pi_psp_b${n}`,
            -5_000n,
            line(7, 'refund', '-5000', '0'),
          ],
          [
            `${prefix}report_unknown_item:refund:re_psp_c${n}`,
            'report_unknown_item',
            `refund:re_psp_c${n}`,
            -2_000n,
            line(4, 'refund', '-2000', '5', 'eur'),
          ],
        ],
      );
      assert.ok(found.rows.every((row) => row.currency === 'usd' && row.connector === 'stripe'));
    });

    test('two items under one PSP reference: the first is matched, the other not missing', async () => {
      const { batchId, reference, n } = await acknowledgedBatch();
      // b takes a's reference (clearing never makes this); c and d share one no line names.
      await testDatabase.database.query(
        `UPDATE balance_transactions SET psp_reference = $2, type = 'charge', amount = 10000, net = 10000
          WHERE id = $1`,
        [`txn_b${n}`, `pi_psp_a${n}`],
      );
      await testDatabase.database.query(
        `UPDATE balance_transactions SET psp_reference = $2, type = 'charge', amount = 700, net = 700
          WHERE id = $1`,
        [`txn_c${n}`, `pi_psp_d${n}`],
      );
      reports.reports.set(`stripe:${reference}`, [
        item(`pi_psp_a${n}`, 'charge', 10_000n, 320n, 1),
        item(`pi_psp_zz${n}`, 'charge', 999n, 9n, 2),
      ]);
      const result = await reportIngestion.ingestBatch(batchId);
      assert.ok(result.status === 'ingested');
      assert.deepEqual([result.matched, result.pspFee, result.discrepancies], [1, 320n, 3]);
      const found = await testDatabase.database.query<{ kind: string; reference: string }>(
        'SELECT kind, reference FROM money_in_discrepancies WHERE batch_id = $1 ORDER BY kind, reference',
        [batchId],
      );
      assert.deepEqual(
        found.rows.map((row) => [row.kind, row.reference]),
        [
          ['report_missing_item', `txn_c${n}`],
          ['report_missing_item', `txn_d${n}`],
          ['report_unknown_item', `charge:pi_psp_zz${n}`],
        ],
      );
    });

    test('a line in another currency than its batch is a mismatch and its fee is not taken', async () => {
      const { batchId, reference, n } = await acknowledgedBatch();
      const report = fullReport(n);
      report[1] = { ...(report[1] as ReportItem), currency: 'eur' };
      reports.reports.set(`stripe:${reference}`, report);
      const result = await reportIngestion.ingestBatch(batchId);
      assert.ok(result.status === 'ingested');
      assert.deepEqual([result.matched, result.pspFee, result.discrepancies], [3, 370n, 1]);
      const found = await testDatabase.database.query<{
        kind: string;
        amount: bigint;
        details: unknown;
      }>('SELECT kind, amount, details FROM money_in_discrepancies WHERE batch_id = $1', [batchId]);
      assert.deepEqual(found.rows, [
        {
          kind: 'report_currency_mismatch',
          amount: 5_000n,
          details: {
            line: 2,
            type: 'charge',
            amount: '5000',
            fee: '175',
            currency: 'eur',
            item: `txn_b${n}`,
          },
        },
      ]);
    });

    test('a large report is staged page by page and ingested with the fee of every line', async () => {
      const n = next();
      const batchId = `sb_large${n}`;
      const reference = `po_large${n}`;
      const prefix = `large${n}x`;
      const count = 20_000;
      await seedLargeBatch(testDatabase.database, {
        id: batchId,
        connector: 'stripe',
        currency: 'usd',
        settlementReference: reference,
        cutoffAt: new Date(Date.parse('2026-11-01T18:00:00Z') - Number(n) * 60_000),
        count,
        prefix,
      });
      const report: ReportItem[] = [];
      let expectedFee = 0n;
      for (let k = 1; k <= count; k++) {
        const refund = k % 5 === 0;
        const fee = refund ? 0n : BigInt(30 + (k % 7));
        expectedFee += fee;
        report.push(
          item(
            `${prefix}${refund ? 'r' : ''}${k}`,
            refund ? 'refund' : 'charge',
            refund ? -BigInt(100 + k) : BigInt(1000 + k),
            fee,
            k,
          ),
        );
      }
      reports.reports.set(`stripe:${reference}`, report);
      reports.pageSize = 700;
      const ingestion = new SettlementReportIngestion(
        { database: testDatabase.database, ledger, source: reports, clock },
        {
          batchesPerCallMax: 5,
          retryDelayMs: 60_000,
          retryDelayMsMax: 3_600_000,
          stageLinesMax: 3_000,
        },
      );
      const result = await ingestion.ingestBatch(batchId);
      assert.ok(
        result.status === 'ingested',
        JSON.stringify(result, (_, v) => (typeof v === 'bigint' ? String(v) : v)),
      );
      assert.deepEqual(
        [result.items, result.matched, result.pspFee, result.discrepancies],
        [count, count, expectedFee, 0],
      );
      const lines = await testDatabase.database.query<{ lines: number; fee: bigint; last: number }>(
        `SELECT count(*)::int AS lines, sum(fee)::bigint AS fee, max(line) AS last
           FROM settlement_report_lines WHERE batch_id = $1`,
        [batchId],
      );
      assert.deepEqual(lines.rows[0], { lines: count, fee: expectedFee, last: count });
      const transfer = await ledger.getTransaction(`psp_fee:${batchId}`);
      assert.equal(transfer?.legs[0]?.amount, expectedFee);
    });

    test('a report that breaks off is staged again on the retry: one fee, no line twice', async () => {
      const { batchId, reference, n } = await acknowledgedBatch();
      reports.reports.set(`stripe:${reference}`, fullReport(n));
      reports.pageSize = 1;
      reports.failAtPage = 2;
      const first = await reportIngestion.ingestBatch(batchId);
      assert.equal(first.status, 'failed');
      const staged = await testDatabase.database.query<{ line: number }>(
        'SELECT line FROM settlement_report_lines WHERE batch_id = $1 ORDER BY line',
        [batchId],
      );
      assert.deepEqual(
        staged.rows.map((row) => row.line),
        [1, 2],
        'the pages read before the break',
      );
      clock.advance(61_000);
      const due = await reportIngestion.ingestDue();
      assert.ok(due.ingested >= 1);
      await assertIngestedOnce(batchId, 545n, [1, 2, 3, 4]);
    });

    test('a crash between staging and the transaction: the retry ingests once', async () => {
      const { batchId, reference, n } = await acknowledgedBatch();
      reports.reports.set(`stripe:${reference}`, fullReport(n));
      const crashing = new SettlementReportIngestion(
        {
          database: crashingTransactions(testDatabase.database, { count: 1 }),
          ledger,
          source: reports,
          clock,
        },
        { batchesPerCallMax: 50, retryDelayMs: 60_000, retryDelayMsMax: 3_600_000 },
      );
      await assert.rejects(crashing.ingestBatch(batchId), /the process died/);
      const batch = await testDatabase.database.query<{ psp_fee: bigint | null }>(
        'SELECT psp_fee FROM settlement_batches WHERE id = $1',
        [batchId],
      );
      assert.equal(batch.rows[0]?.psp_fee, null);
      const result = await crashing.ingestBatch(batchId);
      assert.ok(result.status === 'ingested');
      assert.equal(result.pspFee, 545n);
      await assertIngestedOnce(batchId, 545n, [1, 2, 3, 4]);
      const before = await snapshot(testDatabase.database);
      assert.deepEqual(await crashing.ingestBatch(batchId), { status: 'already_ingested' });
      assert.equal(await snapshot(testDatabase.database), before);
    });

    test('lines left by an earlier, longer report are replaced by the report read now', async () => {
      const { batchId, reference, n } = await acknowledgedBatch();
      // The PSP's first report had two lines too many (it corrected them since); it broke off
      // after its third page, lines 1 to 6 staged.
      reports.reports.set(`stripe:${reference}`, [
        ...fullReport(n).map((line) => ({ ...line, fee: line.fee + 1n, net: line.net - 1n })),
        item(`pi_psp_x${n}`, 'charge', 1n, 0n, 5),
        item(`pi_psp_y${n}`, 'charge', 1n, 0n, 6),
        item(`pi_psp_z${n}`, 'charge', 1n, 0n, 7),
      ]);
      reports.failAtPage = 3;
      assert.equal((await reportIngestion.ingestBatch(batchId)).status, 'failed');
      reports.reports.set(`stripe:${reference}`, fullReport(n));
      const result = await reportIngestion.ingestBatch(batchId);
      assert.ok(result.status === 'ingested');
      assert.deepEqual([result.items, result.discrepancies], [4, 0]);
      await assertIngestedOnce(batchId, 545n, [1, 2, 3, 4]);
    });

    test('a malformed report is refused with its line and field, and tried again later', async () => {
      const { batchId, reference } = await acknowledgedBatch();
      reports.reports.set(
        `stripe:${reference}`,
        new ReportFormatError('stripe', 'must be an integer number of minor units', 3, 'amount'),
      );
      const result = await reportIngestion.ingestBatch(batchId);
      assert.equal(result.status, 'failed');
      assert.ok(result.status === 'failed');
      assert.match(result.error, /line 3, field amount/);
      const fetches = await testDatabase.database.query<{
        last_error: string;
        psp_fee: bigint | null;
      }>(
        `SELECT f.last_error, b.psp_fee FROM settlement_report_fetches f
           JOIN settlement_batches b ON b.id = f.batch_id WHERE f.batch_id = $1`,
        [batchId],
      );
      assert.match(fetches.rows[0]?.last_error ?? '', /line 3, field amount/);
      assert.equal(fetches.rows[0]?.psp_fee, null);
    });

    async function assertIngestedOnce(batchId: string, fee: bigint, lines: number[]) {
      const staged = await testDatabase.database.query<{ line: number }>(
        'SELECT line FROM settlement_report_lines WHERE batch_id = $1 ORDER BY line',
        [batchId],
      );
      assert.deepEqual(
        staged.rows.map((row) => row.line),
        lines,
      );
      const transfers = await testDatabase.database.query<{ id: string }>(
        `SELECT id FROM ledger_transactions WHERE id LIKE $1`,
        [`psp_fee:${batchId}%`],
      );
      assert.deepEqual(
        transfers.rows.map((row) => row.id),
        [`psp_fee:${batchId}`],
      );
      assert.equal((await ledger.getTransaction(`psp_fee:${batchId}`))?.legs[0]?.amount, fee);
      const batch = await testDatabase.database.query<{ psp_fee: bigint }>(
        'SELECT psp_fee FROM settlement_batches WHERE id = $1',
        [batchId],
      );
      assert.equal(batch.rows[0]?.psp_fee, fee);
    }

    test('a report not available yet is tried again after the delay, by the clock', async () => {
      const { batchId, reference, n } = await acknowledgedBatch();
      const first = await reportIngestion.ingestDue();
      assert.ok(first.failed >= 1);
      const calls = reports.calls;
      assert.equal((await reportIngestion.ingestDue()).batches, 0, 'not due again at once');
      assert.equal(reports.calls, calls);
      reports.reports.set(`stripe:${reference}`, fullReport(n));
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
      reports.reports.set(`stripe:${reference}`, fullReport(n));
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

    test('a credit booked before Payrail knew its batch is applied once the batch names it', async () => {
      const { batchId, reference, n } = await acknowledgedBatch();
      reports.reports.set(`stripe:${reference}`, fullReport(n));
      await reportIngestion.ingestBatch(batchId);
      // The acquirer's answer (with the settlement reference) is not recorded yet.
      await testDatabase.database.query(
        'UPDATE settlement_batches SET settlement_reference = NULL WHERE id = $1',
        [batchId],
      );
      const statement: Statement = {
        statementId: 's',
        entries: [
          {
            index: 1,
            entryReference: `EU-${n}`,
            direction: 'credit',
            status: 'booked',
            amount: 13_155n,
            currency: 'usd',
            bookingDate: '2026-12-08',
            endToEndId: reference,
            instructionId: undefined,
            transactionReference: undefined,
            remittance: `Settlement ${reference}`,
            returnReason: undefined,
            reversal: false,
          },
        ],
      };
      assert.equal((await statements.applyStatement(statement)).unmatched, 1);
      assert.equal(await ledger.getTransaction(`bank_credit:EU-${n}`), undefined);
      assert.equal((await statements.rematchUnmatched()).settlementCredits, 0, 'still unknown');
      await testDatabase.database.query(
        'UPDATE settlement_batches SET settlement_reference = $2 WHERE id = $1',
        [batchId, reference],
      );
      const rematched = await statements.rematchUnmatched();
      assert.deepEqual([rematched.settlementCredits, rematched.batchesFunded], [1, 1]);
      const credit = await ledger.getTransaction(`bank_credit:EU-${n}`);
      assert.equal(credit?.legs[0]?.amount, 13_155n);
      const entry = await testDatabase.database.query<{ kind: string; matched_id: string }>(
        `SELECT kind, matched_id FROM bank_statement_entries WHERE entry_reference = $1`,
        [`EU-${n}`],
      );
      assert.deepEqual(entry.rows[0], { kind: 'settlement_credit', matched_id: batchId });
      const open = await testDatabase.database.query(
        `SELECT 1 FROM money_in_discrepancies WHERE reference = $1 AND resolved_at IS NULL`,
        [`EU-${n}`],
      );
      assert.equal(open.rowCount, 0, 'the unmatched discrepancy is resolved');
      assert.equal((await statements.rematchUnmatched()).settlementCredits, 0, 'applied once');
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
      reports.reports.set(`stripe:${reference}`, fullReport(n));
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
        `SELECT coalesce(sum(fee), 0)::bigint AS total FROM settlement_report_lines WHERE batch_id = $1`,
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
      reports.reports.set(`stripe:${reference}`, fullReport(n));
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
      reports.reports.set(`stripe:${reference}`, [
        item(`pi_psp_n${n}`, 'charge', 1_000n, 30n, 1),
        item(`re_psp_m${n}`, 'refund', -3_000n, 10n, 2),
      ]);
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
        reports.reports.set(`stripe:${reference}`, fullReport(n));
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
