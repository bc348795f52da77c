// Stripe-style balance transactions and Razorpay-style recon as files: one JSON document holding
// one list (`{object:'list', data:[…]}` / `{entity:'collection', items:[…]}`), read as a token
// stream by stream-json (numbers arrive as their text, so a fraction or an exponent is seen, never
// rounded), each list element assembled on its own (bounded: length, depth) and read by the
// pipeline's own item reader (settlement/reports/stripe.ts, razorpay.ts). A bad element is
// quarantined with its position in the list (its line, as the pipeline numbers report lines).
import { jsonParser, type Token } from 'stream-json/core/parser.js';
import { getManyValues, isMany, none } from 'stream-chain/defs.js';
import { razorpayItem } from '../../settlement/reports/razorpay.ts';
import { stripeItem } from '../../settlement/reports/stripe.ts';
import { ReportFormatError, type ReportItem } from '../../settlement/reports/types.ts';
import { JsonNumberText, ValueAssembler } from './json-values.ts';
import {
  FileFormatError,
  dayOfUnixSeconds,
  ingestLimits,
  quarantine,
  type FileParser,
  type NewRecord,
  type ParsedRow,
  type ParserOptions,
} from './types.ts';
import { recordKeys } from '../tables.ts';

type Entry = Readonly<Record<string, unknown>>;

type ListStyle = {
  readonly name: string;
  /** The top-level field that must hold `tag`, and the field holding the list. */
  readonly tagField: string;
  readonly tag: string;
  readonly listField: string;
  /** Fields of an element that are amounts (a float there is refused by name). */
  readonly amountFields: readonly string[];
  readonly record: (
    entry: Entry,
    connector: string,
    line: number,
    today: string,
  ) => NewRecord | undefined;
};

const pieceLengthMax = 16 * 1024;

export function stripeFileParser(options: ParserOptions): FileParser {
  return listParser(stripeStyle, options.connector ?? 'stripe', options.today);
}

export function razorpayFileParser(options: ParserOptions): FileParser {
  if (options.connector === undefined)
    throw new FileFormatError('a razorpay_recon file needs its connector (razorpay, paytm)', 1);
  return listParser(razorpayStyle, options.connector, options.today);
}

function pspRecord(
  item: ReportItem,
  connector: string,
  batchReference: string,
  extra: Pick<NewRecord, 'ourReference' | 'traceId' | 'valueDate'>,
): NewRecord {
  return {
    source: 'psp_report',
    rowKey: recordKeys.pspLine(connector, batchReference, item.line),
    line: item.line,
    kind: item.type,
    connector,
    pspReference: item.pspReference,
    batchReference,
    currency: item.currency,
    amount: item.amount,
    fee: item.fee,
    seenOn: extra.valueDate,
    ...extra,
  };
}

const stripeStyle: ListStyle = {
  name: 'stripe balance transactions',
  tagField: 'object',
  tag: 'list',
  listField: 'data',
  amountFields: ['amount', 'fee', 'net'],
  record: (entry, connector, line, today) => {
    const item = stripeItem(entry, undefined, { connector, line });
    if (item === undefined) return undefined;
    return pspRecord(item, connector, entry.payout as string, {
      ourReference: null,
      traceId: null,
      valueDate: dayOfUnixSeconds(entry.available_on) ?? today,
    });
  },
};

const razorpayStyle: ListStyle = {
  name: 'razorpay recon',
  tagField: 'entity',
  tag: 'collection',
  listField: 'items',
  amountFields: ['amount', 'fee', 'tax', 'debit', 'credit'],
  record: (entry, connector, line, today) => {
    const item = razorpayItem(entry, undefined, { connector, line });
    const text = (value: unknown) =>
      typeof value === 'string' && value !== '' && value.length <= ingestLimits.fieldLengthMax
        ? value
        : null;
    return pspRecord(item, connector, entry.settlement_id as string, {
      ourReference: text(entry.order_receipt),
      traceId: text(entry.settlement_utr),
      valueDate: dayOfUnixSeconds(entry.settled_at) ?? today,
    });
  },
};

/** Why an element's amount is refused before it is read: a float, or an integer beyond exact. */
function amountProblem(entry: Entry, style: ListStyle): string | undefined {
  const check = (field: string, value: unknown): string | undefined =>
    value instanceof JsonNumberText
      ? value.isInteger()
        ? `field ${field}: ${value.text} is beyond the exact integers`
        : `field ${field}: amount is a float (${value.text}), amounts are integers of minor units`
      : undefined;
  for (const field of style.amountFields) {
    const problem = check(field, entry[field]);
    if (problem !== undefined) return problem;
  }
  const details = entry.fee_details;
  if (Array.isArray(details))
    for (const detail of details as unknown[])
      if (typeof detail === 'object' && detail !== null) {
        const problem = check('fee_details[].amount', (detail as Entry).amount);
        if (problem !== undefined) return problem;
      }
  return undefined;
}

