// Adyen-style settlement detail report: a CSV per settlement batch
// (`GET /reports/settlement_detail_report_batch_<n>.csv`), one line per item, amounts as major-unit
// decimal strings. Gross in the gross currency (GC), fees and net in the net currency (NC):
//   Settled   gross credit, fees, net credit = gross − fees
//   Refunded  gross debit,  fees, net debit  = gross + fees
// Lines of other types (the batch's own MerchantPayout line) are not items and are skipped.
import { Readable, pipeline } from 'node:stream';
import { parse as parseStream, type Options } from 'csv-parse';
import { parse } from 'csv-parse/sync';
import { decimalValue, currencyValue, fail, identifier, type Where } from './fields.ts';
import { ReportFormatError, reportLimits, type ReportItem } from './types.ts';

export const adyenColumns = [
  'Psp Reference',
  'Merchant Reference',
  'Type',
  'Gross Currency',
  'Gross Debit (GC)',
  'Gross Credit (GC)',
  'Commission (NC)',
  'Markup (NC)',
  'Scheme Fees (NC)',
  'Interchange (NC)',
  'Net Debit (NC)',
  'Net Credit (NC)',
  'Batch Number',
] as const;
type AdyenColumn = (typeof adyenColumns)[number];
/** Optional columns that are checked when present. */
const optionalColumns = ['Net Currency'] as const;
const feeColumns = [
  'Commission (NC)',
  'Markup (NC)',
  'Scheme Fees (NC)',
  'Interchange (NC)',
] as const;
const skippedTypes = new Set(['MerchantPayout', 'Balancetransfer', 'Fee']);

type Line = {
  readonly get: (column: AdyenColumn | (typeof optionalColumns)[number]) => string | undefined;
};

const csvOptions = {
  bom: true,
  skip_empty_lines: true,
  relax_column_count: false,
  max_record_size: 64 * 1024,
} as const;

/**
 * csv-parse's on_record for one report: the header line sets the columns (order free), every
 * other line becomes an item, or null for a line that is not an item (or the header).
 */
function recordReader(
  batchNumber: string,
  connector: string,
): {
  readonly onRecord: (cells: string[], context: { lines: number }) => ReportItem | null;
  readonly sawHeader: () => boolean;
} {
  let positions: ReadonlyMap<string, number> | undefined;
  let lines = 0;
  const onRecord = (cells: string[], context: { lines: number }): ReportItem | null => {
    if (positions === undefined) {
      positions = headerPositions(cells, connector, context.lines);
      return null;
    }
    if (++lines > reportLimits.itemsMax)
      throw new ReportFormatError(connector, `more than ${reportLimits.itemsMax} lines`);
    const known = positions;
    const line: Line = {
      get: (column) => {
        const position = known.get(column);
        return position === undefined ? undefined : (cells[position] ?? '').trim();
      },
    };
    return adyenItem(line, batchNumber, { connector, line: context.lines }) ?? null;
  };
  return { onRecord, sawHeader: () => positions !== undefined };
}

function csvFormatError(error: unknown, connector: string): unknown {
  if (error instanceof ReportFormatError || !isCsvError(error)) return error;
  const line = (error as { lines?: unknown }).lines;
  return new ReportFormatError(
    connector,
    `not valid CSV (${error.message})`,
    typeof line === 'number' ? line : undefined,
  );
}

