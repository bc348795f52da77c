// Ingestion of each format from small fixtures, the refusals (floats, truncated, wrong encoding,
// wrong columns, huge fields) and idempotency per file and per row, on PGlite and PostgreSQL.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { clockFrom } from '../../clock.ts';
import type { Database } from '../../storage/database.ts';
import {
  databaseKinds,
  openTestDatabase,
  type TestDatabase,
} from '../../../test/support/databases.ts';
import { ReconciliationFiles } from './service.ts';

const adyenHeader =
  'Company Account,Merchant Account,Psp Reference,Merchant Reference,Payment Method,Creation Date,TimeZone,Type,Modification Reference,Gross Currency,Gross Debit (GC),Gross Credit (GC),Exchange Rate,Net Currency,Net Debit (NC),Net Credit (NC),Commission (NC),Markup (NC),Scheme Fees (NC),Interchange (NC),Batch Number';
const adyenLine = (psp: string, gross: string, net: string, batch = '1001') =>
  `PayrailSim,PayrailSimECOM,${psp},txn_${psp},visa,2026-12-07 18:00:00,UTC,Settled,,USD,,${gross},1,USD,,${net},0.11,0.60,0.02,0.30,${batch}`;
export const adyenCsv = `${adyenHeader}\n${adyenLine('PSP1', '100.00', '98.97')}\n${adyenLine('PSP2', '50.00', '48.97')}\n`;

const stripeEntry = (id: string, amount: number | string, fee = 320) =>
  `{"id":"txn_${id}","object":"balance_transaction","amount":${amount},"available_on":1796774400,"currency":"usd","fee":${fee},"net":${typeof amount === 'number' ? amount - fee : 0},"source":"pi_${id}","type":"charge","payout":"po_ABC"}`;
export const stripeJson = `{"object":"list","data":[${stripeEntry('a', 10000)},${stripeEntry('b', '100.5')},${stripeEntry('c', 20000)}],"has_more":false,"url":"/v1/balance_transactions"}`;

export const razorpayJson = JSON.stringify({
  entity: 'collection',
  count: 2,
  items: [
    {
      entity_id: 'pay_1',
      type: 'payment',
      amount: 12345,
      currency: 'INR',
      fee: 291,
      tax: 44,
      settled_at: 1796774400,
      settlement_id: 'setl_1',
      settlement_utr: 'SIMB1',
      order_receipt: 'txn_1',
    },
    {
      entity_id: 12,
      type: 'payment',
      amount: 100,
      currency: 'INR',
      fee: 2,
      tax: 0,
      settlement_id: 'setl_1',
    },
  ],
});

export const ackNdjson =
  '{"batch_id":"sb_1","acquirer_reference":"acq_1","status":"accepted","accepted_count":1,"rejected_count":1,"accepted_amount":7500,"settlement_reference":"po_X"}\n' +
  '{"item_id":"txn_a","result":"accepted"}\n{"item_id":"txn_c","result":"rejected","reason_code":"unknown_reference"}\n{"item_id":5,"result":"accepted"}\n';

const camtXml = readFileSync(
  new URL('../../banking/fixtures/statement_2026-12-08.xml', import.meta.url),
  'utf8',
);

