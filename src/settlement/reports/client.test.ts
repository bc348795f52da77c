// The report and statement clients over HTTP against a tiny fake PSP and bank on 127.0.0.1:
// paging, each PSP's authentication, and an answer that is not the report.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { HttpBankStatements, simulatorBankCredentials } from '../../banking/bank-client.ts';
import { HttpSettlementReports, simulatorReportCredentials } from './client.ts';
import { ReportFormatError, ReportUnavailableError, type ReportItem } from './types.ts';

const fixtures = path.join(import.meta.dirname, 'fixtures');
const adyenCsv = fs.readFileSync(path.join(fixtures, 'adyen_batch_42.csv'), 'utf8');
const recon = fs.readFileSync(path.join(fixtures, 'razorpay_recon.json'), 'utf8');
const basic = (user: string, secret: string) =>
  `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;

function stripeEntry(index: number) {
  const refund = index % 5 === 4;
  const amount = refund ? -(100 + index) : 1000 + index;
  const fee = refund ? 0 : 30 + index;
  return {
    id: `txn_${String(index).padStart(6, '0')}`,
    object: 'balance_transaction',
    amount,
    fee,
    net: amount - fee,
    currency: 'usd',
    source: refund ? `re_${index}` : `pi_${index}`,
    type: refund ? 'refund' : 'charge',
    payout: 'po_big',
  };
}

/** Adyen CSV line of item k (1-based) of batch `batch`: a charge of 10.00 + k cents, fee 0.15. */
function adyenLine(k: number, batch: number): string {
  const gross = 1000 + k;
  const money = (minor: number) =>
    `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;
  const grossText = batch === 78 && k === 9_000 ? '10.001' : money(gross);
  return `P${k},att_${k},Settled,EUR,,${grossText},0.10,0.00,0.05,0.00,,${money(gross - 15)},${batch}\n`;
}
const adyenBigHeader =
  'Psp Reference,Merchant Reference,Type,Gross Currency,Gross Debit (GC),Gross Credit (GC),Commission (NC),Markup (NC),Scheme Fees (NC),Interchange (NC),Net Debit (NC),Net Credit (NC),Batch Number\n';

/** 12,000 lines written 1,000 at a time (77); 78 has a bad amount on line 9,001; 79 breaks off. */
function sendBigCsv(response: http.ServerResponse, batch: number): void {
  response.writeHead(200, { 'content-type': 'text/csv' });
  response.write(adyenBigHeader);
  let k = 1;
  const more = () => {
    if (batch === 79 && k > 5_000) {
      response.destroy();
      return;
    }
    if (k > 12_000) {
      response.end();
      return;
    }
    let text = '';
    for (const end = k + 1_000; k < end; k++) text += adyenLine(k, batch);
    if (response.write(text)) setImmediate(more);
    else response.once('drain', more);
  };
  more();
}

function reconEntry(k: number, settlementId: string) {
  return {
    entity_id: `pay_${k}`,
    type: 'payment',
    amount: 5_000 + k,
    currency: 'INR',
    fee: 100,
    tax: 18,
    settlement_id: settlementId,
  };
}

const simStatement = `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>
<GrpHdr><MsgId>SIMBANK-2026-12-08</MsgId><CreDtTm>2026-12-08T23:59:59Z</CreDtTm></GrpHdr>
<Stmt><Id>STMT-2026-12-08</Id><CreDtTm>2026-12-08T23:59:59Z</CreDtTm>
<FrToDt><FrDtTm>2026-12-08T00:00:00Z</FrDtTm><ToDtTm>2026-12-08T23:59:59Z</ToDtTm></FrToDt>
<Acct><Id><Othr><Id>PAYRAIL0001</Id></Othr></Id><Ownr><Nm>Payrail</Nm></Ownr></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="USD">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-12-08</Dt></Dt></Bal>
<TxsSummry><TtlNtries><NbOfNtries>2</NbOfNtries></TtlNtries></TxsSummry>
<Ntry><NtryRef>1</NtryRef><Amt Ccy="USD">96.80</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>2026-12-08</Dt></BookgDt><ValDt><Dt>2026-12-08</Dt></ValDt><AcctSvcrRef>BNKA1B2C3</AcctSvcrRef>
<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls><TxDtls><Refs><AcctSvcrRef>BNKA1B2C3</AcctSvcrRef><EndToEndId>po_big</EndToEndId><TxId>UTR1</TxId></Refs>
<Amt Ccy="USD">96.80</Amt><CdtDbtInd>CRDT</CdtDbtInd><RltdPties><Dbtr><Pty><Nm>Stripe</Nm></Pty></Dbtr></RltdPties>
<RmtInf><Ustrd>po_big</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
<Ntry><NtryRef>2</NtryRef><Amt Ccy="USD">25.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>2026-12-08</Dt></BookgDt><ValDt><Dt>2026-12-08</Dt></ValDt><AcctSvcrRef>BNKD4E5F6</AcctSvcrRef>
<NtryDtls><TxDtls><Refs><AcctSvcrRef>BNKD4E5F6</AcctSvcrRef><InstrId>trc_9</InstrId><EndToEndId>po_payout9</EndToEndId></Refs>
<Amt Ccy="USD">25.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><RmtInf><Ustrd>po_payout9</Ustrd></RmtInf>
<RtrInf><Rsn><Cd>AC04</Cd></Rsn><AddtlInf>account_closed</AddtlInf></RtrInf></TxDtls></NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>`;

