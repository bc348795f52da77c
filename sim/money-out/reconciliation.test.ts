// Reconciliation seeding (sim/CONTRACT.md "Reconciliation seeding"): every kind shows in the
// report or the statement as documented, the ground truth lists exactly what was injected, reports
// are the same bytes when fetched again, each bank credit equals its report's nets, and a seed
// gives the same injections run after run.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import Papa from 'papaparse';
import {
  clearSeeding,
  dayFiles,
  downloadReport,
  downloadStatement,
  injectedDiscrepancies,
  saveDayFiles,
  setSeeding,
  type Injected,
} from '../../test/support/reconciliation.ts';
import { startSimulator, type RunningSimulator } from '../server.ts';
import { DEFAULT_FEES, itemFees, type FeeSchedule } from './fees.ts';

let sim: RunningSimulator;
before(async () => {
  sim = await startSimulator({ port: 0 });
});
after(async () => {
  await sim.close();
});
beforeEach(async () => {
  assert.equal((await fetch(`${sim.url}/_sim/reset`, { method: 'POST' })).status, 200);
});

const DAY1 = '2026-03-10T18:00:00Z'; // a Tuesday: credited Wednesday 11th
const DAY2 = '2026-03-11T18:00:00Z'; // credited Thursday 12th
const CURRENCY: Readonly<Record<string, string>> = { stripe: 'usd', adyen: 'eur', razorpay: 'inr' };
const AUTH: Readonly<Record<string, Record<string, string>>> = {
  stripe: { authorization: 'Bearer sk_test_sim' },
  adyen: { 'x-api-key': 'AQE_sim_api_key' },
  razorpay: {
    authorization: `Basic ${Buffer.from('rzp_test_sim:sim_secret').toString('base64')}`,
  },
};

type Line = { ref: string; gross: number; fee: number; net: number; created: number };

async function seedCaptures(psp: string, refs: readonly string[], amounts: readonly number[]) {
  const body = refs
    .map((ref, index) =>
      JSON.stringify({
        psp,
        psp_reference: ref,
        type: 'capture',
        amount: amounts[index],
        currency: CURRENCY[psp],
        authorized_at: '2026-03-09T10:00:00Z',
        reference: `att_${ref}`,
      }),
    )
    .join('\n');
  const response = await fetch(`${sim.url}/_sim/ground_truth/bulk`, { method: 'POST', body });
  assert.equal(response.status, 200, await response.text());
}

/** Submits a batch of captures; returns the settlement reference. */
async function submit(
  psp: string,
  batchId: string,
  cutoffAt: string,
  refs: readonly string[],
  amounts: readonly number[],
): Promise<string> {
  const currency = CURRENCY[psp] as string;
  const items = refs.map((ref, index) => ({
    item_id: `item_${ref}`,
    psp_reference: ref,
    type: 'capture',
    amount: amounts[index],
    currency,
  }));
  const net = amounts.reduce((sum, amount) => sum + amount, 0);
  const header = {
    connector: psp,
    currency,
    cutoff_at: cutoffAt,
    item_count: refs.length,
    net_amount: net,
  };
  const response = await fetch(`${sim.url}/acquirer/v1/clearing_batches/${batchId}`, {
    method: 'POST',
    headers: { authorization: 'Bearer acq_test_sim' },
    body: [header, ...items].map((line) => JSON.stringify(line)).join('\n'),
  });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  const ack = JSON.parse(text.split('\n')[0] as string) as Record<string, unknown>;
  assert.equal(ack.accepted_count, refs.length);
  return ack.settlement_reference as string;
}

const minor = (text: string | undefined): number =>
  text === undefined || text === '' ? 0 : Number(text.replace('.', ''));

/** A report file's lines in one shape, whatever the style. */
function parseReport(psp: string, text: string): Line[] {
  if (psp === 'adyen') {
    const rows = Papa.parse<Record<string, string>>(text.trim(), { header: true }).data;
    return rows.map((row) => ({
      ref: row['Psp Reference'] as string,
      gross: minor(row['Gross Credit (GC)']) - minor(row['Gross Debit (GC)']),
      fee:
        minor(row['Commission (NC)']) +
        minor(row['Markup (NC)']) +
        minor(row['Scheme Fees (NC)']) +
        minor(row['Interchange (NC)']),
      net: minor(row['Net Credit (NC)']) - minor(row['Net Debit (NC)']),
      created: Date.parse(`${(row['Creation Date'] as string).replace(' ', 'T')}Z`) / 1000,
    }));
  }
  type Row = {
    source: string;
    entity_id: string;
    type: string;
    amount: number;
    fee: number;
    net: number;
    credit: number;
    debit: number;
    created: number;
    created_at: number;
  };
  const body = JSON.parse(text) as { data?: Row[]; items?: Row[] };
  if (psp === 'stripe')
    return (body.data ?? []).map((bt) => ({
      ref: bt.source,
      gross: bt.amount,
      fee: bt.fee,
      net: bt.net,
      created: bt.created,
    }));
  return (body.items ?? []).map((item) => ({
    ref: item.entity_id,
    gross: item.type === 'payment' ? item.amount : -item.amount,
    fee: item.fee,
    net: item.credit - item.debit,
    created: item.created_at,
  }));
}

