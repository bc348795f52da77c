// One condition of a rule (`:amount_in_usd: > 500`, `:email: in @blocked_emails`,
// `is_missing(:ip_country:)` …), read from a cursor over the tokens and type-checked at once, so
// a rule that could never be evaluated is refused when saved, naming the position. No recursion:
// a condition is a fixed sequence of tokens.
import { attributeType } from '../attributes.ts';
import type { AttributeType, AttributeValue } from '../attributes.ts';
import { RuleSyntaxError } from './errors.ts';
import type { Token } from './lexer.ts';
import type { ComparisonOperator, Condition, Operand, Reference } from './syntax.ts';

/** At most this many values in one `in (…)`. */
export const inValuesMax = 100;

/** A forward-only cursor over the tokens (the last one is always `end`). */
export class Cursor {
  readonly tokens: readonly Token[];
  index = 0;
  constructor(tokens: readonly Token[]) {
    this.tokens = tokens;
  }
  peek(offset = 0): Token {
    const token = this.tokens[Math.min(this.index + offset, this.tokens.length - 1)];
    if (token === undefined) throw new Error('a token list always ends with an end token');
    return token;
  }
  next(): Token {
    const token = this.peek();
    if (this.index < this.tokens.length - 1) this.index += 1;
    return token;
  }
  isWord(word: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token.kind === 'word' && token.word === word;
  }
  expect(kind: '(' | ')', what: string): Token {
    const token = this.next();
    if (token.kind !== kind) throw new RuleSyntaxError(`expected ${what}`, token.start);
    return token;
  }
}

/**
 * Attributes whose values come normalized (countries uppercase, emails lowercase …): a string
 * literal compared with them is normalized the same way when the rule is compiled, so
 * `:card_country: = 'us'` means what it says, at no cost per decision.
 */
const literalCase: Readonly<Record<string, 'upper' | 'lower'>> = {
  card_country: 'upper',
  ip_country: 'upper',
  currency: 'lower',
  card_brand: 'lower',
  email: 'lower',
  email_domain: 'lower',
  risk_level: 'lower',
};

export function normalizeLiteral(reference: Reference, value: string): string {
  if (reference.kind !== 'attribute') return value;
  const casing = literalCase[reference.name];
  if (casing === 'upper') return value.toUpperCase();
  if (casing === 'lower') return value.toLowerCase();
  return value;
}

/**
 * Attributes with a closed set of values: a literal outside it could never match, so it is
 * refused when the rule is saved rather than silently doing nothing (`:risk_level: = 'high'`).
 */
const literalDomain: Readonly<Record<string, { test: (value: string) => boolean; what: string }>> =
  {
    risk_level: {
      test: (value) => ['normal', 'elevated', 'highest', 'unknown'].includes(value),
      what: 'risk_level is normal, elevated, highest or unknown',
    },
    card_country: { test: (value) => /^[A-Z]{2}$/.test(value), what: 'a two-letter country code' },
    ip_country: { test: (value) => /^[A-Z]{2}$/.test(value), what: 'a two-letter country code' },
    currency: { test: (value) => /^[a-z]{3}$/.test(value), what: 'a three-letter currency code' },
  };

/** A string literal compared with `reference`: normalized, and within the attribute's values. */
function checkedLiteral(reference: Reference, value: string, position: number): string {
  const normalized = normalizeLiteral(reference, value);
  const domain = reference.kind === 'attribute' ? literalDomain[reference.name] : undefined;
  if (domain !== undefined && !domain.test(normalized)) {
    throw new RuleSyntaxError(`expected ${domain.what}`, position);
  }
  return normalized;
}

/** How a reference or literal is named in messages; literals are never repeated. */
function describe(operand: Operand): string {
  if (operand.kind === 'attribute') return `:${operand.name}: (a ${operand.type})`;
  if (operand.kind === 'metadata') return 'a metadata value (a string)';
  return `a ${typeof operand.value} value`;
}

