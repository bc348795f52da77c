// The bank against the real simulator process (CONTRACT.md "Bank"): payouts idempotent by
// payout_id, rejects, returns, camt.053.001.08 statements (parsed with fast-xml-parser) and the
// late-line, split-credit and returned-payout faults.
import assert from 'node:assert/strict';
import { XMLParser } from 'fast-xml-parser';
import { after, before, beforeEach, describe, test } from 'node:test';
import {
  BANK_AUTH,
  adminJson,
  batchBody,
  fresh,
  moneyTruth,
  payout,
  seed,
  statementXml,
  submit,
} from './money-out-support.ts';
import { startSimProcess, type SimProcess } from './support.ts';
import {
  DEFAULT_FEES,
  captureFees,
  decimalString,
  itemFeeTotal,
  refundFees,
  type FeeSchedule,
} from '../../sim/money-out/fees.ts';
import { XmlWriter } from '../../sim/money-out/xml.ts';

let sim: SimProcess;
before(async () => {
  sim = await startSimProcess();
});
after(async () => {
  assert.equal(await sim.stop(), 0);
});
beforeEach(async () => {
  await adminJson(sim, 'POST', '/reset');
});

const PAID = '000123456789';
const REJECTED = '000111111116';
const RETURNED = '000111111113';

type Entry = {
  NtryRef: string | number;
  Amt: { '#text': string; '@_Ccy': string };
  CdtDbtInd: 'CRDT' | 'DBIT';
  Sts: { Cd: string };
  BookgDt: { Dt: string };
  AcctSvcrRef: string | number;
  NtryDtls: {
    TxDtls: {
      Refs: {
        AcctSvcrRef: string | number;
        EndToEndId?: string;
        InstrId?: string | number;
        TxId?: string;
      };
      RmtInf?: { Ustrd: string };
      RtrInf?: { Rsn: { Cd: string }; AddtlInf: string };
    };
  };
};
type Statement = {
  entries: Entry[];
  balances: { code: string; amount: string; indicator: string; currency: string }[];
};

const parser = new XMLParser({
  ignoreAttributes: false,
  parseTagValue: false,
  isArray: (name) => name === 'Ntry' || name === 'Bal' || name === 'Stmt',
});

async function statement(date: string, query = ''): Promise<Statement> {
  const answer = await statementXml(sim, date, query);
  assert.equal(answer.status, 200);
  assert.equal(answer.type, 'application/xml');
  const document = parser.parse(answer.text) as {
    Document: {
      '@_xmlns': string;
      BkToCstmrStmt: { Stmt: { Ntry?: Entry[]; Bal: Record<string, unknown>[] }[] };
    };
  };
  assert.equal(document.Document['@_xmlns'], 'urn:iso:std:iso:20022:tech:xsd:camt.053.001.08');
  const statements = document.Document.BkToCstmrStmt.Stmt;
  assert.equal(statements.length, 1);
  const only = statements[0] as { Ntry?: Entry[]; Bal: Record<string, unknown>[] };
  return {
    entries: only.Ntry ?? [],
    balances: only.Bal.map((bal) => {
      const amount = bal.Amt as { '#text': string; '@_Ccy': string };
      return {
        code: (bal.Tp as { CdOrPrtry: { Cd: string } }).CdOrPrtry.Cd,
        amount: amount['#text'],
        currency: amount['@_Ccy'],
        indicator: bal.CdtDbtInd as string,
      };
    }),
  };
}

const brief = (entry: Entry) => ({
  amount: entry.Amt['#text'],
  currency: entry.Amt['@_Ccy'],
  indicator: entry.CdtDbtInd,
  booked: entry.BookgDt.Dt,
  endToEnd: entry.NtryDtls.TxDtls.Refs.EndToEndId,
  remittance: entry.NtryDtls.TxDtls.RmtInf?.Ustrd,
  reason: entry.NtryDtls.TxDtls.RtrInf?.Rsn.Cd,
});

