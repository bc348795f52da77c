// Stripe's search query language, the subset Payrail serves (https://docs.stripe.com/search):
//   status:'succeeded' AND metadata['order']:'123'     exact match; clauses joined by AND or OR
//   description~'gift'                                 substring (at least 3 characters)
//   amount>1000  created>=1700000000  amount:500       numbers: > < >= <= and : (equals)
//   -currency:'eur'                                    negation
//   metadata['key']:null                               the key is absent
// Clauses are separated by AND, OR (either case) or plain whitespace (AND); AND and OR never
// mix in one query, as Stripe refuses. One left-to-right scan, no recursion, bounded in length
// and clause count; every refusal says at which character (1-based) the query went wrong.
import { DomainError } from '../errors.ts';

/** Bounds on a query, whatever it says. */
export const queryLengthMax = 1000;
/** Stripe's limit on clauses per query. */
export const clausesMax = 10;
/** Substring matches need at least this many characters (Stripe's). */
export const substringLengthMin = 3;

export type Operator = ':' | '~' | '>' | '<' | '>=' | '<=';

export type SearchValue =
  | { readonly kind: 'string'; readonly text: string }
  | { readonly kind: 'number'; readonly text: string }
  | { readonly kind: 'null' };

export type Clause = {
  readonly field: string;
  /** The key of `metadata['key']`. */
  readonly key?: string;
  readonly operator: Operator;
  readonly value: SearchValue;
  readonly negated: boolean;
  /** Where the clause starts (1-based), for the compiler's errors. */
  readonly position: number;
};

export type SearchQuery = {
  readonly clauses: readonly Clause[];
  /** How the clauses combine; AND for a single clause. */
  readonly joiner: 'AND' | 'OR';
};

/** A query that does not parse or compile: a 400 naming `query`, with the position. */
export class SearchQueryError extends DomainError<'parameter_invalid'> {
  readonly position: number;
  constructor(message: string, position: number) {
    super(
      'parameter_invalid',
      'invalid',
      `Invalid query at character ${position}: ${message}`,
      'query',
    );
    this.name = 'SearchQueryError';
    this.position = position;
  }
}

const fieldPattern = /[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*/y;
const numberPattern = /-?[0-9]+(?:\.[0-9]+)?/y;
const keywordPattern = /(AND|OR)(?=\s)/iy;
const operators: readonly Operator[] = ['>=', '<=', ':', '~', '>', '<'];

/** A scanner over the query: an index that only moves forward. */
class Scanner {
  readonly text: string;
  index = 0;
  constructor(text: string) {
    this.text = text;
  }
  get done(): boolean {
    return this.index >= this.text.length;
  }
  /** 1-based, for messages. */
  get position(): number {
    return this.index + 1;
  }
  fail(message: string, index = this.index): never {
    throw new SearchQueryError(message, index + 1);
  }
  skipSpace(): boolean {
    const start = this.index;
    while (!this.done && /\s/.test(this.text[this.index] as string)) this.index += 1;
    return this.index > start;
  }
  match(pattern: RegExp): string | undefined {
    pattern.lastIndex = this.index;
    const found = pattern.exec(this.text);
    if (found === null) return undefined;
    this.index += found[0].length;
    return found[0];
  }
  take(literal: string): boolean {
    if (!this.text.startsWith(literal, this.index)) return false;
    this.index += literal.length;
    return true;
  }
  /** A quoted string: single or double quotes, backslash escaping the quote or a backslash. */
  quoted(): string | undefined {
    const quote = this.text[this.index];
    if (quote !== "'" && quote !== '"') return undefined;
    const start = this.index;
    let text = '';
    this.index += 1;
    while (!this.done) {
      const character = this.text[this.index] as string;
      if (character === quote) {
        this.index += 1;
        return text;
      }
      if (character === '\\') {
        const escaped = this.text[this.index + 1];
        if (escaped !== quote && escaped !== '\\')
          this.fail('a backslash in a string escapes only its quote or a backslash.');
        text += escaped;
        this.index += 2;
        continue;
      }
      text += character;
      this.index += 1;
    }
    return this.fail('this string is never closed.', start);
  }
}

function parseValue(scanner: Scanner): SearchValue {
  const text = scanner.quoted();
  if (text !== undefined) return { kind: 'string', text };
  const number = scanner.match(numberPattern);
  if (number !== undefined) return { kind: 'number', text: number };
  if (scanner.match(/null(?![A-Za-z0-9_])/y) !== undefined) return { kind: 'null' };
  return scanner.fail("expected a value: a quoted string ('…'), a number or null.");
}

function parseClause(scanner: Scanner): Clause {
  const start = scanner.position;
  const negated = scanner.take('-');
  const field = scanner.match(fieldPattern);
  if (field === undefined) scanner.fail('expected a field name, such as status.');
  let key: string | undefined;
  if (scanner.take('[')) {
    const at = scanner.index;
    key = scanner.quoted();
    if (key === undefined) scanner.fail("expected a quoted key, as in metadata['order'].");
    if (key.length === 0 || key.length > 40)
      scanner.fail('a metadata key has 1 to 40 characters.', at);
    if (!scanner.take(']')) scanner.fail("expected ] after the key, as in metadata['order'].");
  }
  const operator = operators.find((candidate) => scanner.take(candidate));
  if (operator === undefined)
    scanner.fail(`expected an operator after ${field}: one of : ~ > < >= <=.`);
  const value = parseValue(scanner);
  return { field, key, operator, value, negated, position: start };
}

/** Parses a query, or throws SearchQueryError naming where it went wrong. Never anything else. */
export function parseSearchQuery(text: string): SearchQuery {
  if (text.length > queryLengthMax)
    throw new SearchQueryError(
      `a query has at most ${queryLengthMax} characters.`,
      queryLengthMax + 1,
    );
  const scanner = new Scanner(text);
  scanner.skipSpace();
  if (scanner.done) scanner.fail('the query is empty.');
  const clauses: Clause[] = [];
  let joiner: 'AND' | 'OR' | undefined;
  for (;;) {
    if (clauses.length === clausesMax) scanner.fail(`a query has at most ${clausesMax} clauses.`);
    clauses.push(parseClause(scanner));
    const spaced = scanner.skipSpace();
    if (scanner.done) break;
    if (!spaced) scanner.fail('expected a space, AND or OR between clauses.');
    const at = scanner.index;
    const keyword = scanner.match(keywordPattern)?.toUpperCase() as 'AND' | 'OR' | undefined;
    const next = keyword ?? 'AND';
    if (joiner !== undefined && joiner !== next)
      scanner.fail('AND and OR cannot be combined in one query.', at);
    joiner = next;
    if (keyword !== undefined) scanner.skipSpace();
    if (scanner.done) scanner.fail(`expected a clause after ${keyword ?? 'a space'}.`);
  }
  return { clauses, joiner: joiner ?? 'AND' };
}