function isCsvError(error: unknown): error is Error {
  if (!(error instanceof Error)) return false;
  const code = (error as Error & { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('CSV_');
}

/** csv-parse types on_record as returning cells; it hands on whatever on_record returns. */
function csvParseOptions(reader: ReturnType<typeof recordReader>): Options {
  return {
    ...csvOptions,
    on_record: reader.onRecord as unknown as NonNullable<Options['on_record']>,
  };
}

/**
 * Parses the whole CSV text of batch `batchNumber` (small reports, tests); each record becomes an
 * item as it is read (csv-parse's on_record), never held as cells as well.
 */
export function parseAdyenSettlementCsv(
  text: string,
  batchNumber: string,
  connector = 'adyen',
): ReportItem[] {
  const reader = recordReader(batchNumber, connector);
  let items: ReportItem[];
  try {
    items = parse(text, csvParseOptions(reader)) as unknown as ReportItem[];
  } catch (error) {
    throw csvFormatError(error, connector);
  }
  if (!reader.sawHeader()) throw new ReportFormatError(connector, 'the report is empty', 1);
  return items;
}

/**
 * The CSV of batch `batchNumber` read from a stream of chunks (the HTTP body as it arrives), its
 * items handed on in pages of at most `pageSize`: memory holds one page, never the report.
 */
export async function* adyenSettlementPages(
  chunks: AsyncIterable<Buffer | string>,
  batchNumber: string,
  connector = 'adyen',
  pageSize = reportLimits.csvPageItems,
): AsyncGenerator<ReportItem[]> {
  const reader = recordReader(batchNumber, connector);
  const parser = parseStream(csvParseOptions(reader));
  // Errors of either side end the other: a failed read stops the parser, a parse error closes
  // the connection (pipeline destroys the source).
  pipeline(Readable.from(chunks), parser, () => undefined);
  let page: ReportItem[] = [];
  try {
    for await (const item of parser as AsyncIterable<ReportItem>) {
      page.push(item);
      if (page.length >= pageSize) {
        yield page;
        page = [];
      }
    }
  } catch (error) {
    throw csvFormatError(error, connector);
  } finally {
    parser.destroy();
  }
  if (!reader.sawHeader()) throw new ReportFormatError(connector, 'the report is empty', 1);
  if (page.length > 0) yield page;
}

function headerPositions(
  header: readonly string[],
  connector: string,
  line: number,
): ReadonlyMap<string, number> {
  const positions = new Map(header.map((name, index) => [name.trim(), index]));
  for (const column of adyenColumns)
    if (!positions.has(column))
      throw new ReportFormatError(connector, 'missing column in the header', line, column);
  return positions;
}

function adyenItem(line: Line, batchNumber: string, where: Where): ReportItem | undefined {
  const cell = (column: AdyenColumn): string => line.get(column) ?? '';
  const typeName = cell('Type');
  if (skippedTypes.has(typeName)) return undefined;
  if (typeName !== 'Settled' && typeName !== 'Refunded')
    fail(where, 'Type', `unknown type '${typeName}' (Settled or Refunded)`);
  if (cell('Batch Number') !== batchNumber)
    fail(where, 'Batch Number', `must be ${batchNumber}, got '${cell('Batch Number')}'`);
  const currency = currencyValue(cell('Gross Currency'), 'Gross Currency', where);
  const netCurrency = line.get('Net Currency');
  if (netCurrency !== undefined && netCurrency !== '' && netCurrency.toLowerCase() !== currency)
    fail(where, 'Net Currency', `must be the gross currency (${currency}), got '${netCurrency}'`);
  const amountOf = (column: AdyenColumn) =>
    decimalValue(cell(column), currency, column, where, { emptyIsZero: true });
  const charge = typeName === 'Settled';
  const [grossColumn, otherGross] = charge
    ? (['Gross Credit (GC)', 'Gross Debit (GC)'] as const)
    : (['Gross Debit (GC)', 'Gross Credit (GC)'] as const);
  const [netColumn, otherNet] = charge
    ? (['Net Credit (NC)', 'Net Debit (NC)'] as const)
    : (['Net Debit (NC)', 'Net Credit (NC)'] as const);
  if (cell(grossColumn) === '') fail(where, grossColumn, `is required for ${typeName}`);
  if (amountOf(otherGross) !== 0n) fail(where, otherGross, `must be empty for ${typeName}`);
  if (amountOf(otherNet) !== 0n) fail(where, otherNet, `must be empty for ${typeName}`);
  const gross = amountOf(grossColumn);
  if (gross === 0n) fail(where, grossColumn, 'must not be zero');
  const fee = feeColumns.reduce((total, column) => total + amountOf(column), 0n);
  const amount = charge ? gross : -gross;
  const net = charge ? amountOf(netColumn) : -amountOf(netColumn);
  if (net !== amount - fee)
    fail(where, netColumn, `does not equal gross ${charge ? '−' : '+'} fees (${amount - fee})`);
  return {
    line: where.line,
    pspReference: identifier(cell('Psp Reference'), 'Psp Reference', where),
    type: charge ? 'charge' : 'refund',
    currency,
    amount,
    fee,
    net,
  };
}