async function* chunks(text: string | Buffer, size = 7): AsyncGenerator<Buffer> {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

const clock = clockFrom(() => new Date('2026-12-09T10:00:00Z'));

async function counts(database: Database) {
  const result = await database.query<{ records: number; quarantine: number; files: number }>(
    `SELECT (SELECT count(*)::int FROM recon_records) AS records,
            (SELECT count(*)::int FROM recon_quarantine) AS quarantine,
            (SELECT count(*)::int FROM recon_files WHERE status <> 'failed') AS files`,
  );
  return result.rows[0];
}

for (const kind of databaseKinds) {
  describe(`reconciliation file ingestion (${kind})`, () => {
    let test_db: TestDatabase;
    let files: ReconciliationFiles;
    before(async () => {
      test_db = await openTestDatabase(kind);
      files = new ReconciliationFiles({ database: test_db.database, clock });
    });
    after(() => test_db.drop());

    test('adyen CSV: records keyed by connector, batch number and line; same file again changes nothing', async () => {
      const first = await files.ingestFile({ name: 'adyen.csv', body: chunks(adyenCsv) });
      assert.equal(first.created, true);
      assert.equal(first.file.status, 'ingested');
      assert.equal(first.file.format, 'adyen_settlement_csv');
      assert.equal(first.file.recordCount, 2);
      const rows = await test_db.database.query(
        `SELECT * FROM recon_records WHERE source = 'psp_report' ORDER BY line`,
      );
      assert.equal(rows.rows[0]?.row_key, 'adyen:1001:2');
      assert.equal(rows.rows[0]?.amount, 10000n);
      assert.equal(rows.rows[0]?.fee, 103n);
      assert.equal(rows.rows[0]?.our_reference, 'txn_PSP1');
      assert.equal(rows.rows[0]?.value_date, '2026-12-07');
      const before = await counts(test_db.database);
      const again = await files.ingestFile({ name: 'other-name.csv', body: chunks(adyenCsv, 3) });
      assert.equal(again.created, false);
      assert.equal(again.file.id, first.file.id);
      assert.deepEqual(await counts(test_db.database), before);
    });

    test('overlapping rows in two files: the row once, counted as a duplicate', async () => {
      const overlap = `${adyenHeader}\n${adyenLine('PSP1', '100.00', '98.97')}\n${adyenLine('PSP3', '10.00', '8.97', '1002')}\n`;
      const result = await files.ingestFile({ name: 'adyen-2.csv', body: chunks(overlap) });
      assert.equal(result.file.recordCount, 1);
      assert.equal(result.file.duplicateCount, 1);
    });

    test('stripe JSON: a float amount is quarantined with its row number, the rest kept', async () => {
      const result = await files.ingestFile({ name: 'stripe.json', body: chunks(stripeJson, 11) });
      assert.equal(result.file.format, 'stripe_balance_transactions');
      assert.equal(result.file.recordCount, 2);
      assert.equal(result.file.quarantinedCount, 1);
      const quarantined = await files.quarantine(result.file.id);
      assert.equal(quarantined[0]?.line, 2);
      assert.match(
        quarantined[0]?.reason ?? '',
        /line 2: field amount: amount is a float \(100\.5\)/,
      );
      const keys = await test_db.database.query(
        `SELECT row_key, value_date FROM recon_records WHERE connector = 'stripe' ORDER BY line`,
      );
      assert.deepEqual(
        keys.rows.map((row) => row.row_key),
        ['stripe:po_ABC:1', 'stripe:po_ABC:3'],
      );
      assert.equal(keys.rows[0]?.value_date, '2026-12-09');
    });

    test('razorpay JSON: an id given as a number is a row error', async () => {
      const result = await files.ingestFile({
        name: 'rzp.json',
        connector: 'razorpay',
        body: chunks(razorpayJson),
      });
      assert.equal(result.file.recordCount, 1);
      assert.equal(result.file.quarantinedCount, 1);
      const [row] = await files.quarantine(result.file.id);
      assert.equal(row?.line, 2);
      assert.match(row?.reason ?? '', /entity_id/);
      const record = await test_db.database.query(
        `SELECT * FROM recon_records WHERE row_key = 'razorpay:setl_1:1'`,
      );
      assert.equal(record.rows[0]?.amount, 12345n);
      assert.equal(record.rows[0]?.trace_id, 'SIMB1');
    });

    test('acquirer answer: one record per item, bad item quarantined', async () => {
      const result = await files.ingestFile({ name: 'ack.ndjson', body: chunks(ackNdjson) });
      assert.equal(result.file.format, 'acquirer_ack');
      assert.equal(result.file.recordCount, 2);
      assert.equal(result.file.quarantinedCount, 1);
      const rows = await test_db.database.query(
        `SELECT row_key, kind, batch_reference FROM recon_records WHERE source = 'acquirer_ack' ORDER BY line`,
      );
      assert.deepEqual(
        rows.rows.map((row) => [row.row_key, row.kind, row.batch_reference]),
        [
          ['sb_1:txn_a', 'accepted', 'po_X'],
          ['sb_1:txn_c', 'rejected', 'po_X'],
        ],
      );
    });

    test('camt.053: entries as bank records (credit, payout debit, return)', async () => {
      const result = await files.ingestFile({ name: 'statement.xml', body: chunks(camtXml, 13) });
      assert.equal(result.file.format, 'camt053');
      assert.equal(result.file.recordCount, 3);
      const rows = await test_db.database.query(
        `SELECT row_key, kind, amount, currency, our_reference, batch_reference, trace_id, seen_on FROM recon_records WHERE source = 'bank_statement' ORDER BY line`,
      );
      assert.deepEqual(
        rows.rows.map((row) => [
          row.row_key,
          row.kind,
          row.amount,
          row.currency,
          row.our_reference,
          row.batch_reference,
          row.trace_id,
          row.seen_on,
        ]),
        [
          ['BNK-E-0001:credit', 'credit', 96805n, 'usd', null, 'po_sim_1', null, '2026-12-08'],
          [
            'trc_0001:debit',
            'debit',
            25000n,
            'usd',
            'po_payout0001',
            'po_payout0001',
            'trc_0001',
            '2026-12-08',
          ],
          [
            'BNK-R-0002:credit',
            'return',
            1200n,
            'jpy',
            'po_payout0002',
            null,
            'BNK-R-0002',
            '2026-12-08',
          ],
        ],
      );
    });

    const badFiles: [string, string | Buffer, RegExp, string?][] = [
      ['truncated.csv', adyenCsv.slice(0, -20), /truncated\.csv: line 3: .*truncated/],
      ['truncated.json', stripeJson.slice(0, -30), /truncated\.json: line 1: .*ends too early/],
      ['truncated.xml', camtXml.slice(0, camtXml.length / 2), /truncated\.xml: line \d+: .*XML/],
      ['truncated.ndjson', ackNdjson.slice(0, -10), /truncated\.ndjson: line 4: .*truncated/],
      [
        'latin1.csv',
        Buffer.concat([Buffer.from(`${adyenHeader}\n`), Buffer.from([0x50, 0xe9, 0x0a])]),
        /latin1\.csv: line \d: wrong encoding: not valid UTF-8/,
      ],
      [
        'utf16.csv',
        Buffer.from(`\ufeff${adyenHeader}\n`, 'utf16le'),
        /utf16\.csv: line 1: wrong encoding: UTF-16/,
      ],
      [
        'columns.csv',
        `Psp Reference,Type,Batch Number\nX,Settled,1\n`,
        /columns\.csv: line 1: .*Merchant Reference: missing column/,
      ],
      [
        'huge.csv',
        `${adyenHeader}\n${'x'.repeat(70_000)},a\n`,
        /huge\.csv: line 2: .*longer than 65536/,
      ],
      [
        'huge.json',
        `{"object":"list","data":[{"id":"${'x'.repeat(100_000)}"}]}`,
        /huge\.json: line 1: .*longer than 65536/,
      ],
      ['nothing.txt', 'hello\n', /nothing\.txt: line 1: unknown format/],
      ['rzp-noconnector.json', ` ${razorpayJson}`, /needs its connector/],
    ];
    for (const [name, content, message] of badFiles)
      test(`a bad file (${name}) fails whole: its row only, with the file and line`, async () => {
        const before = await counts(test_db.database);
        const result = await files.ingestFile({ name, body: chunks(content, 1000) });
        assert.equal(result.file.status, 'failed');
        assert.match(result.file.error ?? '', message);
        assert.deepEqual(await counts(test_db.database), before);
        const again = await files.ingestFile({ name, body: chunks(content, 999) });
        assert.equal(again.file.id, result.file.id);
      });
  });
}
