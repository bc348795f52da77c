// Stripe-style settlement report: the balance transactions of one payout, listed in pages
// (`GET /v1/balance_transactions?payout=po_…&limit=100&starting_after=txn_…`). Amounts are JSON
// integers of minor units: a charge +gross, a refund −gross, `fee` what Stripe kept, `net` =
// amount − fee. The payout's own line (type `payout`) is not an item and is skipped.
import {
  fail,
  identifierField,
  integerField,
  isRecord,
  currencyValue,
  type Where,
} from './fields.ts';
import { ReportFormatError, type ReportItem } from './types.ts';

export type StripePage = {
  readonly items: readonly ReportItem[];
  readonly hasMore: boolean;
  /** The id of the page's last entry: `starting_after` of the next page. */
  readonly lastId: string | undefined;
  /** How many entries the page listed, skipped ones (the payout's own) included. */
  readonly entries: number;
};

const itemTypes: Readonly<Record<string, ReportItem['type'] | 'skip'>> = {
  charge: 'charge',
  payment: 'charge',
  refund: 'refund',
  payment_refund: 'refund',
  payout: 'skip',
};

/** One page of the list; `firstLine` numbers its entries after the previous pages'. */
export function parseStripePage(
  body: unknown,
  payoutId: string,
  firstLine: number,
  connector = 'stripe',
): StripePage {
  const top: Where = { connector, line: 0 };
  if (!isRecord(body)) throw new ReportFormatError(connector, 'the answer is not a JSON object');
  if (body.object !== 'list') fail(top, 'object', "must be 'list'");
  const data = body.data;
  if (!Array.isArray(data)) fail(top, 'data', 'must be an array');
  if (typeof body.has_more !== 'boolean') fail(top, 'has_more', 'must be a boolean');
  const items: ReportItem[] = [];
  let lastId: string | undefined;
  for (const [index, entry] of data.entries()) {
    const where: Where = { connector, line: firstLine + index };
    if (!isRecord(entry)) fail(where, 'data[]', 'must be an object');
    lastId = identifierField(entry, 'id', where);
    const item = stripeItem(entry, payoutId, where);
    if (item !== undefined) items.push(item);
  }
  if (body.has_more && lastId === undefined) fail(top, 'has_more', 'is true on an empty page');
  return { items, hasMore: body.has_more, lastId, entries: data.length };
}

/** One balance transaction; `payoutId` undefined takes the entry's own (an uploaded file's). */
export function stripeItem(
  entry: Readonly<Record<string, unknown>>,
  payoutId: string | undefined,
  where: Where,
): ReportItem | undefined {
  const typeName = entry.type;
  const type = typeof typeName === 'string' ? itemTypes[typeName] : undefined;
  if (type === undefined)
    fail(where, 'type', `unknown balance transaction type ${String(typeName)}`);
  if (type === 'skip') return undefined;
  const payout = entry.payout;
  if (payoutId !== undefined && payout !== payoutId)
    fail(where, 'payout', `must be the payout asked for (${payoutId}), got ${String(payout)}`);
  const amount = integerField(entry, 'amount', where);
  const fee = integerField(entry, 'fee', where);
  const net = integerField(entry, 'net', where);
  if (net !== amount - fee) fail(where, 'net', `${net} is not amount − fee (${amount - fee})`);
  if (type === 'charge' ? amount <= 0n : amount >= 0n)
    fail(where, 'amount', `a ${type} must be ${type === 'charge' ? 'positive' : 'negative'}`);
  checkFeeDetails(entry, fee, where);
  return {
    line: where.line,
    pspReference: identifierField(entry, 'source', where),
    type,
    currency: currencyValue(entry.currency, 'currency', where),
    amount,
    fee,
    net,
  };
}

/** When given, the fee details must add up to the fee. */
function checkFeeDetails(
  entry: Readonly<Record<string, unknown>>,
  fee: bigint,
  where: Where,
): void {
  const details = entry.fee_details;
  if (details === undefined) return;
  if (!Array.isArray(details)) fail(where, 'fee_details', 'must be an array');
  let total = 0n;
  for (const detail of details) {
    if (!isRecord(detail)) fail(where, 'fee_details[]', 'must be an object');
    total += integerField(detail, 'amount', where);
  }
  if (total !== fee) fail(where, 'fee_details', `add up to ${total}, not the fee ${fee}`);
}
