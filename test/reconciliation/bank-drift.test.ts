// The bank side of balance drift (issue 12 part 4) on PGlite and PostgreSQL: the ledger's bank
// account against the statement's closing balance (camt.053 CLBD), kept by both readers of a
// statement (an uploaded file here; the pipeline's in the end-to-end test). A bank entry the
// ledger never posted is explained while its line-level exception is open; once that exception
// is closed without a posting, the difference is a balance_drift of its own.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { clockFrom } from '../../src/clock.ts';
import { Ledger } from '../../src/ledger/index.ts';
import { ReconciliationFiles } from '../../src/reconciliation/ingest/service.ts';
import { ReconciliationService } from '../../src/reconciliation/service.ts';
import type { RunSummary } from '../../src/reconciliation/engine/run.ts';
import type { Database } from '../../src/storage/database.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/databases.ts';

const clock = clockFrom(() => new Date('2026-12-10T12:00:00Z'));

/** A statement of 2026-12-08 as the bank writes it: its entries and balances. */
function statementXml(entries: string, balances: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>
<GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-12-08T23:59:59Z</CreDtTm></GrpHdr>
<Stmt><Id>STMT-2026-12-08</Id><CreDtTm>2026-12-08T23:59:59Z</CreDtTm>
${balances}
${entries}
</Stmt></BkToCstmrStmt></Document>
`;
}

const balance = (code: string, amount: string, indicator: string, ccy = 'USD') =>
  `<Bal><Tp><CdOrPrtry><Cd>${code}</Cd></CdOrPrtry></Tp><Amt Ccy="${ccy}">${amount}</Amt>` +
  `<CdtDbtInd>${indicator}</CdtDbtInd><Dt><Dt>2026-12-08</Dt></Dt></Bal>`;

const entry = (reference: string, amount: string, indicator: string) =>
  `<Ntry><NtryRef>${reference}</NtryRef><Amt Ccy="USD">${amount}</Amt>` +
  `<CdtDbtInd>${indicator}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>` +
  `<BookgDt><Dt>2026-12-08</Dt></BookgDt><ValDt><Dt>2026-12-08</Dt></ValDt>` +
  `<AcctSvcrRef>${reference}</AcctSvcrRef></Ntry>`;

// The bank held 50.00 before the first day Payrail read; on 2026-12-08 it booked E1 (200.00, a
// credit the pipeline posted) and E2 (7.00, a credit nobody expects, never posted): 257.00.
const statement = statementXml(
  entry('E1', '200.00', 'CRDT') + entry('E2', '7.00', 'CRDT'),
  balance('OPBD', '50.00', 'CRDT') + balance('CLBD', '257.00', 'CRDT'),
);

async function seedPipeline(db: Database, ledger: Ledger): Promise<void> {
  await ledger.createAccounts([
    { id: 'bank:usd', type: 'asset', currency: 'usd', owner: 'platform' },
    { id: 'psp:stripe:receivable:usd', type: 'asset', currency: 'usd', owner: 'platform' },
    {
      id: 'platform:payouts_in_transit:usd',
      type: 'liability',
      currency: 'usd',
      owner: 'platform',
    },
  ]);
  const move = (id: string, debit: string, credit: string, amount: bigint) =>
    ledger.transfer({
      id,
      kind: 'posted',
      legs: [
        { accountId: debit, direction: 'debit', amount, currency: 'usd' },
        { accountId: credit, direction: 'credit', amount, currency: 'usd' },
      ],
    });
  // E1 posted (a settlement credit); E3 of 2026-12-09 posted (a payout debit), its day's
  // statement not read yet; E2 not posted (unmatched).
  await move('bank_credit:E1', 'bank:usd', 'psp:stripe:receivable:usd', 20000n);
  await move('payout_paid:po_1', 'platform:payouts_in_transit:usd', 'bank:usd', 3000n);
  await db.query(
    `INSERT INTO bank_statement_entries (entry_reference, direction, booking_date, currency, amount,
       kind, ledger_transaction_id, seen_at)
     VALUES ('E1', 'credit', '2026-12-08', 'usd', 20000, 'settlement_credit', 'bank_credit:E1', now()),
            ('E2', 'credit', '2026-12-08', 'usd', 700, 'unmatched', NULL, now()),
            ('E3', 'debit', '2026-12-09', 'usd', 3000, 'payout_debit', NULL, now())`,
  );
  await db.query(
    `INSERT INTO bank_statement_days (booking_date, complete, entry_count, fetched_at)
     VALUES ('2026-12-08', true, 2, now())`,
  );
}

async function* chunks(text: string): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += 64) yield bytes.subarray(at, at + 64);
}

for (const kind of databaseKinds) {
  describe(`bank balance drift (${kind})`, () => {
    let f: TestDatabase;
    let service: ReconciliationService;
    before(async () => {
      f = await openTestDatabase(kind);
      const ledger = new Ledger(f.database, { clock });
      service = new ReconciliationService({ database: f.database, ledger, clock });
      await seedPipeline(f.database, ledger);
    });
    after(() => f.drop());

    test('an uploaded statement keeps its closing balance, exact and once', async () => {
      const files = new ReconciliationFiles({ database: f.database, clock });
      const uploaded = await files.ingestFile({ name: 'stmt.xml', body: chunks(statement) });
      assert.equal(uploaded.file.status, 'ingested', uploaded.file.error ?? '');
      assert.equal(uploaded.file.quarantinedCount, 0);
      const again = await files.ingestFile({
        name: 'stmt-copy.xml',
        body: chunks(statement.replace('M1', 'M2')),
      });
      assert.equal(again.file.status, 'ingested');
      const rows = await f.database.query<{
        currency: string;
        booking_date: string;
        closing: string;
      }>(
        `SELECT currency, booking_date, closing_balance::text AS closing
           FROM recon_statement_balances`,
      );
      assert.deepEqual(rows.rows, [
        { currency: 'usd', booking_date: '2026-12-08', closing: '25700' },
      ]);
    });

    test('an entry the ledger never posted is explained by its open exception: no drift', async () => {
      const run = await service.run({ dryRun: false });
      assert.equal(run.status, 'succeeded', run.error ?? '');
      const bank = (run.summary as RunSummary).drift.find((row) => row.account === 'bank:usd');
      // Ledger 200 − 30 = 170; bank 257 − 50 (before the first day read) − 30 (E3, posted) = 177.
      assert.deepEqual(bank, {
        account: 'bank:usd',
        connector: null,
        currency: 'usd',
        ledger: '17000',
        reported: '17700',
        explained: '-700',
        unexplained: '0',
      });
      assert.equal((run.summary as RunSummary).raised.balance_drift, undefined);
      const unexpected = await f.database.query(
        `SELECT 1 FROM recon_exceptions WHERE key = 'unexpected:bank_statement:E2:credit'`,
      );
      assert.equal(unexpected.rows.length, 1);
    });

    test('closed without a posting, the same entry is unexplained drift', async () => {
      const page = await service.listExceptions({ reason: 'unexpected' }, { limit: 10 });
      const e2 = page.exceptions.find((x) => x.recordKey === 'E2:credit');
      assert.ok(e2 !== undefined);
      await service.resolve(e2.id, {
        action: 'psp_error',
        reason: 'the bank will reverse it',
        actor: 'ops',
      });
      const run = await service.run({ dryRun: false });
      assert.equal((run.summary as RunSummary).raised.balance_drift, 1);
      const drift = await service.listExceptions({ reason: 'balance_drift' }, { limit: 10 });
      assert.deepEqual(
        drift.exceptions.map((x) => [x.key, x.amount, x.currency]),
        [['balance_drift:bank:usd:2026-12-10', -700n, 'usd']],
      );
    });
  });
}
