// ISO 20022 camt.053 (bank to customer statement) as Payrail reads it (architecture §12): the
// booked entries of the platform's account, each with its amount in minor units (a decimal
// string through the one exponent table), direction, booking date, the bank's entry reference,
// and what identifies it: the end-to-end id (our payout id), the unstructured remittance (a
// settlement reference) and, for a returned payout, the return reason.
//
// Strict and bounded: the input has a size limit, no DOCTYPE (hence no custom entities), a
// nesting limit, and an entry limit; anything malformed is a StatementFormatError naming the entry
// (1-based, in document order) and the element.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { isCurrency, MoneyError, parseDecimal } from '../money/index.ts';

export type StatementEntry = {
  /** 1-based position in the statement. */
  readonly index: number;
  /** The bank's reference of the entry (`AcctSvcrRef`), unique per direction. */
  readonly entryReference: string;
  readonly direction: 'credit' | 'debit';
  readonly status: 'booked' | 'pending' | 'other';
  readonly amount: bigint;
  readonly currency: string;
  /** YYYY-MM-DD */
  readonly bookingDate: string;
  readonly endToEndId: string | undefined;
  readonly instructionId: string | undefined;
  /** The transaction's own servicer reference (a payout's trace id), if given. */
  readonly transactionReference: string | undefined;
  /** The transaction id (`Refs/TxId`: a settlement credit's UTR), if given. */
  readonly transactionId?: string | undefined;
  readonly remittance: string | undefined;
  /** Set for a returned payment: the ISO reason code (AC04 …). */
  readonly returnReason: string | undefined;
  readonly reversal: boolean;
};

/** A closing booked balance (`Bal` of type CLBD): what the account held at the end of a day. */
export type ClosingBalance = {
  readonly currency: string;
  /** YYYY-MM-DD: the day it closes (`Bal/Dt`). */
  readonly date: string;
  /** Signed minor units (CdtDbtInd DBIT: negative). */
  readonly amount: bigint;
};

export type Statement = {
  readonly statementId: string;
  readonly entries: readonly StatementEntry[];
  /** One per currency at most; absent when the statement gives none (or was not read). */
  readonly balances?: readonly ClosingBalance[];
};

export class StatementFormatError extends Error {
  readonly entry: number | undefined;
  readonly element: string | undefined;
  constructor(message: string, entry?: number, element?: string) {
    const where = [
      entry === undefined ? undefined : `entry ${entry}`,
      element === undefined ? undefined : `element ${element}`,
    ]
      .filter((part) => part !== undefined)
      .join(', ');
    super(`camt.053 statement: ${where === '' ? '' : `${where}: `}${message}`);
    this.name = 'StatementFormatError';
    this.entry = entry;
    this.element = element;
  }
}

export const statementLimits = {
  bytesMax: 32 * 1024 * 1024,
  entriesMax: 100_000,
  nestingMax: 40,
  textLengthMax: 500,
};

/** Elements that may repeat: always arrays in a parsed tree (also in ingest's streaming reader). */
export const repeatedElements = new Set(['Stmt', 'Ntry', 'NtryDtls', 'TxDtls', 'Ustrd', 'Bal']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  // Every value stays a string: an amount never passes through a float.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (name) => repeatedElements.has(name),
  maxNestedTags: statementLimits.nestingMax,
  processEntities: true,
});

/**
 * An element as fast-xml-parser gives it (no namespace prefix, attributes as '@_name', the text of
 * an element with attributes as '#text', repeated elements as arrays): the streaming reader of
 * src/reconciliation/ingest builds the same shape for each entry, so one parseEntry reads both.
 */
export type Node = Readonly<Record<string, unknown>>;

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function child(node: Node | undefined, name: string): Node | undefined {
  const value = node?.[name];
  return isNode(value) ? value : undefined;
}

