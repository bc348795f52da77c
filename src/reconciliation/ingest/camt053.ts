// camt.053 bank statements as files, read by a streaming XML parser (saxes): each `Ntry` element
// is built on its own into the shape fast-xml-parser gives (banking/camt053.ts `Node`) and read
// by the same `parseEntry`, so the meaning of an entry (amount, direction, references, return) has
// one definition; what an entry names (payout, settlement reference, trace) comes from the same
// module's helpers. Memory holds one entry. Only booked entries become records; a bad entry is
// quarantined at the line its `Ntry` starts on; bad XML, a DOCTYPE or a cut file fail the file.
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import {
  StatementFormatError,
  isReturned,
  parseBalance,
  parseEntry,
  payoutIdOf,
  payoutTraceOf,
  repeatedElements,
  settlementReferenceCandidates,
  type Node,
  type StatementEntry,
} from '../../banking/camt053.ts';
import {
  FileFormatError,
  ingestLimits,
  quarantine,
  type FileParser,
  type NewRecord,
  type ParsedRow,
  type ParserOptions,
} from './types.ts';
import { recordKeys } from '../tables.ts';

type Building = {
  readonly name: string;
  readonly attributes: Record<string, string>;
  readonly children: Record<string, unknown>;
  hasChildren: boolean;
  text: string;
};

const pieceLengthMax = 16 * 1024;
const statementPath = 'Document/BkToCstmrStmt/Stmt';
/** Elements built whole (one at a time): an entry, and a balance (its closing booked one kept). */
const builtPaths = new Set([`${statementPath}/Ntry`, `${statementPath}/Bal`]);
/** Balances in one statement at most (one of each type per currency is a handful). */
const balancesMax = 1_000;

function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
}

/** The element's value as fast-xml-parser gives it. */
function valueOf(element: Building): unknown {
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(element.attributes))
    if (!name.startsWith('xmlns')) attributes[`@_${localName(name)}`] = value;
  const hasAttributes = Object.keys(attributes).length > 0;
  if (element.hasChildren) return { ...element.children, ...attributes };
  const text = element.text.trim();
  return hasAttributes ? { '#text': text, ...attributes } : text;
}

