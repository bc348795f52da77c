// The rule language's tokens, read by one left-to-right scan (no backtracking, no regular
// expression over the whole text). Keywords and actions are case-insensitive, as in Radar;
// attribute names, metadata keys, list aliases and string literals are kept as written.
import { containsCardNumber } from './card-numbers.ts';
import { RuleSyntaxError } from './errors.ts';

export type ComparisonOperator = '=' | '!=' | '<' | '>' | '<=' | '>=';

export type Token =
  | { readonly kind: 'attribute'; readonly name: string; readonly start: number }
  | { readonly kind: 'metadata'; readonly key: string; readonly start: number }
  | { readonly kind: 'string'; readonly value: string; readonly start: number }
  | { readonly kind: 'number'; readonly value: number; readonly start: number }
  | { readonly kind: 'list'; readonly alias: string; readonly start: number }
  /** A keyword or any other bare word, lowercased. */
  | { readonly kind: 'word'; readonly word: string; readonly start: number }
  | { readonly kind: 'operator'; readonly operator: ComparisonOperator; readonly start: number }
  | { readonly kind: '(' | ')' | ',' | 'end'; readonly start: number };

/** Bounds on the parts of a rule (the text itself is bounded by the parser). */
export const metadataKeyLengthMax = 40;
export const listAliasLengthMax = 100;
export const attributeNameLengthMax = 64;
/** Digits of a number literal: more would lose precision (and look like a card number). */
const numberDigitsMax = 15;

const wordStart = /[A-Za-z_]/;
const wordPart = /[A-Za-z0-9_]/;
const digit = /[0-9]/;
const space = /\s/;
const aliasPart = /[A-Za-z0-9_-]/;

/** The tokens of `text`, ending with an `end` token. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < text.length) {
    const character = text.charAt(index);
    if (space.test(character)) {
      index += 1;
      continue;
    }
    const token = readToken(text, index);
    tokens.push(token.token);
    index = token.next;
  }
  tokens.push({ kind: 'end', start: text.length });
  return tokens;
}

type Read = { readonly token: Token; readonly next: number };

function readToken(text: string, start: number): Read {
  const character = text.charAt(start);
  if (character === '(' || character === ')' || character === ',') {
    return { token: { kind: character, start }, next: start + 1 };
  }
  if (character === ':')
    return text.charAt(start + 1) === ':' ? readMetadata(text, start) : readAttribute(text, start);
  if (character === "'") return readString(text, start);
  if (character === '"' || character === '‘' || character === '’') {
    throw new RuleSyntaxError('strings are written in straight single quotes', start);
  }
  if (character === '@') return readList(text, start);
  if (digit.test(character) || (character === '-' && digit.test(text.charAt(start + 1)))) {
    return readNumber(text, start);
  }
  if (wordStart.test(character)) {
    let end = start + 1;
    while (end < text.length && wordPart.test(text.charAt(end))) end += 1;
    return {
      token: { kind: 'word', word: text.slice(start, end).toLowerCase(), start },
      next: end,
    };
  }
  return readOperator(text, start);
}

function readOperator(text: string, start: number): Read {
  const two = text.slice(start, start + 2);
  if (two === '!=' || two === '<=' || two === '>=') {
    return { token: { kind: 'operator', operator: two, start }, next: start + 2 };
  }
  const one = text.charAt(start);
  if (one === '=' || one === '<' || one === '>') {
    return { token: { kind: 'operator', operator: one, start }, next: start + 1 };
  }
  throw new RuleSyntaxError('unexpected character', start);
}

function readAttribute(text: string, start: number): Read {
  let end = start + 1;
  while (end < text.length && wordPart.test(text.charAt(end))) end += 1;
  const name = text.slice(start + 1, end);
  if (name === '' || text.charAt(end) !== ':') {
    throw new RuleSyntaxError(
      "expected an attribute name closed by ':' (as :card_country:)",
      start,
    );
  }
  if (name.length > attributeNameLengthMax)
    throw new RuleSyntaxError('attribute name too long', start);
  return { token: { kind: 'attribute', name, start }, next: end + 1 };
}

function readMetadata(text: string, start: number): Read {
  const close = text.indexOf('::', start + 2);
  const key = close < 0 ? '' : text.slice(start + 2, close);
  if (close < 0 || key === '' || key.includes(':') || key.includes("'") || /[\n\r\t]/.test(key)) {
    throw new RuleSyntaxError("expected a metadata key closed by '::' (as ::order_type::)", start);
  }
  if (key.length > metadataKeyLengthMax) {
    throw new RuleSyntaxError(
      `metadata keys are at most ${metadataKeyLengthMax} characters`,
      start,
    );
  }
  rejectCardNumber(key, start);
  return { token: { kind: 'metadata', key, start }, next: close + 2 };
}

function readString(text: string, start: number): Read {
  let value = '';
  let index = start + 1;
  while (index < text.length) {
    const character = text.charAt(index);
    if (character === "'") {
      rejectCardNumber(value, start);
      return { token: { kind: 'string', value, start }, next: index + 1 };
    }
    if (character === '\\' && index + 1 < text.length) {
      value += text.charAt(index + 1);
      index += 2;
      continue;
    }
    value += character;
    index += 1;
  }
  throw new RuleSyntaxError("expected a closing ' for the string", start);
}

function readNumber(text: string, start: number): Read {
  let end = start + 1;
  while (end < text.length && digit.test(text.charAt(end))) end += 1;
  if (text.charAt(end) === '.' && digit.test(text.charAt(end + 1))) {
    end += 1;
    while (end < text.length && digit.test(text.charAt(end))) end += 1;
  }
  if (wordPart.test(text.charAt(end))) throw new RuleSyntaxError('expected a number', start);
  const literal = text.slice(start, end);
  rejectCardNumber(literal, start);
  if (literal.replace(/[^0-9]/g, '').length > numberDigitsMax) {
    throw new RuleSyntaxError(`numbers have at most ${numberDigitsMax} digits`, start);
  }
  return { token: { kind: 'number', value: Number(literal), start }, next: end };
}

function readList(text: string, start: number): Read {
  let end = start + 1;
  while (end < text.length && aliasPart.test(text.charAt(end))) end += 1;
  const alias = text.slice(start + 1, end);
  if (alias === '') throw new RuleSyntaxError('expected a value list alias after @', start);
  if (alias.length > listAliasLengthMax) {
    throw new RuleSyntaxError('value list alias too long', start);
  }
  rejectCardNumber(alias, start);
  return { token: { kind: 'list', alias, start }, next: end };
}

/**
 * Refuses a literal holding a card number: rules are stored, shown and recorded in outcomes,
 * where a card number must never be. Cards are matched by :card_fingerprint: or :card_bin:.
 */
function rejectCardNumber(literal: string, position: number): void {
  if (containsCardNumber(literal)) {
    throw new RuleSyntaxError(
      'a rule may not contain a card number; match cards by :card_fingerprint: or :card_bin:',
      position,
    );
  }
}
