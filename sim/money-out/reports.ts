// PSP settlement reports (CONTRACT.md "PSP settlement reports"): each acknowledged clearing batch,
// itemized in its PSP's style from the acquirer's record and the fee schedule it settled under.
// Stripe-like balance transactions of a payout (paginated), Adyen-like settlement detail CSV per
// batch number, Razorpay-like (and Paytm-like) recon JSON per settlement id. Available as soon as
// the batch is acknowledged; big reports are written in chunks.
import type { IncomingHttpHeaders } from 'node:http';
import { headerValue } from '../http.ts';
import type { Acquirer, Batch } from './acquirer.ts';
import { nextBusinessDay, writtenDate } from './common.ts';
import { decimalString, itemFees, type FeeBreakdown } from './fees.ts';
import { adjustedFees } from './seeding.ts';

export type ReportAnswer =
  | { readonly status: number; readonly text: string; readonly contentType?: string }
  | { readonly status: number; readonly chunks: Iterator<string>; readonly contentType: string };

const basic = (user: string, secret: string): string =>
  `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
const AUTH: Readonly<Record<string, { header: string; value: string }>> = {
  stripe: { header: 'authorization', value: 'Bearer sk_test_sim' },
  razorpay: { header: 'authorization', value: basic('rzp_test_sim', 'sim_secret') },
  paytm: { header: 'authorization', value: basic('SIMMID00000000000001', 'sim_merchant_key') },
  adyen: { header: 'x-api-key', value: 'AQE_sim_api_key' },
};
const CHUNK_ROWS = 2000;
const STRIPE_LIMIT_DEFAULT = 10;
const STRIPE_LIMIT_MAX = 100;
const RECON_COUNT_MAX = 1000;

export const ADYEN_COLUMNS = [
  'Company Account',
  'Merchant Account',
  'Psp Reference',
  'Merchant Reference',
  'Payment Method',
  'Creation Date',
  'TimeZone',
  'Type',
  'Modification Reference',
  'Gross Currency',
  'Gross Debit (GC)',
  'Gross Credit (GC)',
  'Exchange Rate',
  'Net Currency',
  'Net Debit (NC)',
  'Net Credit (NC)',
  'Commission (NC)',
  'Markup (NC)',
  'Scheme Fees (NC)',
  'Interchange (NC)',
  'Batch Number',
] as const;

type Route = (
  acquirer: Acquirer,
  segments: readonly string[],
  query: URLSearchParams,
) => ReportAnswer;

/** The report route for a request under a PSP prefix, or undefined (then the PSP module answers). */
export function matchReport(
  psp: string,
  method: string,
  segments: readonly string[],
): Route | undefined {
  if (method !== 'GET') return undefined;
  const [first, second, third, fourth] = segments;
  if (psp === 'stripe' && first === 'v1' && fourth === undefined) {
    if (second === 'balance_transactions' && third === undefined) return stripeBalanceTransactions;
    if (second === 'payouts' && third !== undefined) return stripePayout;
  }
  if (psp === 'adyen' && first === 'reports' && second !== undefined && third === undefined)
    return adyenReport;
  if (
    (psp === 'razorpay' || psp === 'paytm') &&
    segments.join('/') === 'v1/settlements/recon/combined'
  )
    return recon(psp);
  return undefined;
}

export function authenticateReport(psp: string, headers: IncomingHttpHeaders): boolean {
  const auth = AUTH[psp];
  return auth !== undefined && headerValue(headers, auth.header) === auth.value;
}

function jsonAnswer(status: number, value: unknown): ReportAnswer {
  return { status, text: JSON.stringify(value) };
}

/** How many lines the batch's report has (its accepted items unless seeding changed it). */
export function lineCount(batch: Batch): number {
  const plan = batch.report;
  return plan === undefined ? batch.accepted.length : plan.order.length + plan.extra.length;
}

/** Line p (0-based) of the batch's report → its fields. */
export function reportItem(acquirer: Acquirer, batch: Batch, p: number) {
  const plan = batch.report;
  const extra =
    plan !== undefined && p >= plan.order.length ? plan.extra[p - plan.order.length] : undefined;
  if (extra !== undefined) {
    const known = acquirer.lookup(batch.connector, extra.capture ? 0 : 1, extra.ref);
    return {
      capture: extra.capture,
      amount: extra.amount,
      ref: extra.ref,
      reference: known?.reference ?? null,
      paymentId: extra.capture ? extra.ref : (known?.paymentId ?? null),
      fees: extra.fees,
      createdMs: extra.createdMs,
    };
  }
  const k = plan === undefined ? p : (plan.order[p] as number);
  const index = batch.accepted[k] as number;
  const capture = batch.types[index] === 0;
  const ref = batch.refs[index] as string;
  const known = acquirer.lookup(batch.connector, capture ? 0 : 1, ref);
  const adjustment = plan?.adjustments.get(k);
  const amount = (batch.amounts[index] as number) + (adjustment?.gross ?? 0);
  const scheduled = itemFees(
    batch.fees,
    capture ? 'capture' : 'refund',
    batch.amounts[index] as number,
  );
  const fees: FeeBreakdown = adjustedFees(scheduled, adjustment);
  return {
    capture,
    amount,
    ref,
    reference: known?.reference ?? null,
    paymentId: capture ? ref : (known?.paymentId ?? null),
    fees,
    createdMs: batch.cutoffMs,
  };
}

const unix = (ms: number): number => Math.floor(ms / 1000);
const arrivalMs = (batch: Batch): number =>
  Date.parse(`${nextBusinessDay(writtenDate(batch.cutoffAt))}T00:00:00Z`);

// ---- Stripe ----

function stripeError(status: number, code: string, message: string, param?: string): ReportAnswer {
  return jsonAnswer(status, {
    error: {
      type: 'invalid_request_error',
      code,
      message,
      ...(param === undefined ? {} : { param }),
    },
  });
}

function txnPrefix(batch: Batch): string {
  return `txn_${batch.settlementReference.slice(3, 15)}`;
}

const stripeBalanceTransactions: Route = (acquirer, _segments, query) => {
  const payout = query.get('payout');
  if (payout === null || payout === '')
    return stripeError(
      400,
      'parameter_missing',
      'The simulator lists balance transactions by payout only.',
      'payout',
    );
  const batch = acquirer.bySettlement('stripe', payout);
  if (batch === undefined)
    return stripeError(404, 'resource_missing', `No such payout: '${payout}'`, 'payout');
  const limitText = query.get('limit');
  const limit = limitText === null ? STRIPE_LIMIT_DEFAULT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > STRIPE_LIMIT_MAX)
    return stripeError(
      400,
      'parameter_invalid_integer',
      'limit must be an integer from 1 to 100',
      'limit',
    );
  let start = 0;
  const after = query.get('starting_after');
  if (after !== null) {
    const prefix = txnPrefix(batch);
    const k = after.startsWith(prefix) ? parseInt(after.slice(prefix.length), 36) : Number.NaN;
    if (!(k >= 0 && k < lineCount(batch)))
      return stripeError(
        400,
        'resource_missing',
        `No such balance_transaction: '${after}'`,
        'starting_after',
      );
    start = k + 1;
  }
  const end = Math.min(lineCount(batch), start + limit);
  const data = [];
  for (let k = start; k < end; k += 1) data.push(stripeTransaction(acquirer, batch, k));
  return jsonAnswer(200, {
    object: 'list',
    data,
    has_more: end < lineCount(batch),
    url: '/v1/balance_transactions',
  });
};

export function stripeTransaction(
  acquirer: Acquirer,
  batch: Batch,
  k: number,
): Record<string, unknown> {
  const { capture, amount, ref, fees, createdMs } = reportItem(acquirer, batch, k);
  const signed = capture ? amount : -amount;
  const feeDetails = [];
  if (fees.total - fees.tax > 0)
    feeDetails.push({
      amount: fees.total - fees.tax,
      application: null,
      currency: batch.currency,
      description: 'Stripe processing fees',
      type: 'stripe_fee',
    });
  if (fees.tax > 0)
    feeDetails.push({
      amount: fees.tax,
      application: null,
      currency: batch.currency,
      description: 'Tax',
      type: 'tax',
    });
  return {
    id: `${txnPrefix(batch)}${k.toString(36).padStart(6, '0')}`,
    object: 'balance_transaction',
    amount: signed,
    available_on: unix(arrivalMs(batch)),
    created: unix(createdMs),
    currency: batch.currency,
    description: null,
    exchange_rate: null,
    fee: fees.total,
    fee_details: feeDetails,
    net: signed - fees.total,
    reporting_category: capture ? 'charge' : 'refund',
    source: ref,
    status: 'available',
    type: capture ? 'charge' : 'refund',
    payout: batch.settlementReference,
  };
}

const stripePayout: Route = (acquirer, segments) => {
  const id = segments[2] as string;
  const batch = acquirer.bySettlement('stripe', id);
  if (batch === undefined)
    return stripeError(404, 'resource_missing', `No such payout: '${id}'`, 'id');
  return jsonAnswer(200, {
    id,
    object: 'payout',
    amount: batch.payoutAmount,
    arrival_date: unix(arrivalMs(batch)),
    automatic: true,
    created: unix(batch.cutoffMs),
    currency: batch.currency,
    description: 'STRIPE PAYOUT',
    method: 'standard',
    statement_descriptor: batch.settlementReference,
    status: 'paid',
    type: 'bank_account',
    livemode: false,
  });
};

// ---- Adyen ----

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

const adyenReport: Route = (acquirer, segments) => {
  const match = /^settlement_detail_report_batch_(\d+)\.csv$/.exec(segments[1] as string);
  const batch = match === null ? undefined : acquirer.bySettlement('adyen', match[1] as string);
  if (batch === undefined)
    return jsonAnswer(404, {
      status: 404,
      errorCode: '000',
      message: 'Report not found',
      errorType: 'validation',
    });
  return {
    status: 200,
    contentType: 'text/csv; charset=utf-8',
    chunks: adyenRows(acquirer, batch),
  };
};

export function* adyenRows(acquirer: Acquirer, batch: Batch): Generator<string> {
  const currency = batch.currency;
  const code = currency.toUpperCase();
  const dateText = (ms: number): string =>
    new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
  const batchCreated = dateText(batch.cutoffMs);
  const money = (minor: number): string => decimalString(minor, currency);
  let rows: string[] = [ADYEN_COLUMNS.join(',')];
  const count = lineCount(batch);
  for (let k = 0; k < count; k += 1) {
    const { capture, amount, ref, reference, fees, createdMs } = reportItem(acquirer, batch, k);
    const created = createdMs === batch.cutoffMs ? batchCreated : dateText(createdMs);
    const commission = fees.commission + fees.tax;
    const net = capture ? amount - fees.total : amount + fees.total;
    rows.push(
      [
        'PayrailSim',
        'PayrailSimECOM',
        ref,
        reference ?? '',
        'visa',
        created,
        'UTC',
        capture ? 'Settled' : 'Refunded',
        capture ? '' : ref,
        code,
        capture ? '' : money(amount),
        capture ? money(amount) : '',
        '1',
        code,
        capture ? '' : money(net),
        capture ? money(net) : '',
        money(commission),
        money(fees.markup),
        money(fees.schemeFee),
        money(fees.interchange),
        batch.settlementReference,
      ]
        .map(csvField)
        .join(','),
    );
    if (rows.length >= CHUNK_ROWS) {
      yield `${rows.join('\n')}\n`;
      rows = [];
    }
  }
  if (rows.length > 0) yield `${rows.join('\n')}\n`;
}

// ---- Razorpay and Paytm ----

function recon(psp: string): Route {
  return (acquirer, _segments, query) => {
    const id = query.get('settlement_id');
    const fail = (description: string): ReportAnswer =>
      jsonAnswer(400, { error: { code: 'BAD_REQUEST_ERROR', description } });
    if (id === null || id === '') return fail('settlement_id is required');
    const batch = acquirer.bySettlement(psp, id);
    if (batch === undefined) return fail('The id provided does not exist');
    let skip = 0;
    let end = lineCount(batch);
    const countText = query.get('count');
    const skipText = query.get('skip');
    if (skipText !== null) {
      skip = Number(skipText);
      if (!Number.isInteger(skip) || skip < 0) return fail('skip must be a non-negative integer');
    }
    if (countText !== null) {
      const count = Number(countText);
      if (!Number.isInteger(count) || count < 1 || count > RECON_COUNT_MAX)
        return fail(`count must be an integer from 1 to ${RECON_COUNT_MAX}`);
      end = Math.min(end, skip + count);
    }
    return {
      status: 200,
      contentType: 'application/json',
      chunks: reconChunks(acquirer, batch, skip, end),
    };
  };
}

export function* reconChunks(
  acquirer: Acquirer,
  batch: Batch,
  skip: number,
  end: number,
): Generator<string> {
  const count = Math.max(0, end - skip);
  yield `{"entity":"collection","count":${count},"items":[`;
  const settledAt = unix(arrivalMs(batch));
  let parts: string[] = [];
  for (let k = skip; k < end; k += 1) {
    const { capture, amount, ref, reference, paymentId, fees, createdMs } = reportItem(
      acquirer,
      batch,
      k,
    );
    parts.push(
      JSON.stringify({
        entity_id: ref,
        type: capture ? 'payment' : 'refund',
        debit: capture ? 0 : amount + fees.total,
        credit: capture ? amount - fees.total : 0,
        amount,
        currency: batch.currency.toUpperCase(),
        fee: fees.total,
        tax: fees.tax,
        on_hold: false,
        settled: true,
        created_at: unix(createdMs),
        settled_at: settledAt,
        settlement_id: batch.settlementReference,
        settlement_utr: batch.settlementUtr,
        payment_id: paymentId,
        order_receipt: reference,
        description: null,
      }),
    );
    if (parts.length >= CHUNK_ROWS) {
      yield (k + 1 - skip > parts.length ? ',' : '') + parts.join(',');
      parts = [];
    }
  }
  if (parts.length > 0) yield (count > parts.length ? ',' : '') + parts.join(',');
  yield ']}';
}
