// Report and statement files an operator could upload (CONTRACT.md "Reconciliation seeding",
// "Files"): each PSP report whole in one document of its style's shape, the camt.053 statement of
// a day, and a listing of a day's files. Loopback only, under /_sim/files (the PSPs' own routes
// keep their paging). Written in chunks, with backpressure: a report can have a million lines.
import type { Acquirer, Batch } from './acquirer.ts';
import type { Bank } from './bank.ts';
import { isDate, nextBusinessDay, writtenDate } from './common.ts';
import { adyenRows, lineCount, reconChunks, stripeTransaction } from './reports.ts';

export type FileAnswer =
  | { readonly status: number; readonly text: string; readonly contentType: string }
  | {
      readonly status: number;
      readonly chunks: Iterator<string>;
      readonly contentType: string;
      readonly filename: string;
    };

const CHUNK_LINES = 2000;

const notFound = (message: string): FileAnswer => ({
  status: 404,
  text: JSON.stringify({ error: { message } }),
  contentType: 'application/json',
});
const badRequest = (message: string): FileAnswer => ({
  status: 400,
  text: JSON.stringify({ error: { message } }),
  contentType: 'application/json',
});

/** GET /_sim/files…; segments after "files". */
export function fileRoute(
  acquirer: Acquirer,
  bank: Bank,
  segments: readonly string[],
  query: URLSearchParams,
): FileAnswer {
  const [kind, first, second, extra] = segments;
  if (kind === undefined) return listing(acquirer, query);
  if (kind === 'reports' && first !== undefined && second !== undefined && extra === undefined) {
    const batch = acquirer.bySettlement(first, second);
    if (batch === undefined)
      return notFound(`no ${first} report with settlement reference ${second}`);
    return reportFile(acquirer, batch);
  }
  if (kind === 'statements' && first !== undefined && second === undefined) {
    if (!isDate(first)) return badRequest('the date must be YYYY-MM-DD');
    const currency = query.get('currency')?.toLowerCase();
    const suffix = currency === undefined ? '' : `_${currency.toUpperCase()}`;
    return {
      status: 200,
      chunks: [bank.statement(first, currency)][Symbol.iterator](),
      contentType: 'application/xml',
      filename: `camt053_${first}${suffix}.xml`,
    };
  }
  return notFound('no such file route: /_sim/files[?date=], /reports/:psp/:ref, /statements/:date');
}

/** The file name of a batch's report (also what the listing shows). */
export function reportFilename(batch: Batch): string {
  const reference = batch.settlementReference;
  if (batch.connector === 'adyen') return `settlement_detail_report_batch_${reference}.csv`;
  if (batch.connector === 'stripe') return `stripe_balance_transactions_${reference}.json`;
  return `${batch.connector}_settlement_recon_${reference}.json`;
}

function reportFile(acquirer: Acquirer, batch: Batch): FileAnswer {
  const filename = reportFilename(batch);
  if (batch.connector === 'adyen')
    return {
      status: 200,
      chunks: adyenRows(acquirer, batch),
      contentType: 'text/csv; charset=utf-8',
      filename,
    };
  if (batch.connector === 'stripe')
    return {
      status: 200,
      chunks: stripeList(acquirer, batch),
      contentType: 'application/json',
      filename,
    };
  return {
    status: 200,
    chunks: reconChunks(acquirer, batch, 0, lineCount(batch)),
    contentType: 'application/json',
    filename,
  };
}

/** Every balance transaction of a payout in one list, the shape of one page. */
function* stripeList(acquirer: Acquirer, batch: Batch): Generator<string> {
  yield '{"object":"list","data":[';
  const count = lineCount(batch);
  let parts: string[] = [];
  for (let k = 0; k < count; k += 1) {
    parts.push(JSON.stringify(stripeTransaction(acquirer, batch, k)));
    if (parts.length >= CHUNK_LINES || k === count - 1) {
      yield (k + 1 > parts.length ? ',' : '') + parts.join(',');
      parts = [];
    }
  }
  yield '],"has_more":false,"url":"/v1/balance_transactions"}';
}

/** The reports of batches cut off on a date (acknowledgement order) and that date's statement. */
function listing(acquirer: Acquirer, query: URLSearchParams): FileAnswer {
  const date = query.get('date');
  if (date === null || !isDate(date)) return badRequest('date=YYYY-MM-DD is required');
  const psp = query.get('psp');
  const reports = [];
  for (const batch of acquirer.batches.values()) {
    if (writtenDate(batch.cutoffAt) !== date) continue;
    if (psp !== null && batch.connector !== psp) continue;
    reports.push({
      psp: batch.connector,
      currency: batch.currency,
      batch_id: batch.id,
      settlement_reference: batch.settlementReference,
      cutoff_at: batch.cutoffAt,
      settles_on: nextBusinessDay(writtenDate(batch.cutoffAt)),
      lines: lineCount(batch),
      payout_amount: batch.payoutAmount,
      filename: reportFilename(batch),
      path: `/_sim/files/reports/${batch.connector}/${encodeURIComponent(batch.settlementReference)}`,
    });
  }
  return {
    status: 200,
    text: JSON.stringify({
      date,
      reports,
      statement: { filename: `camt053_${date}.xml`, path: `/_sim/files/statements/${date}` },
    }),
    contentType: 'application/json',
  };
}
