// Razorpay-style settlement recon (also Paytm's in the simulator):
// `GET /v1/settlements/recon/combined?settlement_id=setl_…` →
// `{entity:"collection", count, items:[{entity_id, type:"payment"|"refund", amount, fee, tax,
// settlement_id, settlement_utr, currency}]}`. Integers of minor units; `amount` is positive for
// both types, `fee` includes `tax`.
import {
  currencyValue,
  fail,
  identifierField,
  integerField,
  isRecord,
  type Where,
} from './fields.ts';
import { ReportFormatError, type ReportItem } from './types.ts';

/** One page of the collection; `firstLine` numbers its items after the previous pages'. */
export function parseRazorpayRecon(
  body: unknown,
  settlementId: string,
  firstLine: number,
  connector = 'razorpay',
): ReportItem[] {
  const top: Where = { connector, line: 0 };
  if (!isRecord(body)) throw new ReportFormatError(connector, 'the answer is not a JSON object');
  if (body.entity !== 'collection') fail(top, 'entity', "must be 'collection'");
  const items = body.items;
  if (!Array.isArray(items)) fail(top, 'items', 'must be an array');
  const count = integerField(body, 'count', top);
  if (count !== BigInt(items.length))
    fail(top, 'count', `is ${count} but the page holds ${items.length} items`);
  return items.map((entry, index) => {
    const where: Where = { connector, line: firstLine + index };
    if (!isRecord(entry)) fail(where, 'items[]', 'must be an object');
    return razorpayItem(entry, settlementId, where);
  });
}

/** One item; `settlementId` undefined takes the item's own (an uploaded file's). */
export function razorpayItem(
  entry: Readonly<Record<string, unknown>>,
  settlementId: string | undefined,
  where: Where,
): ReportItem {
  const typeName = entry.type;
  if (typeName !== 'payment' && typeName !== 'refund')
    fail(where, 'type', `must be 'payment' or 'refund', got ${String(typeName)}`);
  if (settlementId !== undefined && entry.settlement_id !== settlementId)
    fail(where, 'settlement_id', `must be ${settlementId}, got ${String(entry.settlement_id)}`);
  const gross = integerField(entry, 'amount', where);
  if (gross <= 0n) fail(where, 'amount', 'must be positive');
  const fee = integerField(entry, 'fee', where);
  const tax = integerField(entry, 'tax', where);
  if (fee < 0n) fail(where, 'fee', 'must not be negative');
  if (tax < 0n || tax > fee)
    fail(where, 'tax', `must be between 0 and the fee (${fee}), got ${tax}`);
  const amount = typeName === 'payment' ? gross : -gross;
  return {
    line: where.line,
    pspReference: identifierField(entry, 'entity_id', where),
    type: typeName === 'payment' ? 'charge' : 'refund',
    currency: currencyValue(entry.currency, 'currency', where),
    amount,
    fee,
    net: amount - fee,
  };
}