function listParser(style: ListStyle, connector: string, today: string): FileParser {
  const tokens = jsonParser({ packValues: true, streamValues: false });
  const top = new Map<string, unknown>();
  let depth = 0;
  let key: string | undefined;
  let inList = false;
  let sawList = false;
  let index = 0;
  let element: ValueAssembler | undefined;
  let other: ValueAssembler | undefined;
  let newlines = 0;
  let fedChars = 0;
  let elementStartChars = 0;
  let lastTokenChars = 0;

  const fileError = (message: string): FileFormatError =>
    new FileFormatError(`${style.name}: ${message}`, newlines + 1);

  const finishElement = (value: unknown, rows: ParsedRow[]): void => {
    index++;
    if (index > ingestLimits.recordsPerFileMax)
      throw fileError(`more than ${ingestLimits.recordsPerFileMax} records`);
    const excerpt = JSON.stringify(value, (_key, v: unknown) =>
      v instanceof JsonNumberText ? v.text : v,
    );
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      rows.push(quarantine(index, 'a list element must be an object', excerpt));
      return;
    }
    const entry = value as Entry;
    const problem = amountProblem(entry, style);
    if (problem !== undefined) {
      rows.push(quarantine(index, `line ${index}: ${problem}`, excerpt));
      return;
    }
    try {
      const record = style.record(entry, connector, index, today);
      if (record !== undefined) rows.push({ type: 'record', record });
    } catch (error) {
      if (!(error instanceof ReportFormatError)) throw error;
      rows.push(quarantine(index, error.message, excerpt));
    }
  };

  const onToken = (token: Token, rows: ParsedRow[]): void => {
    lastTokenChars = fedChars;
    if (element !== undefined) {
      const done = element.push(token);
      if (done.complete) {
        element = undefined;
        finishElement(done.value, rows);
      }
      return;
    }
    if (other !== undefined) {
      const done = other.push(token);
      if (done.complete) {
        other = undefined;
        if (key !== undefined) top.set(key, done.value);
      }
      return;
    }
    if (inList) {
      if (token.name === 'endArray') {
        inList = false;
        return;
      }
      element = new ValueAssembler(ingestLimits.depthMax);
      elementStartChars = fedChars;
      onToken(token, rows);
      return;
    }
    if (depth === 0) {
      if (token.name !== 'startObject') throw fileError('the file must be one JSON object');
      depth = 1;
      return;
    }
    if (token.name === 'keyValue') {
      key = token.value;
      return;
    }
    if (token.name === 'endObject') {
      depth = 0;
      return;
    }
    if (key === style.listField && token.name === 'startArray') {
      if (sawList) throw fileError(`'${style.listField}' appears twice`);
      inList = true;
      sawList = true;
      return;
    }
    other = new ValueAssembler(ingestLimits.depthMax);
    onToken(token, rows);
  };

  const feed = (text: string, rows: ParsedRow[]): void => {
    let produced: ReturnType<typeof tokens>;
    try {
      produced = tokens(text);
    } catch (error) {
      throw fileError(`not valid JSON (${error instanceof Error ? error.message : String(error)})`);
    }
    if (produced !== none)
      for (const token of isMany(produced) ? getManyValues(produced) : [produced as Token])
        onToken(token, rows);
  };

  return {
    push(text) {
      const rows: ParsedRow[] = [];
      for (let start = 0; start < text.length; start += pieceLengthMax) {
        const piece = text.slice(start, start + pieceLengthMax);
        fedChars += piece.length;
        feed(piece, rows);
        for (let at = piece.indexOf('\n'); at >= 0; at = piece.indexOf('\n', at + 1)) newlines++;
        // Bounds: one list element, and any one token (a huge string outside the list).
        const limit = ingestLimits.recordLengthMax + pieceLengthMax;
        if (element !== undefined && fedChars - elementStartChars > limit)
          throw fileError(
            `list element ${index + 1} is longer than ${ingestLimits.recordLengthMax} characters`,
          );
        if (fedChars - lastTokenChars > limit)
          throw fileError(`a value longer than ${ingestLimits.recordLengthMax} characters`);
      }
      return rows;
    },
    end() {
      const rows: ParsedRow[] = [];
      try {
        const produced = tokens(none as never);
        if (produced !== none)
          for (const token of isMany(produced) ? getManyValues(produced) : [produced as Token])
            onToken(token, rows);
      } catch (error) {
        throw fileError(
          `not valid JSON, the file ends too early (${error instanceof Error ? error.message : String(error)})`,
        );
      }
      if (depth !== 0 || inList || element !== undefined)
        throw fileError('not valid JSON, the file ends too early (truncated)');
      if (top.get(style.tagField) !== style.tag)
        throw fileError(`field ${style.tagField} must be '${style.tag}'`);
      if (!sawList) throw fileError(`field ${style.listField} (the list) is missing`);
      const count = top.get('count');
      if (count !== undefined && count !== index)
        throw fileError(`field count is ${String(count)} but the list holds ${index} items`);
      return rows;
    },
  };
}