function typeOf(operand: Operand): AttributeType | 'metadata' {
  if (operand.kind === 'attribute') return operand.type;
  if (operand.kind === 'metadata') return 'metadata';
  return typeof operand.value as AttributeType;
}

const conditionExpected =
  "expected a condition: an attribute (:name:), a metadata key (::key::), 'not', '(' or is_missing(…)";

function readOperand(token: Token): Operand | undefined {
  switch (token.kind) {
    case 'attribute': {
      const type = attributeType(token.name);
      if (type === undefined) throw new RuleSyntaxError(unknownAttribute(token.name), token.start);
      return { kind: 'attribute', name: token.name, type, start: token.start };
    }
    case 'metadata':
      return { kind: 'metadata', key: token.key, start: token.start };
    case 'string':
    case 'number':
      return { kind: 'literal', value: token.value, start: token.start };
    case 'word':
      if (token.word === 'true' || token.word === 'false') {
        return { kind: 'literal', value: token.word === 'true', start: token.start };
      }
      return undefined;
    default:
      return undefined;
  }
}

function unknownAttribute(name: string): string {
  // A name is repeated only when it cannot be (part of) a card number.
  return /[0-9]{6}/.test(name) ? 'unknown attribute' : `unknown attribute :${name}:`;
}

function readReference(cursor: Cursor): Reference {
  const token = cursor.next();
  const operand = readOperand(token);
  if (operand === undefined || operand.kind === 'literal') {
    throw new RuleSyntaxError(
      'expected an attribute (:name:) or a metadata key (::key::)',
      token.start,
    );
  }
  return operand;
}

/** Reads one condition at the cursor. */
export function readCondition(cursor: Cursor): Condition {
  const first = cursor.peek();
  if (cursor.isWord('is_missing') || cursor.isWord('is_not_missing')) {
    cursor.next();
    cursor.expect('(', "'(' after is_missing");
    const operand = readReference(cursor);
    cursor.expect(')', "')' closing is_missing(…)");
    return {
      kind: 'missing',
      operand,
      negated: first.kind === 'word' && first.word === 'is_not_missing',
      start: first.start,
    };
  }
  const left = readOperand(cursor.next());
  if (left === undefined) throw new RuleSyntaxError(conditionExpected, first.start);
  const following = cursor.peek();
  if (following.kind === 'operator') {
    cursor.next();
    const rightToken = cursor.next();
    const right = readOperand(rightToken);
    if (right === undefined) {
      throw new RuleSyntaxError(
        'expected an attribute, a metadata key or a value',
        rightToken.start,
      );
    }
    return comparison(following.operator, left, right, following.start);
  }
  if (cursor.isWord('not') && cursor.isWord('in', 1)) {
    cursor.next();
    cursor.next();
    return membership(cursor, asReference(left), true, first.start);
  }
  if (cursor.isWord('in')) {
    cursor.next();
    return membership(cursor, asReference(left), false, first.start);
  }
  if (cursor.isWord('includes') || cursor.isWord('like')) {
    return textMatch(cursor, asReference(left), first.start);
  }
  if (left.kind === 'attribute' && left.type === 'boolean') {
    return { kind: 'flag', operand: left, start: first.start };
  }
  throw new RuleSyntaxError(
    `expected an operator (=, !=, <, >, <=, >=, in, not in, includes, like) after ${describe(left)}`,
    following.start,
  );
}

function asReference(operand: Operand): Reference {
  if (operand.kind === 'literal') {
    throw new RuleSyntaxError(
      'the left side of in, includes or like is an attribute or a metadata key',
      operand.start,
    );
  }
  return operand;
}

