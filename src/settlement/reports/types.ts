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

export type SettlementReport = {
  readonly connector: string;
  /** The PSP-side id the items settle under (the batch's settlement_reference). */
  readonly settlementReference: string;
  readonly items: readonly ReportItem[];
};

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
  pageSize: 100,
  responseBytesMax: 128 * 1024 * 1024,
  referenceLengthMax: 200,
};
