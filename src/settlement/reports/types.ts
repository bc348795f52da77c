// What a PSP's settlement report says of one settlement (architecture §12, "money in"), in one
// shape whatever the PSP's style: items by PSP reference with their gross, the PSP's fee and the
// net, as bigint minor units signed like balance transactions (a charge +gross, a refund −gross).
// Parsers are strict: anything malformed is a ReportFormatError naming the line and the field,
// never a guess.

export type ReportItemType = 'charge' | 'refund';

export type ReportItem = {
  /** Where the item is in the report: a CSV line number, or the item's index in a JSON list + 1. */
  readonly line: number;
  /** The PSP's payment id for a charge, its refund id for a refund (what clearing submitted). */
  readonly pspReference: string;
  readonly type: ReportItemType;
  readonly currency: string;
  /** Signed: +gross for a charge, −gross for a refund. */
  readonly amount: bigint;
  /** What the PSP kept (commission, scheme fees, interchange, tax); negative if it gave back. */
  readonly fee: bigint;
  /** amount − fee: what the PSP pays out for this item. */
  readonly net: bigint;
};

/** One page of a report: its items in report order (lines increasing). */
export type ReportPage = readonly ReportItem[];

/** Report styles; a connector's style is looked up in `reportStyleOf`. */
export type ReportStyle = 'stripe_balance_transactions' | 'adyen_settlement_csv' | 'razorpay_recon';

/** A report that does not parse. `line` and `field` point at the first thing found wrong. */
export class ReportFormatError extends Error {
  readonly connector: string;
  readonly line: number | undefined;
  readonly field: string | undefined;
  constructor(connector: string, message: string, line?: number, field?: string) {
    const where = [
      line === undefined ? undefined : `line ${line}`,
      field === undefined ? undefined : `field ${field}`,
    ]
      .filter((part) => part !== undefined)
      .join(', ');
    super(`${connector} settlement report: ${where === '' ? '' : `${where}: `}${message}`);
    this.name = 'ReportFormatError';
    this.connector = connector;
    this.line = line;
    this.field = field;
  }
}

/** A report that could not be fetched (no answer, or an answer that is not the report). */
export class ReportUnavailableError extends Error {
  readonly connector: string;
  constructor(connector: string, message: string) {
    super(`${connector} settlement report unavailable: ${message}`);
    this.name = 'ReportUnavailableError';
    this.connector = connector;
  }
}

/** Limits on any one report: pages, items, bytes. */
export const reportLimits = {
  itemsMax: 1_000_000,
  pagesMax: 20_000,
  /** Stripe-style lists: items per page (the most Stripe gives). */
  pageSize: 100,
  /** Razorpay-style recon: items per page (`count`, the most Razorpay gives). */
  reconPageSize: 1_000,
  /** Items per page handed on from a streamed CSV. */
  csvPageItems: 2_000,
  /** One JSON page. */
  pageBytesMax: 16 * 1024 * 1024,
  /** A streamed report (never held: the limit bounds the time, not the memory). */
  reportBytesMax: 512 * 1024 * 1024,
  /** The whole exchange of a streamed report. */
  reportDeadlineMs: 10 * 60_000,
  referenceLengthMax: 200,
};