const requests: string[] = [];
let server: http.Server;
let baseUrl: string;

function handle(request: http.IncomingMessage, response: http.ServerResponse): void {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  requests.push(`${url.pathname}${url.search}`);
  const auth = (expected: string, header = 'authorization') => request.headers[header] === expected;
  const send = (status: number, body: string, type = 'application/json') => {
    response.writeHead(status, { 'content-type': type });
    response.end(body);
  };
  if (url.pathname === '/stripe/v1/balance_transactions') {
    if (!auth('Bearer sk_test_sim')) return send(401, '{"error":{}}');
    const all = Array.from({ length: 150 }, (_, index) => stripeEntry(index));
    const after = url.searchParams.get('starting_after');
    const start = after === null ? 0 : all.findIndex((entry) => entry.id === after) + 1;
    const limit = Number(url.searchParams.get('limit'));
    const data = all.slice(start, start + limit);
    return send(
      200,
      JSON.stringify({ object: 'list', data, has_more: start + limit < all.length }),
    );
  }
  const bigCsv = /^\/adyen\/reports\/settlement_detail_report_batch_(7[789])\.csv$/.exec(
    url.pathname,
  );
  if (bigCsv !== null) return sendBigCsv(response, Number(bigCsv[1]));
  if (url.pathname === '/razorpay/v1/settlements/recon/combined') {
    const id = url.searchParams.get('settlement_id');
    if (id === 'setl_big' || id === 'setl_wide') {
      const skip = Number(url.searchParams.get('skip'));
      const count = Number(url.searchParams.get('count')) + (id === 'setl_wide' ? 1 : 0);
      const items = [];
      for (let k = skip; k < Math.min(2_500, skip + count); k++) items.push(reconEntry(k, id));
      return send(200, JSON.stringify({ entity: 'collection', count: items.length, items }));
    }
  }
  if (url.pathname === '/adyen/reports/settlement_detail_report_batch_42.csv') {
    if (!auth('AQE_sim_api_key', 'x-api-key')) return send(401, '{}');
    return send(200, adyenCsv, 'text/csv');
  }
  if (url.pathname === '/razorpay/v1/settlements/recon/combined') {
    if (!auth(basic('rzp_test_sim', 'sim_secret'))) return send(401, '{}');
    return send(200, recon);
  }
  if (url.pathname === '/paytm/v1/settlements/recon/combined') return send(200, 'not json');
  if (url.pathname === '/bank/v1/statements/2026-12-08') {
    if (!auth('Bearer bank_test_sim')) return send(401, '{}');
    return send(200, simStatement, 'application/xml');
  }
  send(404, '{}');
}