/** The report through the PSP's own route (Stripe: every page), as text. */
async function pspReport(psp: string, reference: string): Promise<string> {
  if (psp === 'adyen') {
    const url = `${sim.url}/adyen/reports/settlement_detail_report_batch_${reference}.csv`;
    return (await fetch(url, { headers: AUTH.adyen })).text();
  }
  if (psp === 'razorpay') {
    const url = `${sim.url}/razorpay/v1/settlements/recon/combined?settlement_id=${reference}`;
    return (await fetch(url, { headers: AUTH.razorpay })).text();
  }
  const data: unknown[] = [];
  let after = '';
  for (;;) {
    const url = `${sim.url}/stripe/v1/balance_transactions?payout=${reference}&limit=3${after}`;
    const page = (await (await fetch(url, { headers: AUTH.stripe })).json()) as {
      data: { id: string }[];
      has_more: boolean;
    };
    data.push(...page.data);
    if (!page.has_more) break;
    after = `&starting_after=${page.data[page.data.length - 1]?.id}`;
  }
  return JSON.stringify({ data });
}

type Credit = {
  settlement_reference: string;
  amount: number;
  entries: { entry_reference: string; amount: number; booked_on: string }[];
};

async function creditOf(reference: string): Promise<Credit> {
  const response = await fetch(`${sim.url}/_sim/ground_truth/money_out?items=false`);
  const truth = (await response.json()) as { bank: { credits: Credit[] } };
  const credit = truth.bank.credits.find((entry) => entry.settlement_reference === reference);
  assert.ok(credit, `a credit for ${reference}`);
  return credit;
}

const sum = (lines: readonly Line[]): number => lines.reduce((total, line) => total + line.net, 0);
const scheduled = (psp: string, amount: number): number =>
  itemFees(DEFAULT_FEES[psp] as FeeSchedule, 'capture', amount).total;