/** Clears one seeded stripe capture of `amount` at `cutoff`; returns the settlement reference. */
async function settleStripe(amount: number, cutoff: string): Promise<string> {
  const ref = fresh('pi_');
  await seed(sim, [
    {
      psp: 'stripe',
      psp_reference: ref,
      type: 'capture',
      amount,
      currency: 'usd',
      authorized_at: cutoff,
    },
  ]);
  const ack = await submit(
    sim,
    fresh('sb_'),
    batchBody({ connector: 'stripe', currency: 'usd', cutoff_at: cutoff }, [
      { item_id: fresh('txn_'), psp_reference: ref, type: 'capture', amount, currency: 'usd' },
    ]),
  );
  return String(ack.header.settlement_reference);
}

describe('bank payouts', () => {
  test('idempotent by payout_id: the same answer, executed once; another amount is a conflict', async () => {
    const input = {
      payout_id: 'po_bank001',
      amount: 12_345,
      requested_at: '2026-03-10T09:00:00Z',
      account_number: PAID,
    };
    const first = await payout(sim, input);
    assert.equal(first.status, 201);
    assert.deepEqual(
      { ...first.body, trace_id: 'x' },
      { payout_id: 'po_bank001', trace_id: 'x', status: 'accepted', expected_on: '2026-03-10' },
    );
    assert.match(String(first.body.trace_id), /^\d{15}$/);
    // A retry (even with a later requested_at) gets the first answer.
    const second = await payout(sim, { ...input, requested_at: '2026-03-11T09:00:00Z' });
    assert.equal(second.status, 201);
    assert.equal(second.text, first.text);
    const conflict = await payout(sim, { ...input, amount: 1 });
    assert.equal(conflict.status, 409);
    const read = await fetch(`${sim.url}/bank/v1/payouts/po_bank001`, {
      headers: { authorization: BANK_AUTH },
    });
    assert.equal(await read.text(), first.text);
    const truth = await moneyTruth(sim);
    assert.deepEqual(
      { ...truth.bank.payouts.po_bank001, trace_id: 'x' },
      {
        payout_id: 'po_bank001',
        executions: 1,
        requests: 3,
        amount: 12_345,
        currency: 'usd',
        status: 'paid',
        trace_id: 'x',
        failure_code: null,
        account_number: PAID,
        requested_on: '2026-03-10',
        booked_on: '2026-03-10',
        returned_on: null,
      },
    );
    assert.equal((await payout(sim, { ...input, payout_id: 'po_bad', amount: 0 })).status, 400);
    const noAuth = await fetch(`${sim.url}/bank/v1/payouts`, { method: 'POST', body: '{}' });
    assert.equal(noAuth.status, 401);
  });

  test('a routing number may be absent (an account known by its number); a malformed one is a 400', async () => {
    const send = (account: Record<string, unknown>) =>
      fetch(`${sim.url}/bank/v1/payouts`, {
        method: 'POST',
        headers: { authorization: BANK_AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({
          payout_id: `po_routing${Object.keys(account).length}`,
          amount: 500,
          currency: 'eur',
          requested_at: '2026-03-10T09:00:00Z',
          account: { holder_name: 'Shop', account_number: PAID, country: 'DE', ...account },
        }),
      });
    assert.equal((await send({})).status, 201);
    assert.equal((await send({ routing_number: null, extra: 1 })).status, 201);
    const bad = await send({ routing_number: '' });
    assert.equal(bad.status, 400);
    assert.equal(
      ((await bad.json()) as { error: { field: string } }).error.field,
      'account.routing_number',
    );
  });

  test('statement: settlement credit (next business day), payout debit, rejected payout absent, return 2 days later', async () => {
    const settlement = await settleStripe(10_000, '2026-03-13T18:00:00Z'); // Friday → Monday 16th
    const paid = await payout(sim, {
      payout_id: 'po_paid',
      amount: 4_000,
      requested_at: '2026-03-16T10:00:00Z',
      account_number: PAID,
    });
    const rejected = await payout(sim, {
      payout_id: 'po_rejected',
      amount: 1_000,
      requested_at: '2026-03-16T10:00:00Z',
      account_number: REJECTED,
    });
    assert.deepEqual(
      [rejected.status, rejected.body],
      [
        422,
        { payout_id: 'po_rejected', status: 'rejected', failure_code: 'invalid_account_number' },
      ],
    );
    const returned = await payout(sim, {
      payout_id: 'po_returned',
      amount: 2_500,
      requested_at: '2026-03-16T23:30:00Z',
      account_number: RETURNED,
    });
    assert.equal(returned.status, 201);
    const monday = await statement('2026-03-16');
    const fee = Math.floor((10_000 * 290 + 5000) / 10000) + 30;
    assert.deepEqual(monday.entries.map(brief), [
      {
        amount: ((10_000 - fee) / 100).toFixed(2),
        currency: 'USD',
        indicator: 'CRDT',
        booked: '2026-03-16',
        endToEnd: settlement,
        remittance: settlement,
        reason: undefined,
      },
      {
        amount: '40.00',
        currency: 'USD',
        indicator: 'DBIT',
        booked: '2026-03-16',
        endToEnd: 'po_paid',
        remittance: 'po_paid',
        reason: undefined,
      },
      {
        amount: '25.00',
        currency: 'USD',
        indicator: 'DBIT',
        booked: '2026-03-16',
        endToEnd: 'po_returned',
        remittance: 'po_returned',
        reason: undefined,
      },
    ]);
    assert.equal(String(monday.entries[1]?.AcctSvcrRef), paid.body.trace_id);
    assert.equal(String(monday.entries[1]?.NtryDtls.TxDtls.Refs.InstrId), paid.body.trace_id);
    assert.equal(monday.entries[0]?.Sts.Cd, 'BOOK');
    const closing = (10_000 - fee - 4_000 - 2_500) / 100;
    assert.deepEqual(monday.balances, [
      { code: 'OPBD', amount: '0.00', currency: 'USD', indicator: 'CRDT' },
      { code: 'CLBD', amount: closing.toFixed(2), currency: 'USD', indicator: 'CRDT' },
    ]);
    assert.deepEqual((await statement('2026-03-17')).entries, []);
    const wednesday = await statement('2026-03-18');
    assert.deepEqual(wednesday.entries.map(brief), [
      {
        amount: '25.00',
        currency: 'USD',
        indicator: 'CRDT',
        booked: '2026-03-18',
        endToEnd: 'po_returned',
        remittance: 'po_returned',
        reason: 'AC04',
      },
    ]);
    assert.equal(
      String(wednesday.entries[0]?.NtryDtls.TxDtls.Refs.InstrId),
      returned.body.trace_id,
    );
    assert.equal(wednesday.entries[0]?.NtryDtls.TxDtls.RtrInf?.AddtlInf, 'account_closed');
    assert.equal(wednesday.balances[0]?.amount, closing.toFixed(2));
    const refs = [...monday.entries, ...wednesday.entries].map((entry) =>
      String(entry.AcctSvcrRef),
    );
    assert.equal(new Set(refs).size, refs.length, 'entry references are unique');
    const truth = await moneyTruth(sim);
    assert.deepEqual(
      Object.values(truth.bank.payouts).map((record) => [
        record.payout_id,
        record.status,
        record.returned_on,
      ]),
      [
        ['po_paid', 'paid', null],
        ['po_rejected', 'rejected', null],
        ['po_returned', 'returned', '2026-03-18'],
      ],
    );
    assert.equal(truth.bank.credits[0]?.settlement_reference, settlement);
    assert.equal((await statementXml(sim, '2026-02-30')).status, 400);
  });

  test("amounts follow each currency's exponent; a statement filters by currency", async () => {
    await payout(sim, {
      payout_id: 'po_eur',
      amount: 100,
      currency: 'EUR',
      requested_at: '2026-03-10T10:00:00Z',
      account_number: PAID,
    });
    await payout(sim, {
      payout_id: 'po_jpy',
      amount: 500,
      currency: 'jpy',
      requested_at: '2026-03-10T10:00:00Z',
      account_number: PAID,
    });
    const both = await statement('2026-03-10');
    assert.deepEqual(
      both.entries.map((entry) => [entry.Amt['#text'], entry.Amt['@_Ccy']]),
      [
        ['1.00', 'EUR'],
        ['500', 'JPY'],
      ],
    );
    assert.deepEqual(
      both.balances.map((balance) => [
        balance.code,
        balance.currency,
        balance.amount,
        balance.indicator,
      ]),
      [
        ['OPBD', 'EUR', '0.00', 'CRDT'],
        ['CLBD', 'EUR', '1.00', 'DBIT'],
        ['OPBD', 'JPY', '0', 'CRDT'],
        ['CLBD', 'JPY', '500', 'DBIT'],
      ],
    );
    assert.deepEqual(
      (await statement('2026-03-10', '?currency=jpy')).entries.map((entry) => entry.Amt['@_Ccy']),
      ['JPY'],
    );
  });

  test('faults: late lines, a split settlement, a returned payout, a reject, a 500 and a lost answer', async () => {
    await adminJson(sim, 'PUT', '/bank/faults', {
      seed: 1,
      lateRate: 1,
      lateDays: 3,
      splitRate: 1,
    });
    const settlement = await settleStripe(10_001, '2026-03-10T18:00:00Z'); // due Wed 11th, booked Sat 14th
    const late = await payout(sim, {
      payout_id: 'po_late',
      amount: 700,
      requested_at: '2026-03-11T10:00:00Z',
      account_number: PAID,
    });
    assert.equal(late.body.expected_on, '2026-03-11');
    assert.deepEqual((await statement('2026-03-11')).entries, []);
    const saturday = await statement('2026-03-14');
    const fee = Math.floor((10_001 * 290 + 5000) / 10000) + 30;
    const net = 10_001 - fee;
    assert.deepEqual(
      saturday.entries
        .filter((entry) => entry.CdtDbtInd === 'CRDT')
        .map((entry) => [entry.Amt['#text'], entry.NtryDtls.TxDtls.RmtInf?.Ustrd]),
      [
        [(Math.floor(net / 2) / 100).toFixed(2), settlement],
        [((net - Math.floor(net / 2)) / 100).toFixed(2), settlement],
      ],
    );
    assert.deepEqual(
      (await statement('2026-03-14')).entries
        .filter((entry) => entry.CdtDbtInd === 'DBIT')
        .map(brief)
        .map((entry) => entry.endToEnd),
      ['po_late'],
    );
    const truth = await moneyTruth(sim);
    assert.deepEqual(
      truth.bank.credits[0]?.entries.map((entry) => entry.amount),
      [Math.floor(net / 2), net - Math.floor(net / 2)],
    );

    await adminJson(sim, 'PUT', '/bank/faults', {
      returnRate: 1,
      returnCode: 'account_frozen',
      returnAfterDays: 4,
    });
    await payout(sim, {
      payout_id: 'po_frozen',
      amount: 300,
      requested_at: '2026-03-20T10:00:00Z',
      account_number: PAID,
    });
    assert.deepEqual(
      (await statement('2026-03-24')).entries
        .map(brief)
        .map((entry) => [entry.endToEnd, entry.reason, entry.indicator]),
      [['po_frozen', 'AC06', 'CRDT']],
    );

    await adminJson(sim, 'PUT', '/bank/faults', { rejectRate: 1 });
    const refused = await payout(sim, {
      payout_id: 'po_refused',
      amount: 300,
      requested_at: '2026-03-20T10:00:00Z',
      account_number: PAID,
    });
    assert.deepEqual([refused.status, refused.body.failure_code], [422, 'account_frozen']);

    await adminJson(sim, 'PUT', '/bank/faults', { errorNext: 1, loseNext: 1 });
    const input = {
      payout_id: 'po_flaky',
      amount: 300,
      requested_at: '2026-03-21T10:00:00Z',
      account_number: PAID,
    };
    assert.equal((await payout(sim, input)).status, 500);
    assert.equal((await moneyTruth(sim)).bank.payouts.po_flaky, undefined, 'a 500 records nothing');
    await assert.rejects(payout(sim, input));
    assert.equal(
      (await moneyTruth(sim)).bank.payouts.po_flaky?.executions,
      1,
      'recorded before the answer was lost',
    );
    const retried = await payout(sim, input);
    assert.equal(retried.status, 201);
    const final = (await moneyTruth(sim)).bank.payouts.po_flaky;
    assert.deepEqual(
      [final?.executions, final?.requests, final?.trace_id],
      [1, 2, retried.body.trace_id],
    );
    assert.equal((await adminJson(sim, 'PUT', '/bank/faults', { returnCode: 'nope' })).status, 400);
    assert.deepEqual((await adminJson(sim, 'DELETE', '/bank/faults')).body, { bank: null });
  });

  test('dates are the calendar dates written in the timestamps Payrail sends (their own offset)', async () => {
    const evening = await payout(sim, {
      payout_id: 'po_offset',
      amount: 100,
      requested_at: '2026-03-10T22:30:00-05:00',
      account_number: PAID,
    });
    assert.equal(evening.body.expected_on, '2026-03-10');
    assert.deepEqual(
      (await statement('2026-03-10')).entries.map(brief).map((entry) => entry.endToEnd),
      ['po_offset'],
    );
    const settlement = await settleStripe(5_000, '2026-03-13T20:00:00-04:00'); // Friday there, Saturday in UTC
    assert.deepEqual(
      (await statement('2026-03-16')).entries.map(brief).map((entry) => entry.remittance),
      [settlement],
    );
    assert.equal(
      (
        await payout(sim, {
          payout_id: 'po_nozone',
          amount: 100,
          requested_at: '2026-03-10T10:00:00',
          account_number: PAID,
        })
      ).status,
      400,
    );
  });

  test('a batch whose refunds exceed its captures is debited, not credited', async () => {
    const capture = fresh('pi_');
    const refund = fresh('re_');
    await seed(sim, [
      {
        psp: 'stripe',
        psp_reference: capture,
        type: 'capture',
        amount: 1_000,
        currency: 'usd',
        authorized_at: '2026-03-09T10:00:00Z',
      },
      { psp: 'stripe', psp_reference: refund, type: 'refund', amount: 5_000, currency: 'usd' },
    ]);
    const ack = await submit(
      sim,
      'sb_negative',
      batchBody({ connector: 'stripe', currency: 'usd', cutoff_at: '2026-03-09T18:00:00Z' }, [
        { item_id: 't1', psp_reference: capture, type: 'capture', amount: 1_000, currency: 'usd' },
        { item_id: 't2', psp_reference: refund, type: 'refund', amount: 5_000, currency: 'usd' },
      ]),
    );
    assert.equal(ack.header.accepted_amount, -4_000);
    const fee = Math.floor((1_000 * 290 + 5000) / 10000) + 30;
    assert.deepEqual(
      (await statement('2026-03-10')).entries
        .map(brief)
        .map((entry) => [entry.indicator, entry.amount, entry.remittance]),
      [['DBIT', ((4_000 + fee) / 100).toFixed(2), ack.header.settlement_reference]],
    );
  });
});

describe('the XML writer and money formatting', () => {
  test('escapes text and attributes so that a parser reads back exactly what was written', () => {
    const nasty = `A & B <Ltd> "quoted" 'single' \u0001 end`;
    const xml = new XmlWriter().open('Doc', { note: nasty }).leaf('Nm', nasty).close().toString();
    const parsed = new XMLParser({ ignoreAttributes: false, parseTagValue: false }).parse(xml) as {
      Doc: { Nm: string; '@_note': string };
    };
    assert.equal(parsed.Doc.Nm, nasty.replace('\u0001', ''));
    assert.equal(parsed.Doc['@_note'], nasty.replace('\u0001', ''));
    assert.throws(() => new XmlWriter().open('Open').toString());
  });

  test('decimal strings follow the currency exponent; fees round half up', () => {
    assert.deepEqual(
      [
        decimalString(12_345, 'usd'),
        decimalString(-5, 'EUR'),
        decimalString(7, 'jpy'),
        decimalString(1_234, 'kwd'),
      ],
      ['123.45', '-0.05', '7', '1.234'],
    );
    assert.deepEqual(captureFees(DEFAULT_FEES.razorpay as FeeSchedule, 12_345), {
      commission: 247,
      markup: 0,
      schemeFee: 0,
      interchange: 0,
      tax: 44,
      total: 291,
    });
    assert.equal(captureFees(DEFAULT_FEES.stripe as FeeSchedule, 50).commission, 31); // 1.45 → 1, + 30
    assert.equal(captureFees(DEFAULT_FEES.stripe as FeeSchedule, 5_000_000_00).total, 14_500_030);
    const odd: FeeSchedule = {
      commissionBps: 123,
      commissionFixed: 7,
      markupBps: 45,
      schemeFeeBps: 6,
      interchangeBps: 89,
      taxBps: 1234,
      refundFixed: 15,
    };
    for (const amount of [1, 2, 49, 50, 51, 999, 12_345, 99_999_999_999]) {
      assert.equal(itemFeeTotal(odd, true, amount), captureFees(odd, amount).total);
      assert.equal(itemFeeTotal(odd, false, amount), refundFees(odd).total);
    }
  });
});
