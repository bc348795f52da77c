// What a file parser hands on: records (the recon_records row without its file and group), a
// statement's closing balances and quarantined rows; and the one error that fails a whole file,
// naming its line.
import type { ClosingBalance } from '../../banking/camt053.ts';
import type { ReconFileFormat, ReconRecord } from '../tables.ts';

export type NewRecord = Omit<ReconRecord, 'fileId' | 'groupId'>;

export type ParsedRow =
  | { readonly type: 'record'; readonly record: NewRecord }
  /** A statement's closing booked balance (camt.053 CLBD), for the balance-drift check. */
  | { readonly type: 'balance'; readonly line: number; readonly balance: ClosingBalance }
  | {
      readonly type: 'quarantine';
      readonly line: number;
      readonly reason: string;
      readonly excerpt: string;
    };

/** Decoded text in, rows out; `end` says no more text follows (a truncated file throws there). */
export interface FileParser {
  push(text: string): ParsedRow[];
  end(): ParsedRow[];
}

export type ParserOptions = {
  readonly connector: string | undefined;
  /** YYYY-MM-DD: the day of ingestion (for files that carry no date of their own). */
  readonly today: string;
};

/** A file that cannot be read at all; `line` is where (1-based). */
export class FileFormatError extends Error {
  readonly line: number;
  constructor(message: string, line: number) {
    super(message);
    this.name = 'FileFormatError';
    this.line = line;
  }
}

export const ingestLimits = {
  /** One file. */
  fileBytesMax: 1024 * 1024 * 1024,
  /** One record (a CSV or NDJSON line, a JSON list element, an XML entry). */
  recordLengthMax: 64 * 1024,
  recordsPerFileMax: 2_000_000,
  /** An identifier, a reference, a reason code. */
  fieldLengthMax: 200,
  excerptLengthMax: 200,
  /** Records per INSERT statement. */
  batchSize: 5_000,
  /** XML nesting. */
  depthMax: 40,
} as const;

export const reconFileFormats: readonly ReconFileFormat[] = [
  'stripe_balance_transactions',
  'adyen_settlement_csv',
  'razorpay_recon',
  'acquirer_ack',
  'camt053',
];

export function excerptOf(text: string): string {
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return flat.length <= ingestLimits.excerptLengthMax
    ? flat
    : `${flat.slice(0, ingestLimits.excerptLengthMax - 1)}…`;
}

export function quarantine(line: number, reason: string, excerpt: string): ParsedRow {
  return {
    type: 'quarantine',
    line,
    reason: reason.length > 500 ? `${reason.slice(0, 499)}…` : reason,
    excerpt: excerptOf(excerpt),
  };
}

/** The day (YYYY-MM-DD) of unix seconds, or undefined when it is not a safe integer. */
export function dayOfUnixSeconds(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) return undefined;
  const date = new Date(value * 1000);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString().slice(0, 10);
}
