// Which format a file is in, from its first characters (an explicit format wins), and its parser.
import type { ReconFileFormat } from '../tables.ts';
import { acquirerAckParser } from './acquirer-ack.ts';
import { adyenFileParser } from './adyen.ts';
import { camt053FileParser } from './camt053.ts';
import { razorpayFileParser, stripeFileParser } from './json-list.ts';
import { FileFormatError, type FileParser, type ParserOptions } from './types.ts';

/** Characters looked at to tell the format. */
export const detectionLength = 4096;

export function detectFormat(start: string): ReconFileFormat {
  const text = start.replace(/^\uFEFF/, '').trimStart();
  const firstLine = text.slice(0, Math.max(0, text.indexOf('\n'))) || text;
  if (text.startsWith('<')) {
    if (/BkToCstmrStmt|camt\.053/.test(text)) return 'camt053';
  } else if (text.startsWith('{')) {
    if (/"batch_id"\s*:/.test(firstLine) && firstLine.trimEnd().endsWith('}'))
      return 'acquirer_ack';
    if (/"object"\s*:\s*"list"/.test(text)) return 'stripe_balance_transactions';
    if (/"entity"\s*:\s*"collection"/.test(text)) return 'razorpay_recon';
  } else if (firstLine.includes('Psp Reference') && firstLine.includes('Batch Number'))
    return 'adyen_settlement_csv';
  throw new FileFormatError(
    'unknown format (not a camt.053 statement, an acquirer answer, a Stripe, Adyen or Razorpay report); name it with format',
    1,
  );
}

/** The connector a report's records name: given, or the one its format implies. */
export function connectorFor(format: ReconFileFormat, given: string | undefined): string | null {
  if (given !== undefined) return given;
  if (format === 'adyen_settlement_csv') return 'adyen';
  if (format === 'stripe_balance_transactions') return 'stripe';
  return null;
}

export function parserFor(format: ReconFileFormat, options: ParserOptions): FileParser {
  switch (format) {
    case 'adyen_settlement_csv':
      return adyenFileParser(options);
    case 'stripe_balance_transactions':
      return stripeFileParser(options);
    case 'razorpay_recon':
      return razorpayFileParser(options);
    case 'acquirer_ack':
      return acquirerAckParser(options);
    case 'camt053':
      return camt053FileParser(options);
    case 'unknown':
      throw new FileFormatError('unknown format; name it with format', 1);
  }
}
