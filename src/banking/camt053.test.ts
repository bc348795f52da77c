// The camt.053 parser on a fixture statement and on malformed ones: each fault names its entry
// and element.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseCamt053, StatementFormatError, statementLimits } from './camt053.ts';

const fixture = fs.readFileSync(
  path.join(import.meta.dirname, 'fixtures', 'statement_2026-12-08.xml'),
  'utf8',
);

function formatError(entry: number | undefined, element: string | undefined, pattern?: RegExp) {
  return (error: unknown) => {
    assert.ok(
      error instanceof StatementFormatError,
      `expected StatementFormatError, got ${String(error)}`,
    );
    assert.equal(error.entry, entry);
    assert.equal(error.element, element);
    if (pattern !== undefined) assert.match(error.message, pattern);
    return true;
  };
}

test('a statement: a settlement credit, a payout debit and a return, amounts exact', () => {
  const statement = parseCamt053(fixture);
  assert.equal(statement.statementId, 'STMT-20261208-USD');
  assert.deepEqual(statement.entries, [
    {
      index: 1,
      entryReference: 'BNK-E-0001',
      direction: 'credit',
      status: 'booked',
      amount: 96805n,
      currency: 'usd',
      bookingDate: '2026-12-08',
      reversal: false,
      endToEndId: undefined,
      instructionId: undefined,
      transactionReference: undefined,
      remittance: 'po_sim_1',
      returnReason: undefined,
    },
    {
      index: 2,
      entryReference: 'trc_0001',
      direction: 'debit',
      status: 'booked',
      amount: 25000n,
      currency: 'usd',
      bookingDate: '2026-12-08',
      reversal: false,
      endToEndId: 'po_payout0001',
      instructionId: 'trc_0001',
      transactionReference: undefined,
      remittance: undefined,
      returnReason: undefined,
    },
    {
      index: 3,
      entryReference: 'BNK-R-0002',
      direction: 'credit',
      status: 'booked',
      amount: 1200n,
      currency: 'jpy',
      bookingDate: '2026-12-08',
      reversal: false,
      endToEndId: 'po_payout0002',
      instructionId: undefined,
      transactionReference: undefined,
      remittance: 'Return of po_payout0002 & co',
      returnReason: 'AC04',
    },
  ]);
});

test('malformed entries name the entry and the element', () => {
  assert.throws(
    () => parseCamt053(fixture.replace('968.05', '968.055')),
    formatError(1, 'Amt', /at most 2 decimal places/),
  );
  assert.throws(() => parseCamt053(fixture.replace('968.05', '9.68e2')), formatError(1, 'Amt'));
  assert.throws(() => parseCamt053(fixture.replace('1200<', '1200.5<')), formatError(3, 'Amt'));
  assert.throws(
    () => parseCamt053(fixture.replace('Ccy="USD">250', 'Ccy="usd">250')),
    formatError(2, 'Amt/@Ccy'),
  );
  assert.throws(
    () => parseCamt053(fixture.replace('<CdtDbtInd>DBIT', '<CdtDbtInd>DEBIT')),
    formatError(2, 'CdtDbtInd'),
  );
  assert.throws(
    () =>
      parseCamt053(
        fixture.replace(
          '<BookgDt><Dt>2026-12-08</Dt></BookgDt>\n        <AcctSvcrRef>trc',
          '<BookgDt><Dt>2026-02-30</Dt></BookgDt>\n        <AcctSvcrRef>trc',
        ),
      ),
    formatError(2, 'BookgDt'),
  );
  assert.throws(
    () => parseCamt053(fixture.replace('<AcctSvcrRef>trc_0001</AcctSvcrRef>', '')),
    formatError(2, 'AcctSvcrRef'),
  );
  assert.throws(
    () =>
      parseCamt053(
        fixture
          .replace('trc_0001</AcctSvcrRef>', 'BNK-E-0001</AcctSvcrRef>')
          .replace('DBIT', 'CRDT'),
      ),
    formatError(2, 'AcctSvcrRef', /twice/),
  );
  assert.throws(
    () => parseCamt053(fixture.replace('<Cd>AC04</Cd>', '')),
    formatError(3, 'RtrInf/Rsn/Cd'),
  );
});

test('not a statement, not well-formed, a DOCTYPE, too large or too deep: refused', () => {
  assert.throws(
    () => parseCamt053('<Document><Other/></Document>'),
    formatError(undefined, 'Document/BkToCstmrStmt'),
  );
  assert.throws(
    () => parseCamt053(fixture.replace('</Stmt>', '')),
    formatError(undefined, undefined, /not well-formed/),
  );
  assert.throws(
    () =>
      parseCamt053(
        `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]>${fixture.slice(fixture.indexOf('<Document'))}`,
      ),
    formatError(undefined, undefined, /DOCTYPE/),
  );
  assert.throws(
    () => parseCamt053(Buffer.alloc(statementLimits.bytesMax + 1, 32)),
    formatError(undefined, undefined, /larger/),
  );
  const deep = `${'<a>'.repeat(200)}${'</a>'.repeat(200)}`;
  assert.throws(
    () =>
      parseCamt053(
        `<Document><BkToCstmrStmt><Stmt><Id>x</Id>${deep}</Stmt></BkToCstmrStmt></Document>`,
      ),
    StatementFormatError,
  );
  assert.throws(
    () => parseCamt053(fixture.replace('<Stmt>', '<Stmt><Id>x</Id></Stmt><Stmt>')),
    formatError(undefined, 'Stmt'),
  );
});

test('closing booked balances: exact, signed by CdtDbtInd, one per currency; others ignored', () => {
  const bal = (code: string, amount: string, indicator: string, currency = 'USD') =>
    `<Bal><Tp><CdOrPrtry><Cd>${code}</Cd></CdOrPrtry></Tp><Amt Ccy="${currency}">${amount}</Amt>` +
    `<CdtDbtInd>${indicator}</CdtDbtInd><Dt><Dt>2026-12-08</Dt></Dt></Bal>`;
  const withBalances = (balances: string) => fixture.replace('<Acct>', `${balances}<Acct>`);
  const statement = parseCamt053(
    withBalances(
      bal('OPBD', '1.00', 'CRDT') +
        bal('CLBD', '1234.56', 'DBIT') +
        bal('CLBD', '7', 'CRDT', 'JPY'),
    ),
  );
  assert.deepEqual(statement.balances, [
    { currency: 'usd', date: '2026-12-08', amount: -123456n },
    { currency: 'jpy', date: '2026-12-08', amount: 7n },
  ]);
  assert.deepEqual(parseCamt053(fixture).balances, []);
  assert.throws(
    () => parseCamt053(withBalances(bal('CLBD', '1.005', 'CRDT'))),
    formatError(undefined, 'Bal 1/Amt'),
  );
  assert.throws(
    () => parseCamt053(withBalances(bal('CLBD', '1.00', 'CRDT') + bal('CLBD', '2.00', 'CRDT'))),
    formatError(undefined, 'Bal 2', /second closing balance/),
  );
});
