// PSP settlement reports against the real simulator process (CONTRACT.md "PSP settlement
// reports"): each style's numbers follow the documented fee schedule, to the minor unit.
import assert from 'node:assert/strict';
import Papa from 'papaparse';
import { after, before, beforeEach, describe, test } from 'node:test';
import {
  adminJson,
  batchBody,
  fresh,
  getJson,
  seed,
  submit,
  type Item,
} from './money-out-support.ts';
import { startSimProcess, type SimProcess } from './support.ts';

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

const CUTOFF = '2026-03-13T18:00:00Z'; // a Friday: the credit and available_on are Monday
const MONDAY = Date.parse('2026-03-16T00:00:00Z') / 1000;
/** Half up, as CONTRACT.md's fee schedule says: floor((amount × bps + 5000) / 10000). */
const bp = (amount: number, bps: number): number => Math.floor((amount * bps + 5000) / 10000);

/** Seeds captures (and one refund of the first) at a PSP, clears them, returns the ack header. */
async function settle(psp: string, currency: string, amounts: number[], refund: number) {
  const refs = amounts.map(() => fresh(`${psp}_p`));
  const refundRef = fresh(`${psp}_r`);
  await seed(sim, [
    ...refs.map((ref, index) => ({
      psp,
      psp_reference: ref,
      type: 'capture' as const,
      amount: amounts[index] as number,
      currency,
      authorized_at: '2026-03-12T10:00:00Z',
      reference: `att_${index}`,
    })),
    {
      psp,
      psp_reference: refundRef,
      type: 'refund' as const,
      amount: refund,
      currency,
      payment_reference: refs[0] as string,
      reference: 'ref_1',
    },
  ]);
  const items: Item[] = [
    ...refs.map((ref, index) => ({
      item_id: `txn_${index}`,
      psp_reference: ref,
      type: 'capture' as const,
      amount: amounts[index] as number,
      currency,
    })),
    { item_id: 'txn_r', psp_reference: refundRef, type: 'refund', amount: refund, currency },
    { item_id: 'txn_x', psp_reference: 'nope', type: 'capture', amount: 5, currency },
  ];
  const ack = await submit(
    sim,
    fresh('sb_'),
    batchBody({ connector: psp, currency, cutoff_at: CUTOFF }, items),
  );
  assert.equal(ack.header.accepted_count, amounts.length + 1);
  return { ack: ack.header, refs, refundRef };
}

