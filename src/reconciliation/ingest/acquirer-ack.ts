// The acquirer's answer to a clearing batch (sim/CONTRACT.md "Acquirer clearing";
// settlement/acquirer.ts): NDJSON, a header line naming our batch and its settlement reference,
// then one line per item, `{"item_id","result":"accepted"|"rejected","reason_code"?}`. Each item
// is a record `<batch id>:<item id>`. The answer carries no amount or currency per item: the
// record says currency 'xxx' (ISO 4217's "no currency") and amount 0, and the day of ingestion.
// A bad header or a file cut inside a line fails the file; a bad item line is quarantined.
import { isRecord } from '../../settlement/reports/fields.ts';
import { parseJsonLine } from './json-values.ts';
import {
  FileFormatError,
  ingestLimits,
  quarantine,
  type FileParser,
  type ParsedRow,
  type ParserOptions,
} from './types.ts';
import { recordKeys } from '../tables.ts';

type Header = { readonly batchId: string; readonly settlementReference: string | null };

const controlCharacter = /[\u0000-\u001f\u007f]/;

function identifierProblem(value: unknown, field: string): string | undefined {
  if (typeof value !== 'string' || value === '')
    return `field ${field}: must be a non-empty string, got ${JSON.stringify(value) ?? 'nothing'}`;
  if (value.length > ingestLimits.fieldLengthMax)
    return `field ${field}: longer than ${ingestLimits.fieldLengthMax} characters`;
  if (controlCharacter.test(value)) return `field ${field}: holds control characters`;
  return undefined;
}

function readHeader(text: string, line: number): Header {
  let value: unknown;
  try {
    value = parseJsonLine(text);
  } catch {
    throw new FileFormatError('acquirer answer: the header line is not JSON', line);
  }
  if (!isRecord(value))
    throw new FileFormatError('acquirer answer: the header is not an object', line);
  const problem = identifierProblem(value.batch_id, 'batch_id');
  if (problem !== undefined) throw new FileFormatError(`acquirer answer header: ${problem}`, line);
  const reference = value.settlement_reference;
  if (reference !== undefined && reference !== null) {
    const referenceProblem = identifierProblem(reference, 'settlement_reference');
    if (referenceProblem !== undefined)
      throw new FileFormatError(`acquirer answer header: ${referenceProblem}`, line);
  }
  return {
    batchId: value.batch_id as string,
    settlementReference: typeof reference === 'string' ? reference : null,
  };
}

export function acquirerAckParser(options: ParserOptions): FileParser {
  let rest = '';
  let line = 0;
  let header: Header | undefined;
  let items = 0;

  const item = (text: string, at: number, known: Header): ParsedRow => {
    let value: unknown;
    try {
      value = parseJsonLine(text);
    } catch {
      return quarantine(at, 'not a JSON line', text);
    }
    if (!isRecord(value)) return quarantine(at, 'an item line must be a JSON object', text);
    const problem = identifierProblem(value.item_id, 'item_id');
    if (problem !== undefined) return quarantine(at, problem, text);
    if (value.result !== 'accepted' && value.result !== 'rejected')
      return quarantine(at, `field result: must be 'accepted' or 'rejected'`, text);
    const itemId = value.item_id as string;
    return {
      type: 'record',
      record: {
        source: 'acquirer_ack',
        rowKey: recordKeys.ackLine(known.batchId, itemId),
        line: at,
        kind: value.result,
        connector: null,
        ourReference: itemId,
        pspReference: null,
        batchReference: known.settlementReference,
        traceId: null,
        currency: 'xxx',
        amount: 0n,
        fee: null,
        valueDate: options.today,
        seenOn: options.today,
      },
    };
  };

  const lines = (text: string, rows: ParsedRow[]): void => {
    let start = 0;
    for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
      line++;
      let content = text.slice(start, end);
      start = end + 1;
      if (content.endsWith('\r')) content = content.slice(0, -1);
      if (content.length > ingestLimits.recordLengthMax)
        throw new FileFormatError(
          `a line longer than ${ingestLimits.recordLengthMax} characters`,
          line,
        );
      if (content.trim() === '') continue;
      if (header === undefined) {
        header = readHeader(content, line);
        continue;
      }
      if (++items > ingestLimits.recordsPerFileMax)
        throw new FileFormatError(`more than ${ingestLimits.recordsPerFileMax} items`, line);
      rows.push(item(content, line, header));
    }
    rest = text.slice(start);
    if (rest.length > ingestLimits.recordLengthMax)
      throw new FileFormatError(
        `a line longer than ${ingestLimits.recordLengthMax} characters`,
        line + 1,
      );
  };

  return {
    push(text) {
      const rows: ParsedRow[] = [];
      lines(rest + text, rows);
      return rows;
    },
    end() {
      // Every line of the answer ends in a line end: text after the last one is a cut file.
      if (rest.trim() !== '')
        throw new FileFormatError('the file ends inside a line (truncated)', line + 1);
      if (header === undefined) throw new FileFormatError('the file is empty (no header)', 1);
      return [];
    },
  };
}
