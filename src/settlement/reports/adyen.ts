// Adyen-style settlement detail report: a CSV per settlement batch
// (`GET /reports/settlement_detail_report_batch_<n>.csv`), one line per item, amounts as major-unit
// decimal strings. Gross in the gross currency (GC), fees and net in the net currency (NC):
//   Settled   gross credit, fees, net credit = gross − fees
//   Refunded  gross debit,  fees, net debit  = gross + fees
// Lines of other types (the batch's own MerchantPayout line) are not items and are skipped.
import { CsvRecords, CsvSyntaxError, type CsvRecord } from './csv-records.ts';
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
const optionalColumns = ['Net Currency', 'Creation Date'] as const;
const feeColumns = [
  'Commission (NC)',
  'Markup (NC)',
  'Scheme Fees (NC)',
  'Interchange (NC)',
] as const;
const skippedTypes = new Set(['MerchantPayout', 'Balancetransfer', 'Fee']);

export type Line = {
  readonly get: (column: AdyenColumn | (typeof optionalColumns)[number]) => string | undefined;
};

const recordLengthMax = 64 * 1024;

/** Reads one report's records: the header line sets the columns (order free), then items. */
function recordReader(
  batchNumber: string,
  connector: string,
): {
  /** The record's item, or null for a line that is not an item (or the header). */
  readonly read: (record: CsvRecord) => ReportItem | null;
  readonly sawHeader: () => boolean;
} {
  let positions: Readonly<Record<string, number | undefined>> | undefined;
  let fields = 0;
  let lines = 0;
  const decimal = cachedDecimal();
  const read = (record: CsvRecord): ReportItem | null => {
    const { cells } = record;
    if (positions === undefined) {
      positions = headerPositions(cells, connector, record.line);
      fields = cells.length;
      return null;
    }
    if (cells.length !== fields)
      throw new ReportFormatError(
        connector,
        `not valid CSV (${cells.length} fields where the header has ${fields})`,
        record.line,
      );
    if (++lines > reportLimits.itemsMax)
      throw new ReportFormatError(connector, `more than ${reportLimits.itemsMax} lines`);
    const known = positions;
    const line: Line = {
      get: (column) => {
        const position = known[column];
        return position === undefined ? undefined : (cells[position] ?? '').trim();
      },
    };
    return adyenItem(line, batchNumber, { connector, line: record.line }, decimal) ?? null;
  };
  return { read, sawHeader: () => positions !== undefined };
}

function csvFormatError(error: unknown, connector: string): unknown {
  return error instanceof CsvSyntaxError
    ? new ReportFormatError(connector, `not valid CSV (${error.message})`, error.line)
    : error;
}

/** Parses the whole CSV text of batch `batchNumber` (small reports, tests). */
export function parseAdyenSettlementCsv(
  text: string,
  batchNumber: string,
  connector = 'adyen',
): ReportItem[] {
  const reader = recordReader(batchNumber, connector);
  const items: ReportItem[] = [];
  try {
    for (const record of new CsvRecords({ recordLengthMax }).push(text, true)) {
      const item = reader.read(record);
      if (item !== null) items.push(item);
    }
  } catch (error) {
    throw csvFormatError(error, connector);
  }
  if (!reader.sawHeader()) throw new ReportFormatError(connector, 'the report is empty', 1);
  return items;
}

/**
 * The CSV of batch `batchNumber` read from a stream of chunks (the HTTP body as it arrives), its
 * items handed on in pages of at most `pageSize`: memory holds a page, never the report.
 */
export async function* adyenSettlementPages(
  chunks: AsyncIterable<Uint8Array | string>,
  batchNumber: string,
  connector = 'adyen',
  pageSize = reportLimits.csvPageItems,
): AsyncGenerator<ReportItem[]> {
  const reader = recordReader(batchNumber, connector);
  const csv = new CsvRecords({ recordLengthMax });
  const decoder = new TextDecoder();
  let page: ReportItem[] = [];
  const take = (records: readonly CsvRecord[]) => {
    for (const record of records) {
      const item = reader.read(record);
      if (item !== null) page.push(item);
    }
  };
  try {
    for await (const chunk of chunks) {
      take(
        csv.push(
          typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }),
          false,
        ),
      );
      while (page.length >= pageSize) {
        yield page.slice(0, pageSize);
        page = page.slice(pageSize);
      }
    }
    take(csv.push(decoder.decode(), true));
    while (page.length > pageSize) {
      yield page.slice(0, pageSize);
      page = page.slice(pageSize);
    }
  } catch (error) {
    throw csvFormatError(error, connector);
  }
  if (!reader.sawHeader()) throw new ReportFormatError(connector, 'the report is empty', 1);
  if (page.length > 0) yield page;
}

/**
 * Amount cells repeat (fees above all): each distinct text is parsed once per report (bounded).
 */
export function cachedDecimal(): Decimal {
  const amounts = new Map<string, bigint>();
  return (text, currency, column, where) => {
    if (text === '') return 0n;
    const key = `${currency}:${text}`;
    const known = amounts.get(key);
    if (known !== undefined) return known;
    const amount = decimalValue(text, currency, column, where);
    if (amounts.size >= 10_000) amounts.clear();
    amounts.set(key, amount);
    return amount;
  };
}

/** Where each column the parser reads is (a header names the columns, in any order). */
export function headerPositions(
  header: readonly string[],
  connector: string,
  line: number,
): Readonly<Record<string, number | undefined>> {
  const positions = new Map(header.map((name, index) => [name.trim(), index]));
  for (const column of adyenColumns)
    if (!positions.has(column))
      throw new ReportFormatError(connector, 'missing column in the header', line, column);
  const read: Record<string, number | undefined> = {};
  for (const column of [...adyenColumns, ...optionalColumns]) read[column] = positions.get(column);
  return read;
}

/** A major-unit amount cell in minor units ('' is 0); refused like decimalValue. */
export type Decimal = (text: string, currency: string, column: string, where: Where) => bigint;

/** One line's item; `batchNumber` undefined takes the line's own (an uploaded file's). */
export function adyenItem(
  line: Line,
  batchNumber: string | undefined,
  where: Where,
  decimal: Decimal,
): ReportItem | undefined {
  const cell = (column: AdyenColumn): string => line.get(column) ?? '';
  const typeName = cell('Type');
  if (skippedTypes.has(typeName)) return undefined;
  if (typeName !== 'Settled' && typeName !== 'Refunded')
    fail(where, 'Type', `unknown type '${typeName}' (Settled or Refunded)`);
  if (batchNumber !== undefined && cell('Batch Number') !== batchNumber)
    fail(where, 'Batch Number', `must be ${batchNumber}, got '${cell('Batch Number')}'`);
  const currency = currencyValue(cell('Gross Currency'), 'Gross Currency', where);
  const netCurrency = line.get('Net Currency');
  if (netCurrency !== undefined && netCurrency !== '' && netCurrency.toLowerCase() !== currency)
    fail(where, 'Net Currency', `must be the gross currency (${currency}), got '${netCurrency}'`);
  const amountOf = (column: AdyenColumn) => decimal(cell(column), currency, column, where);
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