before(async () => {
  server = http.createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const reports = () =>
  new HttpSettlementReports(simulatorReportCredentials(baseUrl), { timeoutMs: 5_000 });

/** The whole report and the size of each page (small reports only). */
async function read(
  connector: string,
  reference: string,
): Promise<{ items: ReportItem[]; pages: number[] }> {
  const items: ReportItem[] = [];
  const pages: number[] = [];
  for await (const page of reports().pages(connector, reference)) {
    pages.push(page.length);
    items.push(...page);
  }
  return { items, pages };
}

test('stripe: every page of the payout, with the test key', async () => {
  requests.length = 0;
  const report = await read('stripe', 'po_big');
  assert.deepEqual(report.pages, [100, 50]);
  assert.equal(report.items.length, 150);
  assert.equal(report.items[149]?.line, 150);
  assert.equal(report.items[4]?.type, 'refund');
  assert.equal(report.items[4]?.amount, -104n);
  assert.deepEqual(requests, [
    '/stripe/v1/balance_transactions?payout=po_big&limit=100',
    '/stripe/v1/balance_transactions?payout=po_big&limit=100&starting_after=txn_000099',
  ]);
});

test('adyen CSV and razorpay recon, each with its own authentication', async () => {
  const adyen = await read('adyen', '42');
  assert.deepEqual(
    adyen.items.map((item) => [item.pspReference, item.fee]),
    [
      ['8815000000000001', 195n],
      ['8815000000000002', 12n],
    ],
  );
  requests.length = 0;
  const razorpay = await read('razorpay', 'setl_sim_1');
  assert.deepEqual(requests, [
    '/razorpay/v1/settlements/recon/combined?settlement_id=setl_sim_1&count=1000&skip=0',
  ]);
  assert.equal(razorpay.items.length, 2);
  assert.equal(razorpay.items[0]?.fee, 1180n);
});

test('an answer that is not the report, or no report, is an error that says so', async () => {
  await assert.rejects(read('paytm', 'setl_x'), /paytm settlement report/);
  await assert.rejects(read('adyen', '43'), ReportUnavailableError);
  await assert.rejects(read('adyen', '43'), /HTTP 404 \{\}/);
  const wrongKey = new HttpSettlementReports(() => ({ baseUrl: `${baseUrl}/stripe`, apiKey: 'x' }));
  await assert.rejects(async () => {
    for await (const page of wrongKey.pages('stripe', 'po_big')) assert.fail(String(page.length));
  }, /HTTP 401/);
});

test('adyen: a large CSV is parsed as it arrives, handed on in pages', async () => {
  const report = await read('adyen', '77');
  assert.deepEqual(report.pages, [2_000, 2_000, 2_000, 2_000, 2_000, 2_000]);
  assert.equal(report.items.length, 12_000);
  assert.deepEqual(report.items[11_999], {
    line: 12_001,
    pspReference: 'P12000',
    type: 'charge',
    currency: 'eur',
    amount: 13_000n,
    fee: 15n,
    net: 12_985n,
  });
});

test('adyen: a malformed line deep in a streamed CSV is refused with its line and field', async () => {
  const pages: number[] = [];
  await assert.rejects(
    async () => {
      for await (const page of reports().pages('adyen', '78')) pages.push(page.length);
    },
    (error: unknown) => {
      assert.ok(error instanceof ReportFormatError, String(error));
      assert.equal(error.line, 9_001);
      assert.equal(error.field, 'Gross Credit (GC)');
      return true;
    },
  );
  assert.deepEqual(
    pages,
    [2_000, 2_000, 2_000, 2_000],
    'the pages before the fault were handed on',
  );
});

test('adyen: a CSV that breaks off is not a report', async () => {
  await assert.rejects(read('adyen', '79'), (error: unknown) => {
    assert.ok(error instanceof ReportUnavailableError, String(error));
    assert.match(error.message, /broke off/);
    return true;
  });
});

test('recon: pages of 1,000 by count and skip; a page larger than asked is refused', async () => {
  requests.length = 0;
  const report = await read('razorpay', 'setl_big');
  assert.deepEqual(report.pages, [1_000, 1_000, 500]);
  assert.equal(report.items[2_499]?.line, 2_500);
  assert.equal(report.items[2_499]?.pspReference, 'pay_2499');
  assert.deepEqual(
    requests.map((request) => new URL(request, 'http://x').searchParams.get('skip')),
    ['0', '1000', '2000'],
  );
  await assert.rejects(read('razorpay', 'setl_wide'), /more than the 1000 asked/);
});

test('the bank statement of a day, as the simulator writes it', async () => {
  const bank = new HttpBankStatements(simulatorBankCredentials(baseUrl), { timeoutMs: 5_000 });
  const statement = await bank.fetch('2026-12-08');
  assert.deepEqual(
    statement.entries.map((entry) => [
      entry.entryReference,
      entry.direction,
      entry.amount,
      entry.endToEndId,
      entry.remittance,
      entry.returnReason,
    ]),
    [
      ['BNKA1B2C3', 'credit', 9680n, 'po_big', 'po_big', undefined],
      ['BNKD4E5F6', 'credit', 2500n, 'po_payout9', 'po_payout9', 'AC04'],
    ],
  );
  await assert.rejects(
    new HttpBankStatements({ baseUrl: `${baseUrl}/bank`, apiKey: 'no' }).fetch('2026-12-08'),
    /HTTP 401/,
  );
});