describe('reconciliation seeding', () => {
  for (const psp of ['stripe', 'adyen', 'razorpay']) {
    test(`${psp}: every line kind on targets, the late line in the next day's report`, async () => {
      const refs = Array.from(
        { length: 8 },
        (_, index) => `${psp === 'adyen' ? 'R' : 'r'}${psp}${index}`,
      );
      const amounts = refs.map((_, index) => 10_000 + index * 1_111);
      const next = [`n${psp}0`, `n${psp}1`];
      await seedCaptures(psp, [...refs, ...next], [...amounts, 5_000, 6_000]);
      await setSeeding(sim, {
        seed: 1,
        feeVariance: 25,
        targets: {
          missing_line: [refs[0] as string],
          duplicate_line: [refs[1] as string],
          fee_variance: [refs[2] as string],
          amount_off_by_one: [refs[3] as string],
          late_line: [refs[4] as string],
          unexpected_line: [`b1_${psp}`],
          split_settlement: [`b1_${psp}`],
        },
      });
      const first = await submit(psp, `b1_${psp}`, DAY1, refs, amounts);
      const firstFile = await downloadReport(sim, psp, first);
      const lines = parseReport(psp, firstFile.bytes.toString('utf8'));
      const truth = await injectedDiscrepancies(sim, { psp });
      const unexpected = truth.find((entry) => entry.kind === 'unexpected_line');
      assert.ok(unexpected?.subject.psp_reference !== undefined);
      assert.deepEqual(
        lines.map((line) => line.ref),
        [
          refs[1],
          refs[2],
          refs[3],
          refs[5],
          refs[6],
          refs[7],
          refs[1],
          unexpected.subject.psp_reference,
        ],
      );
      const line = (ref: string): Line => lines.find((candidate) => candidate.ref === ref) as Line;
      assert.equal(line(refs[2] as string).fee, scheduled(psp, amounts[2] as number) + 25);
      assert.equal(line(refs[3] as string).gross, (amounts[3] as number) + 1);
      assert.equal(line(refs[3] as string).fee, scheduled(psp, amounts[3] as number));
      assert.equal(line(refs[5] as string).fee, scheduled(psp, amounts[5] as number));
      for (const each of lines) assert.equal(each.net, each.gross - each.fee);
      const credit = await creditOf(first);
      assert.equal(credit.amount, sum(lines), 'the credit is what the report says it pays');
      assert.equal(credit.entries.length, 2, 'split in two credits');
      assert.equal(
        credit.entries.reduce((total, entry) => total + entry.amount, 0),
        sum(lines),
      );
      const statement = (await downloadStatement(sim, '2026-03-11')).bytes.toString('utf8');
      assert.equal(statement.split(`<EndToEndId>${first}</EndToEndId>`).length - 1, 2);

      const second = await submit(psp, `b2_${psp}`, DAY2, next, [5_000, 6_000]);
      const secondLines = parseReport(
        psp,
        (await downloadReport(sim, psp, second)).bytes.toString('utf8'),
      );
      assert.deepEqual(
        secondLines.map((each) => each.ref),
        [...next, refs[4]],
      );
      const late = secondLines[2] as Line;
      assert.equal(late.created, Date.parse(DAY1) / 1000, 'the late line keeps its own day');
      assert.equal(late.net, (amounts[4] as number) - scheduled(psp, amounts[4] as number));
      assert.equal((await creditOf(second)).amount, sum(secondLines));

      const all = await injectedDiscrepancies(sim, { psp });
      assert.deepEqual(
        all.map((entry) => [
          entry.kind,
          entry.subject.psp_reference ?? null,
          entry.subject.batch_id,
        ]),
        [
          ['missing_line', refs[0], `b1_${psp}`],
          ['unexpected_line', unexpected.subject.psp_reference, `b1_${psp}`],
          ['duplicate_line', refs[1], `b1_${psp}`],
          ['fee_variance', refs[2], `b1_${psp}`],
          ['amount_off_by_one', refs[3], `b1_${psp}`],
          ['late_line', refs[4], `b1_${psp}`],
          ['split_settlement', null, `b1_${psp}`],
        ],
      );
      for (const entry of all) {
        assert.equal(entry.connector, psp);
        assert.equal(entry.subject.settlement_reference, first);
      }
      const lateEntry = all.find((entry) => entry.kind === 'late_line') as Injected;
      assert.deepEqual(lateEntry.details.reported_in, {
        batch_id: `b2_${psp}`,
        settlement_reference: second,
        cutoff_on: '2026-03-11',
        line: psp === 'adyen' ? 4 : 3,
      });
      const fee = all.find((entry) => entry.kind === 'fee_variance') as Injected;
      assert.equal(fee.details.difference, 25);
      assert.equal(fee.details.line, psp === 'adyen' ? 3 : 2);

      // Fetched again, by file and through the PSP's own route: the same bytes.
      assert.deepEqual((await downloadReport(sim, psp, first)).bytes, firstFile.bytes);
      const viaRoute = await pspReport(psp, first);
      assert.equal(await pspReport(psp, first), viaRoute);
      assert.deepEqual(
        parseReport(psp, viaRoute).map((each) => each.ref),
        lines.map((each) => each.ref),
      );
    });
  }

  test('off by default: plain reports, nothing listed', async () => {
    const refs = ['p0', 'p1', 'p2'];
    await seedCaptures('stripe', refs, [1_000, 2_000, 3_000]);
    const reference = await submit('stripe', 'plain', DAY1, refs, [1_000, 2_000, 3_000]);
    const lines = parseReport(
      'stripe',
      (await downloadReport(sim, 'stripe', reference)).bytes.toString('utf8'),
    );
    assert.deepEqual(
      lines.map((line) => line.ref),
      refs,
    );
    assert.equal((await creditOf(reference)).amount, sum(lines));
    assert.deepEqual(await injectedDiscrepancies(sim), []);
    const settings = await fetch(`${sim.url}/_sim/reconciliation`);
    assert.deepEqual(await settings.json(), { reconciliation: null });
  });

  test('payouts returned: on target, by the returned test account; listed with their cause', async () => {
    await setSeeding(sim, { targets: { payout_returned: ['po_target'] }, returnAfterDays: 3 });
    const pay = async (payoutId: string, account: string) => {
      const response = await fetch(`${sim.url}/bank/v1/payouts`, {
        method: 'POST',
        headers: { authorization: 'Bearer bank_test_sim', 'content-type': 'application/json' },
        body: JSON.stringify({
          payout_id: payoutId,
          amount: 4_200,
          currency: 'usd',
          requested_at: '2026-03-10T09:00:00Z',
          account: { holder_name: 'Ada', account_number: account, country: 'US' },
        }),
      });
      assert.equal(response.status, 201);
    };
    await pay('po_target', '000123456789');
    await pay('po_plain', '000123456789');
    await pay('po_account', '000111111113');
    const truth = await injectedDiscrepancies(sim, { kind: 'payout_returned' });
    assert.deepEqual(
      truth.map((entry) => [
        entry.subject.payout_id,
        entry.details.cause,
        entry.details.returned_on,
      ]),
      [
        ['po_account', 'account', '2026-03-12'],
        ['po_target', 'target', '2026-03-13'],
      ],
    );
    const statement = (await downloadStatement(sim, '2026-03-13', 'usd')).bytes.toString('utf8');
    assert.match(statement, /<EndToEndId>po_target<\/EndToEndId>[\s\S]*<Cd>AC04<\/Cd>/);
    assert.equal(truth[1]?.amount, 4_200);
  });

  test('rates: the same seed injects the same discrepancies; credits always equal the reports', async () => {
    const run = async (seed: number) => {
      await fetch(`${sim.url}/_sim/reset`, { method: 'POST' });
      const refs = Array.from({ length: 60 }, (_, index) => `q${index}`);
      const amounts = refs.map((_, index) => 1_000 + index * 7);
      await seedCaptures('razorpay', refs, amounts);
      await setSeeding(sim, {
        seed,
        rates: {
          missing_line: 0.05,
          unexpected_line: 0.05,
          duplicate_line: 0.05,
          fee_variance: 0.05,
          amount_off_by_one: 0.05,
          late_line: 0.05,
          split_settlement: 0.5,
        },
      });
      const references = [
        await submit('razorpay', 'r1', DAY1, refs.slice(0, 30), amounts.slice(0, 30)),
        await submit('razorpay', 'r2', DAY2, refs.slice(30), amounts.slice(30)),
      ];
      for (const reference of references) {
        const text = (await downloadReport(sim, 'razorpay', reference)).bytes.toString('utf8');
        assert.equal((await creditOf(reference)).amount, sum(parseReport('razorpay', text)));
      }
      // Settlement references and bank entry references are random; the rest is the seed's.
      return (await injectedDiscrepancies(sim)).map((entry) => ({
        kind: entry.kind,
        subject: { ...entry.subject, settlement_reference: undefined },
        amount: entry.amount,
        details:
          entry.kind === 'split_settlement' || entry.kind === 'late_line' ? null : entry.details,
      }));
    };
    const first = await run(7);
    assert.ok(first.length >= 5, `enough injected: ${first.length}`);
    assert.deepEqual(await run(7), first);
    assert.notDeepEqual(await run(8), first);
  });

  test('bad settings are refused and change nothing', async () => {
    for (const body of [
      { rates: { missing_line: 0.6, late_line: 0.5 } },
      { rates: { nonsense: 0.1 } },
      { targets: { missing_line: 'x' } },
      { feeVariance: 0 },
      { amountOffBy: 2 },
      { returnCode: 'nope' },
      { other: 1 },
    ]) {
      const response = await fetch(`${sim.url}/_sim/reconciliation`, {
        method: 'PUT',
        body: JSON.stringify(body),
      });
      assert.equal(response.status, 400, JSON.stringify(body));
    }
    await setSeeding(sim, { seed: 3 });
    await clearSeeding(sim);
    assert.deepEqual(await (await fetch(`${sim.url}/_sim/reconciliation`)).json(), {
      reconciliation: null,
    });
  });

  test("a day's files: listed, downloaded whole and saved", async () => {
    const refs = Array.from({ length: 150 }, (_, index) => `f${index}`);
    const amounts = refs.map(() => 2_500);
    await seedCaptures('stripe', refs, amounts);
    await seedCaptures('adyen', ['FA0'], [700]);
    const stripeRef = await submit('stripe', 's1', DAY1, refs, amounts);
    const adyenRef = await submit('adyen', 'a1', DAY1, ['FA0'], [700]);
    const listing = await dayFiles(sim, '2026-03-10');
    assert.deepEqual(
      listing.reports.map((report) => [report.psp, report.settlement_reference, report.lines]),
      [
        ['stripe', stripeRef, 150],
        ['adyen', adyenRef, 1],
      ],
    );
    const file = await downloadReport(sim, 'stripe', stripeRef);
    const body = JSON.parse(file.bytes.toString('utf8')) as { data: unknown[]; has_more: boolean };
    assert.equal(body.data.length, 150, 'the whole list, beyond the API page limit of 100');
    assert.equal(body.has_more, false);
    const directory = await mkdtemp(join(tmpdir(), 'recon-files-'));
    try {
      const paths = await saveDayFiles(sim, '2026-03-10', directory, '2026-03-11');
      assert.equal(paths.length, 3);
      assert.deepEqual((await readdir(directory)).sort(), [
        'camt053_2026-03-11.xml',
        `settlement_detail_report_batch_${adyenRef}.csv`,
        `stripe_balance_transactions_${stripeRef}.json`,
      ]);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