function comparison(
  operator: ComparisonOperator,
  left: Operand,
  right: Operand,
  position: number,
): Condition {
  if (left.kind === 'literal' && right.kind === 'literal') {
    throw new RuleSyntaxError(
      'a comparison needs an attribute or a metadata key on one side',
      left.start,
    );
  }
  const leftType = typeOf(left);
  const rightType = typeOf(right);
  const numeric =
    (leftType === 'metadata' && rightType === 'number') ||
    (leftType === 'number' && rightType === 'metadata');
  const sameType =
    leftType === rightType ||
    (leftType === 'metadata' && rightType === 'string') ||
    (leftType === 'string' && rightType === 'metadata');
  if (!numeric && !sameType) {
    throw new RuleSyntaxError(
      `cannot compare ${describe(left)} with ${describe(right)}`,
      right.start,
    );
  }
  const ordering = operator !== '=' && operator !== '!=';
  if (ordering && !numeric && leftType !== 'number') {
    throw new RuleSyntaxError(
      `${operator} orders numbers only; ${describe(left.kind === 'literal' ? right : left)} is not a number`,
      position,
    );
  }
  return {
    kind: 'compare',
    operator,
    left: normalizedAgainst(left, right),
    right: normalizedAgainst(right, left),
    numeric,
    start: left.start,
  };
}

/** A string literal compared with an attribute takes that attribute's normal case. */
function normalizedAgainst(operand: Operand, other: Operand): Operand {
  if (operand.kind !== 'literal' || typeof operand.value !== 'string' || other.kind === 'literal') {
    return operand;
  }
  return { ...operand, value: checkedLiteral(other, operand.value, operand.start) };
}

function isText(reference: Reference): boolean {
  return reference.kind === 'metadata' || reference.type === 'string';
}

function membership(
  cursor: Cursor,
  operand: Reference,
  negated: boolean,
  start: number,
): Condition {
  const token = cursor.peek();
  if (token.kind === 'list') {
    cursor.next();
    if (!isText(operand)) {
      throw new RuleSyntaxError(
        `value lists hold strings; ${describe(operand)} is not one`,
        token.start,
      );
    }
    return { kind: 'list', operand, alias: token.alias, negated, start };
  }
  cursor.expect('(', "'(' and a list of values, or a value list (@alias), after in");
  const values: AttributeValue[] = [];
  const expected = operand.kind === 'metadata' ? 'string' : operand.type;
  for (;;) {
    const valueToken = cursor.next();
    const value = readOperand(valueToken);
    if (value === undefined || value.kind !== 'literal') {
      throw new RuleSyntaxError(
        'expected a value (a string, a number, true or false)',
        valueToken.start,
      );
    }
    if (typeof value.value !== expected) {
      throw new RuleSyntaxError(
        `expected a ${expected} value for ${describe(operand)}`,
        valueToken.start,
      );
    }
    if (values.length === inValuesMax) {
      throw new RuleSyntaxError(`at most ${inValuesMax} values in one list`, valueToken.start);
    }
    values.push(
      typeof value.value === 'string'
        ? checkedLiteral(operand, value.value, valueToken.start)
        : value.value,
    );
    const separator = cursor.next();
    if (separator.kind === ')') break;
    if (separator.kind !== ',') throw new RuleSyntaxError("expected ',' or ')'", separator.start);
  }
  return { kind: 'in', operand, values, negated, start };
}

function textMatch(cursor: Cursor, operand: Reference, start: number): Condition {
  const keyword = cursor.next();
  const kind = keyword.kind === 'word' && keyword.word === 'like' ? 'like' : 'includes';
  if (!isText(operand)) {
    throw new RuleSyntaxError(
      `${kind} matches strings; ${describe(operand)} is not one`,
      keyword.start,
    );
  }
  const token = cursor.next();
  if (token.kind !== 'string') {
    throw new RuleSyntaxError(`expected a string after ${kind}`, token.start);
  }
  if (kind === 'includes' && token.value === '') {
    throw new RuleSyntaxError('includes needs a non-empty string', token.start);
  }
  return { kind, operand, value: normalizeLiteral(operand, token.value), start };
}
