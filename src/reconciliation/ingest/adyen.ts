// Adyen-style settlement detail CSV as a file: the columns and the meaning of a line are those of
// the pipeline's own reader (settlement/reports/adyen.ts), the CSV is read by the same strict
// papaparse driver (CsvRecords). Here a file may hold any batch: each line's Batch Number is its
// settlement reference. A bad line is quarantined; a bad header, bad CSV or a file cut inside a
// line fails the file.
import {
  adyenItem,
  cachedDecimal,
  headerPositions,
  type Line,
} from '../../settlement/reports/adyen.ts';
import {
  CsvRecords,
  CsvSyntaxError,
  type CsvRecord,
} from '../../settlement/reports/csv-records.ts';
import { ReportFormatError } from '../../settlement/reports/types.ts';
import {
  FileFormatError,
  ingestLimits,
  quarantine,
  type FileParser,
  type ParsedRow,
  type ParserOptions,
} from './types.ts';
import { recordKeys } from '../tables.ts';

const datePattern = /^\d{4}-\d{2}-\d{2}/;

export function adyenFileParser(options: ParserOptions): FileParser {
  const connector = options.connector ?? 'adyen';
  const csv = new CsvRecords({ recordLengthMax: ingestLimits.recordLengthMax });
  const decimal = cachedDecimal();
  let positions: Readonly<Record<string, number | undefined>> | undefined;
  let fields = 0;
  let endsWithLineEnd = true;
  let lastLine = 1;

  const row = (record: CsvRecord): ParsedRow | undefined => {
    const { cells, line } = record;
    lastLine = line;
    if (positions === undefined) {
      try {
        positions = headerPositions(cells, connector, line);
      } catch (error) {
        if (error instanceof ReportFormatError) throw new FileFormatError(error.message, line);
        throw error;
      }
      fields = cells.length;
      return undefined;
    }
    const excerpt = cells.join(',');
    if (cells.length !== fields)
      return quarantine(line, `${cells.length} fields where the header has ${fields}`, excerpt);
    const known = positions;
    const get: Line['get'] = (column) => {
      const position = known[column];
      return position === undefined ? undefined : (cells[position] ?? '').trim();
    };
    try {
      const item = adyenItem({ get }, undefined, { connector, line }, decimal);
      if (item === undefined) return undefined;
      const created = get('Creation Date');
      if (created !== undefined && created !== '' && !datePattern.test(created))
        return quarantine(line, `field Creation Date: not a date ('${created}')`, excerpt);
      const day = created === undefined || created === '' ? options.today : created.slice(0, 10);
      const batch = get('Batch Number') ?? '';
      const merchantReference = get('Merchant Reference') ?? '';
      return {
        type: 'record',
        record: {
          source: 'psp_report',
          rowKey: recordKeys.pspLine(connector, batch, line),
          line,
          kind: item.type,
          connector,
          ourReference: merchantReference === '' ? null : merchantReference,
          pspReference: item.pspReference,
          batchReference: batch,
          traceId: null,
          currency: item.currency,
          amount: item.amount,
          fee: item.fee,
          valueDate: day,
          seenOn: day,
        },
      };
    } catch (error) {
      if (error instanceof ReportFormatError) return quarantine(line, error.message, excerpt);
      throw error;
    }
  };

  const take = (text: string, final: boolean): ParsedRow[] => {
    let records: CsvRecord[];
    try {
      records = csv.push(text, final);
    } catch (error) {
      if (error instanceof CsvSyntaxError)
        throw new FileFormatError(`not valid CSV (${error.message})`, error.line);
      throw error;
    }
    const rows: ParsedRow[] = [];
    for (const record of records) {
      const parsed = row(record);
      if (parsed !== undefined) rows.push(parsed);
    }
    return rows;
  };

  return {
    push(text) {
      if (text.length > 0) endsWithLineEnd = text.endsWith('\n');
      return take(text, false);
    },
    end() {
      const rows = take('', true);
      if (positions === undefined) throw new FileFormatError('the file is empty (no header)', 1);
      // Every line of a report ends in a line end: text after the last one is a cut file.
      if (!endsWithLineEnd)
        throw new FileFormatError('the file ends inside a line (truncated)', lastLine);
      return rows;
    },
  };
}