describe('settlement reports', () => {
  test('stripe: itemized balance transactions of a payout, paginated, 2.9 % + 30', async () => {
    const amounts = [10_000, 2_345, 99, 1_000_000];
    const { ack, refs, refundRef } = await settle('stripe', 'usd', amounts, 2_500);
    const payoutId = String(ack.settlement_reference);
    const url = (extra: string) =>
      `${sim.url}/stripe/v1/balance_transactions?payout=${payoutId}${extra}`;
    const page1 = await getJson(url('&limit=3'), 'Bearer sk_test_sim');
    assert.equal(page1.status, 200);
    const data1 = page1.body.data as Record<string, unknown>[];
    assert.equal(data1.length, 3);
    assert.equal(page1.body.has_more, true);
    const page2 = await getJson(
      url(`&limit=3&starting_after=${String(data1[2]?.id)}`),
      'Bearer sk_test_sim',
    );
    assert.equal(page2.body.has_more, false);
    const all = [...data1, ...(page2.body.data as Record<string, unknown>[])];
    assert.equal(all.length, 5);
    amounts.forEach((amount, index) => {
      const row = all[index] as Record<string, unknown>;
      const fee = bp(amount, 290) + 30;
      assert.deepEqual(
        {
          source: row.source,
          type: row.type,
          amount: row.amount,
          fee: row.fee,
          net: row.net,
          payout: row.payout,
          available_on: row.available_on,
        },
        {
          source: refs[index],
          type: 'charge',
          amount,
          fee,
          net: amount - fee,
          payout: payoutId,
          available_on: MONDAY,
        },
      );
      assert.deepEqual(row.fee_details, [
        {
          amount: fee,
          application: null,
          currency: 'usd',
          description: 'Stripe processing fees',
          type: 'stripe_fee',
        },
      ]);
    });
    assert.deepEqual(
      [all[4]?.source, all[4]?.type, all[4]?.amount, all[4]?.fee, all[4]?.net],
      [refundRef, 'refund', -2_500, 0, -2_500],
    );
    const fees = amounts.reduce((sum, amount) => sum + bp(amount, 290) + 30, 0);
    const payout = await getJson(`${sim.url}/stripe/v1/payouts/${payoutId}`, 'Bearer sk_test_sim');
    assert.equal(payout.body.amount, amounts.reduce((a, b) => a + b) - 2_500 - fees);
    assert.equal((await getJson(url(''), 'Bearer sk_wrong')).status, 401);
    assert.equal(
      (
        await getJson(
          `${sim.url}/stripe/v1/balance_transactions?payout=po_nope`,
          'Bearer sk_test_sim',
        )
      ).status,
      404,
    );
    assert.equal(
      (await getJson(url('&starting_after=txn_nope'), 'Bearer sk_test_sim')).status,
      400,
    );
  });

  test('adyen: settlement detail CSV per batch number, decimal strings, commission/markup/scheme/interchange', async () => {
    const amounts = [10_000, 123_456, 1];
    const { ack, refs, refundRef } = await settle('adyen', 'eur', amounts, 700);
    const batch = String(ack.settlement_reference);
    const response = await fetch(
      `${sim.url}/adyen/reports/settlement_detail_report_batch_${batch}.csv`,
      { headers: { 'x-api-key': 'AQE_sim_api_key' } },
    );
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/csv/);
    const parsed = Papa.parse<Record<string, string>>(await response.text(), {
      delimiter: ',',
      newline: '\n',
      header: true,
      dynamicTyping: false,
      skipEmptyLines: true,
    });
    assert.deepEqual(parsed.errors, []);
    const rows = parsed.data;
    assert.equal(rows.length, 4);
    const decimal = (minor: number): string => (minor / 100).toFixed(2);
    amounts.forEach((amount, index) => {
      const row = rows[index] as Record<string, string>;
      const commission = 11;
      const markup = bp(amount, 60);
      const scheme = bp(amount, 2);
      const interchange = bp(amount, 30);
      assert.deepEqual(
        [
          row['Psp Reference'],
          row['Merchant Reference'],
          row.Type,
          row['Gross Currency'],
          row['Gross Credit (GC)'],
          row['Gross Debit (GC)'],
          row['Commission (NC)'],
          row['Markup (NC)'],
          row['Scheme Fees (NC)'],
          row['Interchange (NC)'],
          row['Net Credit (NC)'],
          row['Net Debit (NC)'],
          row['Batch Number'],
        ],
        [
          refs[index],
          `att_${index}`,
          'Settled',
          'EUR',
          decimal(amount),
          '',
          decimal(commission),
          decimal(markup),
          decimal(scheme),
          decimal(interchange),
          decimal(amount - commission - markup - scheme - interchange),
          '',
          batch,
        ],
      );
    });
    const refund = rows[3] as Record<string, string>;
    assert.deepEqual(
      [
        refund['Psp Reference'],
        refund.Type,
        refund['Gross Debit (GC)'],
        refund['Net Debit (NC)'],
        refund['Merchant Reference'],
      ],
      [refundRef, 'Refunded', '7.00', '7.00', 'ref_1'],
    );
    const missing = await fetch(`${sim.url}/adyen/reports/settlement_detail_report_batch_1.csv`, {
      headers: { 'x-api-key': 'AQE_sim_api_key' },
    });
    assert.equal(missing.status, 404);
    await missing.text();
  });

  test('razorpay and paytm: recon JSON with fee (tax included), tax, settlement id and UTR', async () => {
    for (const [psp, authorization] of [
      ['razorpay', `Basic ${Buffer.from('rzp_test_sim:sim_secret').toString('base64')}`],
      ['paytm', `Basic ${Buffer.from('SIMMID00000000000001:sim_merchant_key').toString('base64')}`],
    ] as const) {
      const bps = psp === 'razorpay' ? 200 : 199;
      const amounts = [50_000, 12_345];
      const { ack, refs, refundRef } = await settle(psp, 'inr', amounts, 10_000);
      const id = String(ack.settlement_reference);
      assert.match(id, /^setl_[A-Za-z0-9]{14}$/);
      const url = `${sim.url}/${psp}/v1/settlements/recon/combined?settlement_id=${id}`;
      const recon = await getJson(url, authorization);
      assert.equal(recon.status, 200);
      assert.equal(recon.body.entity, 'collection');
      assert.equal(recon.body.count, 3);
      const items = recon.body.items as Record<string, unknown>[];
      amounts.forEach((amount, index) => {
        const commission = bp(amount, bps);
        const tax = bp(commission, 1800);
        const item = items[index] as Record<string, unknown>;
        assert.deepEqual(
          [
            item.entity_id,
            item.type,
            item.amount,
            item.fee,
            item.tax,
            item.credit,
            item.debit,
            item.currency,
            item.settlement_id,
            item.order_receipt,
          ],
          [
            refs[index],
            'payment',
            amount,
            commission + tax,
            tax,
            amount - commission - tax,
            0,
            'INR',
            id,
            `att_${index}`,
          ],
        );
        assert.match(String(item.settlement_utr), /^SIMB\d{18}$/);
      });
      const refund = items[2] as Record<string, unknown>;
      assert.deepEqual(
        [refund.entity_id, refund.type, refund.amount, refund.fee, refund.debit, refund.payment_id],
        [refundRef, 'refund', 10_000, 0, 10_000, refs[0]],
      );
      const page = await getJson(`${url}&count=1&skip=1`, authorization);
      const tail = await getJson(`${url}&skip=2`, authorization);
      assert.deepEqual(
        [tail.body.count, (tail.body.items as Record<string, unknown>[])[0]?.entity_id],
        [1, refundRef],
      );
      assert.deepEqual(
        [page.body.count, (page.body.items as Record<string, unknown>[])[0]?.entity_id],
        [1, refs[1]],
      );
      assert.equal((await getJson(url)).status, 401);
      assert.equal(
        (
          await getJson(
            `${sim.url}/${psp}/v1/settlements/recon/combined?settlement_id=setl_nope`,
            authorization,
          )
        ).status,
        400,
      );
    }
  });

  test('a fee schedule set by the admin applies to batches acknowledged after it', async () => {
    const schedule = await adminJson(sim, 'PUT', '/fees/stripe', {
      commissionBps: 100,
      commissionFixed: 0,
      taxBps: 1000,
    });
    assert.equal(schedule.status, 200);
    const { ack } = await settle('stripe', 'usd', [10_000], 100);
    const list = await getJson(
      `${sim.url}/stripe/v1/balance_transactions?payout=${String(ack.settlement_reference)}`,
      'Bearer sk_test_sim',
    );
    const charge = (list.body.data as Record<string, unknown>[])[0] as Record<string, unknown>;
    assert.equal(charge.fee, 110);
    assert.deepEqual(
      (charge.fee_details as { type: string; amount: number }[]).map((detail) => [
        detail.type,
        detail.amount,
      ]),
      [
        ['stripe_fee', 100],
        ['tax', 10],
      ],
    );
    assert.equal((await adminJson(sim, 'PUT', '/fees/stripe', { commissionBps: -1 })).status, 400);
    assert.equal((await adminJson(sim, 'DELETE', '/fees/stripe')).body.stripe !== undefined, true);
    assert.deepEqual((await adminJson(sim, 'GET', '/fees/stripe')).body, {
      stripe: {
        commissionBps: 290,
        commissionFixed: 30,
        markupBps: 0,
        schemeFeeBps: 0,
        interchangeBps: 0,
        taxBps: 0,
        refundFixed: 0,
      },
    });
  });
});