function addChild(parent: Building, name: string, value: unknown): void {
  parent.hasChildren = true;
  const existing = parent.children[name];
  if (repeatedElements.has(name)) {
    if (Array.isArray(existing)) existing.push(value);
    else
      Object.defineProperty(parent.children, name, {
        value: [value],
        enumerable: true,
        writable: true,
        configurable: true,
      });
  } else if (existing === undefined)
    Object.defineProperty(parent.children, name, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  else parent.children[name] = Array.isArray(existing) ? [...existing, value] : [existing, value];
}

function bankRecord(entry: StatementEntry, line: number, seenOn: string): NewRecord {
  const returned = isReturned(entry);
  const payout = entry.direction === 'debit' || returned ? payoutIdOf(entry) : undefined;
  return {
    source: 'bank_statement',
    rowKey: recordKeys.bankEntry(entry.entryReference, entry.direction),
    line,
    kind: returned ? 'return' : entry.direction,
    connector: null,
    ourReference: payout ?? null,
    pspReference: null,
    batchReference: returned ? null : (settlementReferenceCandidates(entry)[0] ?? null),
    traceId:
      payout !== undefined
        ? payoutTraceOf(entry)
        : (entry.transactionId ?? entry.endToEndId ?? null),
    currency: entry.currency,
    amount: entry.amount,
    fee: null,
    valueDate: entry.bookingDate,
    seenOn,
  };
}

export function camt053FileParser(_options: ParserOptions): FileParser {
  const xml = new SaxesParser({ xmlns: false, position: true });
  const path: string[] = [];
  /** The entry being built (its elements, outermost first). */
  const building: Building[] = [];
  let entryLine = 0;
  let entryStart = 0;
  let entries = 0;
  let statements = 0;
  let statementDate: string | undefined;
  let headerDate: string | undefined;
  let rows: ParsedRow[] = [];
  let lastEvent = 0;

  const fail = (message: string, line = xml.line): never => {
    throw new FileFormatError(`camt.053 statement: ${message}`, line);
  };
  xml.on('doctype', () => fail('a DOCTYPE is not allowed'));
  xml.on('error', (error) => fail(`not well-formed XML (${error.message})`));
  xml.on('opentag', (tag: SaxesTagPlain) => {
    lastEvent = xml.position;
    const name = localName(tag.name);
    path.push(name);
    if (path.length > ingestLimits.depthMax) fail(`nested deeper than ${ingestLimits.depthMax}`);
    const where = path.join('/');
    if (where === statementPath && ++statements > 1) fail('more than one Stmt in the file');
    if (building.length === 0 && !builtPaths.has(where)) return;
    if (building.length === 0) {
      entryLine = xml.line;
      entryStart = xml.position;
    }
    building.push({ name, attributes: tag.attributes, children: {}, hasChildren: false, text: '' });
  });
  xml.on('text', (text) => {
    lastEvent = xml.position;
    const current = building[building.length - 1];
    if (current !== undefined) current.text += text;
    else if (path.length > 0) leafText(text);
  });
  const leafText = (text: string): void => {
    const where = path.join('/');
    if (where === 'Document/BkToCstmrStmt/Stmt/CreDtTm') statementDate = text.trim().slice(0, 10);
    else if (where === 'Document/BkToCstmrStmt/GrpHdr/CreDtTm')
      headerDate = text.trim().slice(0, 10);
  };
  xml.on('closetag', () => {
    lastEvent = xml.position;
    path.pop();
    const element = building.pop();
    if (element === undefined) return;
    const parent = building[building.length - 1];
    if (parent !== undefined) addChild(parent, element.name, valueOf(element));
    else if (element.name === 'Bal') finishBalance(valueOf(element));
    else finishEntry(valueOf(element) as Node);
  });
  const closingCurrencies = new Set<string>();
  let balances = 0;
  /** A closing booked balance; a bad one is quarantined at its line, like an entry. */
  const finishBalance = (node: unknown): void => {
    if (++balances > balancesMax) fail(`more than ${balancesMax} balances`);
    try {
      const balance = parseBalance(node, balances);
      if (balance === undefined) return;
      if (closingCurrencies.has(balance.currency))
        throw new StatementFormatError(
          `a second closing balance (CLBD) in ${balance.currency.toUpperCase()}`,
        );
      closingCurrencies.add(balance.currency);
      rows.push({ type: 'balance', line: entryLine, balance });
    } catch (error) {
      if (!(error instanceof StatementFormatError)) throw error;
      rows.push(quarantine(entryLine, error.message, JSON.stringify(node)));
    }
  };
  const finishEntry = (node: Node): void => {
    if (++entries > ingestLimits.recordsPerFileMax)
      fail(`more than ${ingestLimits.recordsPerFileMax} entries`);
    let entry: StatementEntry;
    try {
      entry = parseEntry(node, entries);
    } catch (error) {
      if (!(error instanceof StatementFormatError)) throw error;
      rows.push(quarantine(entryLine, error.message, JSON.stringify(node)));
      return;
    }
    if (entry.status !== 'booked') return;
    const seenOn = statementDate ?? headerDate ?? entry.bookingDate;
    rows.push({
      type: 'record',
      record: bankRecord(
        entry,
        entryLine,
        /^\d{4}-\d{2}-\d{2}$/.test(seenOn) ? seenOn : entry.bookingDate,
      ),
    });
  };

  const take = (): ParsedRow[] => {
    const taken = rows;
    rows = [];
    return taken;
  };

  return {
    push(text) {
      for (let start = 0; start < text.length; start += pieceLengthMax) {
        xml.write(text.slice(start, start + pieceLengthMax));
        const limit = ingestLimits.recordLengthMax + pieceLengthMax;
        if (building.length > 0 && xml.position - entryStart > limit)
          fail(
            `entry ${entries + 1} is longer than ${ingestLimits.recordLengthMax} characters`,
            entryLine,
          );
        if (xml.position - lastEvent > limit)
          fail(`a text or tag longer than ${ingestLimits.recordLengthMax} characters`);
      }
      return take();
    },
    end() {
      xml.close();
      if (statements === 0) fail('not a camt.053 document (no Document/BkToCstmrStmt/Stmt)', 1);
      return take();
    },
  };
}