/** Text of a leaf element (an element with attributes keeps its text in '#text'). */
function textOf(node: Node | undefined, name: string): string | undefined {
  const value = node?.[name];
  if (typeof value === 'string') return value;
  if (isNode(value) && typeof value['#text'] === 'string') return value['#text'];
  return undefined;
}

function list(node: Node | undefined, name: string): readonly unknown[] {
  const value = node?.[name];
  return Array.isArray(value) ? value : [];
}

/** Parses a camt.053.001.x document (the XML text, or its bytes as a Buffer). */
export function parseCamt053(input: string | Buffer): Statement {
  const byteLength = typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength;
  if (byteLength > statementLimits.bytesMax)
    throw new StatementFormatError(`larger than ${statementLimits.bytesMax} bytes`);
  const xml = typeof input === 'string' ? input : input.toString('utf8');
  if (/<!DOCTYPE/i.test(xml)) throw new StatementFormatError('a DOCTYPE is not allowed');
  const validation = XMLValidator.validate(xml);
  if (validation !== true)
    throw new StatementFormatError(
      `not well-formed XML (${validation.err.msg}, line ${validation.err.line})`,
    );
  let document: unknown;
  try {
    document = parser.parse(xml);
  } catch (error) {
    throw new StatementFormatError(
      `unreadable (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const root = isNode(document) ? child(document, 'Document') : undefined;
  const wrapper = child(root, 'BkToCstmrStmt');
  if (wrapper === undefined)
    throw new StatementFormatError('not a camt.053 document', undefined, 'Document/BkToCstmrStmt');
  const statements = list(wrapper, 'Stmt');
  if (statements.length !== 1)
    throw new StatementFormatError(
      `expected one Stmt, found ${statements.length}`,
      undefined,
      'Stmt',
    );
  const statement = statements[0] as Node;
  const statementId = textOf(statement, 'Id');
  if (statementId === undefined || statementId === '')
    throw new StatementFormatError('missing', undefined, 'Stmt/Id');
  const entries = list(statement, 'Ntry');
  if (entries.length > statementLimits.entriesMax)
    throw new StatementFormatError(`more than ${statementLimits.entriesMax} entries`);
  const parsed = entries.map((entry, offset) => parseEntry(entry, offset + 1));
  checkUniqueReferences(parsed);
  const balances = closingBalances(list(statement, 'Bal'));
  return { statementId, entries: parsed, balances };
}

/** The statement's closing booked balances, one per currency (a second one is an error). */
function closingBalances(elements: readonly unknown[]): ClosingBalance[] {
  const balances: ClosingBalance[] = [];
  elements.forEach((element, offset) => {
    const balance = parseBalance(element, offset + 1);
    if (balance === undefined) return;
    if (balances.some((known) => known.currency === balance.currency))
      throw new StatementFormatError(
        `a second closing balance (CLBD) in ${balance.currency.toUpperCase()}`,
        undefined,
        `Bal ${offset + 1}`,
      );
    balances.push(balance);
  });
  return balances;
}

/**
 * One `Bal` element (`index` 1-based among the statement's balances): its closing booked balance
 * (Tp/CdOrPrtry/Cd CLBD), or undefined for another type (opening, interim, available…). The
 * amount is exact through the one exponent table, like an entry's.
 */
export function parseBalance(value: unknown, index: number): ClosingBalance | undefined {
  const fail = (element: string, message: string): never => {
    throw new StatementFormatError(message, undefined, `Bal ${index}/${element}`);
  };
  if (!isNode(value)) return fail('Bal', 'must be an element with content');
  const code = textOf(child(child(value, 'Tp'), 'CdOrPrtry'), 'Cd');
  if (code !== 'CLBD') return undefined;
  const { amount, currency } = amountOf(value, fail);
  if (amount < 0n) return fail('Amt', `must not be negative (CdtDbtInd gives the sign)`);
  const indicator = textOf(value, 'CdtDbtInd');
  if (indicator !== 'CRDT' && indicator !== 'DBIT')
    return fail('CdtDbtInd', `must be CRDT or DBIT, got ${String(indicator)}`);
  const date = dateOf(child(value, 'Dt'));
  if (date === undefined) return fail('Dt', 'must hold Dt YYYY-MM-DD (or DtTm)');
  return { currency, date, amount: indicator === 'DBIT' ? -amount : amount };
}

/** One `Ntry` element (`index` 1-based in the statement); a StatementFormatError names it. */
export function parseEntry(value: unknown, index: number): StatementEntry {
  const fail = (element: string, message: string): never => {
    throw new StatementFormatError(message, index, element);
  };
  if (!isNode(value)) return fail('Ntry', 'must be an element with content');
  const { amount, currency } = amountOf(value, fail);
  if (amount <= 0n) return fail('Amt', `must be positive, got '${textOf(value, 'Amt')}'`);
  const indicator = textOf(value, 'CdtDbtInd');
  if (indicator !== 'CRDT' && indicator !== 'DBIT')
    return fail('CdtDbtInd', `must be CRDT or DBIT, got ${String(indicator)}`);
  const bookingDate = dateOf(child(value, 'BookgDt'));
  if (bookingDate === undefined) return fail('BookgDt', 'must hold Dt YYYY-MM-DD (or DtTm)');
  const entryReference = bounded(textOf(value, 'AcctSvcrRef'), 'AcctSvcrRef', fail);
  if (entryReference === undefined || entryReference === '')
    return fail('AcctSvcrRef', 'missing (the entry reference is required)');
  const reversal = textOf(value, 'RvslInd');
  if (reversal !== undefined && reversal !== 'true' && reversal !== 'false')
    return fail('RvslInd', `must be true or false, got '${reversal}'`);
  const details = transactionDetails(value, fail);
  return {
    index,
    entryReference,
    direction: indicator === 'CRDT' ? 'credit' : 'debit',
    status: statusOf(value),
    amount,
    currency,
    bookingDate,
    reversal: reversal === 'true',
    ...details,
  };
}

type Fail = (element: string, message: string) => never;

/** `Amt` and its `Ccy`: exact minor units through the one exponent table (never a float). */
function amountOf(value: Node, fail: Fail): { amount: bigint; currency: string } {
  const amountNode = value.Amt;
  const amountText = textOf(value, 'Amt');
  const currencyCode = isNode(amountNode) ? amountNode['@_Ccy'] : undefined;
  if (typeof currencyCode !== 'string' || !/^[A-Z]{3}$/.test(currencyCode))
    return fail('Amt/@Ccy', `must be an upper-case ISO currency code, got ${String(currencyCode)}`);
  const currency = currencyCode.toLowerCase();
  if (!isCurrency(currency)) return fail('Amt/@Ccy', `unknown currency ${currencyCode}`);
  if (amountText === undefined) return fail('Amt', 'missing');
  try {
    return { amount: parseDecimal(amountText, currency), currency };
  } catch (error) {
    if (error instanceof MoneyError) return fail('Amt', error.message);
    throw error;
  }
}

function statusOf(entry: Node): StatementEntry['status'] {
  // camt.053.001.02 writes <Sts>BOOK</Sts>; .08 writes <Sts><Cd>BOOK</Cd></Sts>.
  const code = textOf(entry, 'Sts') ?? textOf(child(entry, 'Sts'), 'Cd');
  if (code === 'BOOK') return 'booked';
  if (code === 'PDNG') return 'pending';
  return 'other';
}

function dateOf(node: Node | undefined): string | undefined {
  const date = textOf(node, 'Dt') ?? textOf(node, 'DtTm')?.slice(0, 10);
  if (date === undefined || !/^\d{4}-\d{2}-\d{2}$/.test(date)) return undefined;
  const parsed = new Date(`${date}T00:00:00Z`);
  return Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== date
    ? undefined
    : date;
}

function bounded(value: string | undefined, element: string, fail: Fail): string | undefined {
  if (value !== undefined && value.length > statementLimits.textLengthMax)
    fail(element, `longer than ${statementLimits.textLengthMax} characters`);
  return value;
}

/** The entry's one transaction (camt.053 allows batches; a Payrail entry is one transaction). */
function transactionDetails(
  entry: Node,
  fail: Fail,
): Pick<
  StatementEntry,
  | 'endToEndId'
  | 'instructionId'
  | 'transactionReference'
  | 'transactionId'
  | 'remittance'
  | 'returnReason'
> {
  const details = list(entry, 'NtryDtls');
  if (details.length > 1) fail('NtryDtls', 'more than one');
  const transactions = list(details[0] as Node | undefined, 'TxDtls');
  if (transactions.length > 1) fail('NtryDtls/TxDtls', 'a batch entry (more than one TxDtls)');
  const transaction = transactions[0];
  if (transaction !== undefined && !isNode(transaction)) fail('TxDtls', 'must have content');
  const tx = transaction as Node | undefined;
  const references = child(tx, 'Refs');
  const remittanceLines = list(child(tx, 'RmtInf'), 'Ustrd').filter(
    (line): line is string => typeof line === 'string',
  );
  const transactionId = nonEmpty(bounded(textOf(references, 'TxId'), 'Refs/TxId', fail));
  const returnInformation = child(tx, 'RtrInf');
  const reason = textOf(child(returnInformation, 'Rsn'), 'Cd');
  if (returnInformation !== undefined && (reason === undefined || reason === ''))
    fail('RtrInf/Rsn/Cd', 'a return must carry a reason code');
  return {
    endToEndId: nonEmpty(bounded(textOf(references, 'EndToEndId'), 'EndToEndId', fail)),
    instructionId: nonEmpty(bounded(textOf(references, 'InstrId'), 'InstrId', fail)),
    transactionReference: nonEmpty(
      bounded(textOf(references, 'AcctSvcrRef'), 'Refs/AcctSvcrRef', fail),
    ),
    remittance: nonEmpty(bounded(remittanceLines.join(' '), 'RmtInf/Ustrd', fail)),
    returnReason: reason,
    // Only when given: entries compared whole (tests, fixtures) stay as they were.
    ...(transactionId === undefined ? {} : { transactionId }),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' || value === 'NOTPROVIDED' ? undefined : value;
}

function checkUniqueReferences(entries: readonly StatementEntry[]): void {
  const seen = new Set<string>();
  for (const entry of entries) {
    const key = `${entry.direction}:${entry.entryReference}`;
    if (seen.has(key))
      throw new StatementFormatError(
        `the entry reference ${entry.entryReference} appears twice`,
        entry.index,
        'AcctSvcrRef',
      );
    seen.add(key);
  }
}

// What an entry names (one definition, used by statement ingestion and reconciliation's records).

/** A payout the bank sent back: a credit with a return reason, or a reversal. */
export function isReturned(entry: StatementEntry): boolean {
  return entry.direction === 'credit' && (entry.returnReason !== undefined || entry.reversal);
}

/** The payout the entry names: its end-to-end id, when that is a payout id. */
export function payoutIdOf(entry: StatementEntry): string | undefined {
  const id = entry.endToEndId;
  return id !== undefined && id.startsWith('po_') ? id : undefined;
}

/** The bank's trace of a payout: the instruction id, else a reference of the transaction. */
export function payoutTraceOf(entry: StatementEntry): string {
  return entry.instructionId ?? entry.transactionReference ?? entry.entryReference;
}

/**
 * The settlement references an entry may name, most likely first: its end-to-end id, its whole
 * remittance, then each word of the remittance (bounded).
 */
export function settlementReferenceCandidates(entry: StatementEntry): string[] {
  const remittance = entry.remittance ?? '';
  return [entry.endToEndId ?? '', remittance, ...remittance.split(/\s+/)]
    .filter((word, index, all) => word !== '' && all.indexOf(word) === index)
    .slice(0, 20);
}
