// Turns a parsed rule into closures, once, when the rule is saved: a decision then calls them
// with no parsing, no lookups by operator and no allocation. Evaluation is three-valued, as
// Radar's since May 2024: a condition on a missing attribute is neither true nor false but
// unknown; `not` of unknown is unknown, `and`/`or` follow Kleene's tables (false and unknown is
// false, true or unknown is true), and a rule whose predicate ends unknown does not match. So
// `:email_domain: != 'a.com'` and `not (:email_domain: = 'a.com')` both skip a payment without an
// email; `is_missing(:email_domain:) or …` says what to do with one.
import type { AttributeValue, Attributes } from '../attributes.ts';
import type { CompiledRule, ListLookup } from '../types.ts';
import { parseRule } from './parser.ts';
import { referenceName } from './syntax.ts';
import type { ComparisonOperator, Condition, Expression, Operand, Reference } from './syntax.ts';

/** Three-valued truth: false, true, unknown (an attribute it needed was missing). */
export type Truth = 0 | 1 | 2;
const FALSE = 0;
const TRUE = 1;
const UNKNOWN = 2;

export type Evaluate = (attributes: Attributes, lists: ListLookup) => Truth;
type Read = (attributes: Attributes) => AttributeValue | undefined;

/** The compiled tree is as deep as the parser allows (nesting × 3 + 1); asserted, never exceeded. */
const compileDepthMax = 64;

/** Parses and compiles a rule; throws RuleSyntaxError naming the position. */
export function compileRule(text: string): CompiledRule {
  const parsed = parseRule(text);
  const attributes: string[] = [];
  const lists: string[] = [];
  const evaluate = compileExpression(parsed.expression, { attributes, lists }, 0);
  return {
    action: parsed.action,
    predicate: parsed.predicate,
    attributes,
    lists,
    matches: (values, lookup) => evaluate(values, lookup) === TRUE,
  };
}

type Collected = { readonly attributes: string[]; readonly lists: string[] };

function compileExpression(expression: Expression, collected: Collected, depth: number): Evaluate {
  if (depth > compileDepthMax) throw new Error('rule expression deeper than the parser allows');
  switch (expression.kind) {
    case 'not': {
      const operand = compileExpression(expression.operand, collected, depth + 1);
      return (attributes, lists) => {
        const truth = operand(attributes, lists);
        return truth === UNKNOWN ? UNKNOWN : truth === TRUE ? FALSE : TRUE;
      };
    }
    case 'and':
    case 'or': {
      const operands = expression.operands.map((operand) =>
        compileExpression(operand, collected, depth + 1),
      );
      return expression.kind === 'and' ? all(operands) : any(operands);
    }
    default:
      return compileCondition(expression, collected);
  }
}

function all(operands: readonly Evaluate[]): Evaluate {
  return (attributes, lists) => {
    let result: Truth = TRUE;
    for (let index = 0; index < operands.length; index += 1) {
      const truth = (operands[index] as Evaluate)(attributes, lists);
      if (truth === FALSE) return FALSE;
      if (truth === UNKNOWN) result = UNKNOWN;
    }
    return result;
  };
}

function any(operands: readonly Evaluate[]): Evaluate {
  return (attributes, lists) => {
    let result: Truth = FALSE;
    for (let index = 0; index < operands.length; index += 1) {
      const truth = (operands[index] as Evaluate)(attributes, lists);
      if (truth === TRUE) return TRUE;
      if (truth === UNKNOWN) result = UNKNOWN;
    }
    return result;
  };
}

function remember(collected: Collected, operand: Operand): void {
  if (operand.kind === 'literal') return;
  const name = referenceName(operand);
  if (!collected.attributes.includes(name)) collected.attributes.push(name);
}

function compileCondition(condition: Condition, collected: Collected): Evaluate {
  switch (condition.kind) {
    case 'compare':
      remember(collected, condition.left);
      remember(collected, condition.right);
      return compileComparison(
        condition.operator,
        condition.left,
        condition.right,
        condition.numeric,
      );
    case 'missing': {
      remember(collected, condition.operand);
      const read = reader(condition.operand, false);
      const whenMissing = condition.negated ? FALSE : TRUE;
      const whenPresent = condition.negated ? TRUE : FALSE;
      return (attributes) => (read(attributes) === undefined ? whenMissing : whenPresent);
    }
    case 'flag': {
      remember(collected, condition.operand);
      const read = reader(condition.operand, false);
      return (attributes) => {
        const value = read(attributes);
        return value === undefined ? UNKNOWN : value === true ? TRUE : FALSE;
      };
    }
    case 'in': {
      remember(collected, condition.operand);
      return compileIn(reader(condition.operand, false), condition.values, condition.negated);
    }
    case 'list': {
      remember(collected, condition.operand);
      if (!collected.lists.includes(condition.alias)) collected.lists.push(condition.alias);
      return compileList(reader(condition.operand, false), condition.alias, condition.negated);
    }
    case 'includes':
    case 'like':
      remember(collected, condition.operand);
      return compileText(condition.kind, reader(condition.operand, false), condition.value);
  }
}

/**
 * Reads an operand; a value of the wrong type (a string where the catalogue says number) or a
 * number that is not finite counts as missing, so a decision never throws on odd input.
 * `numeric`: a metadata value read as a number (a non-numeric one is missing).
 */
function reader(operand: Operand, numeric: boolean): Read {
  if (operand.kind === 'literal') {
    const value = operand.value;
    return () => value;
  }
  const name = referenceName(operand as Reference);
  if (operand.kind === 'metadata') {
    if (!numeric) return (attributes) => stringOrMissing(attributes[name]);
    return (attributes) => numberFromText(attributes[name]);
  }
  switch (operand.type) {
    case 'number':
      return (attributes) => {
        const value = attributes[name];
        return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
      };
    case 'string':
      return (attributes) => stringOrMissing(attributes[name]);
    case 'boolean':
      return (attributes) => {
        const value = attributes[name];
        return typeof value === 'boolean' ? value : undefined;
      };
  }
}

function stringOrMissing(value: AttributeValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

const decimal = /^-?[0-9]{1,15}(\.[0-9]{1,15})?$/;

/** A metadata value (always a string; anything else is the wrong type) read as a number. */
function numberFromText(value: AttributeValue | undefined): number | undefined {
  return typeof value === 'string' && decimal.test(value) ? Number(value) : undefined;
}

function compileComparison(
  operator: ComparisonOperator,
  left: Operand,
  right: Operand,
  numeric: boolean,
): Evaluate {
  const readLeft = reader(left, numeric);
  const compare = comparator(operator);
  if (right.kind === 'literal') {
    // The common case, `:attribute: op literal`: one read per decision.
    const constant = right.value;
    return (attributes) => {
      const value = readLeft(attributes);
      return value === undefined ? UNKNOWN : compare(value, constant) ? TRUE : FALSE;
    };
  }
  const readRight = reader(right, numeric);
  return (attributes) => {
    const leftValue = readLeft(attributes);
    if (leftValue === undefined) return UNKNOWN;
    const rightValue = readRight(attributes);
    if (rightValue === undefined) return UNKNOWN;
    return compare(leftValue, rightValue) ? TRUE : FALSE;
  };
}

type Compare = (left: AttributeValue, right: AttributeValue) => boolean;

function comparator(operator: ComparisonOperator): Compare {
  switch (operator) {
    case '=':
      return (left, right) => left === right;
    case '!=':
      return (left, right) => left !== right;
    // Ordering only ever sees numbers: the parser refuses it on anything else.
    case '<':
      return (left, right) => left < right;
    case '>':
      return (left, right) => left > right;
    case '<=':
      return (left, right) => left <= right;
    case '>=':
      return (left, right) => left >= right;
  }
}

function compileIn(read: Read, values: readonly AttributeValue[], negated: boolean): Evaluate {
  const set = new Set(values);
  const whenIn = negated ? FALSE : TRUE;
  const whenOut = negated ? TRUE : FALSE;
  return (attributes) => {
    const value = read(attributes);
    return value === undefined ? UNKNOWN : set.has(value) ? whenIn : whenOut;
  };
}

function compileList(read: Read, alias: string, negated: boolean): Evaluate {
  const whenOn = negated ? FALSE : TRUE;
  const whenOff = negated ? TRUE : FALSE;
  return (attributes, lists) => {
    const value = read(attributes);
    return value === undefined ? UNKNOWN : lists(alias, String(value)) ? whenOn : whenOff;
  };
}

function compileText(kind: 'includes' | 'like', read: Read, pattern: string): Evaluate {
  const test =
    kind === 'includes' ? (value: string) => value.includes(pattern) : likeMatcher(pattern);
  return (attributes) => {
    const value = read(attributes);
    return typeof value !== 'string' ? UNKNOWN : test(value) ? TRUE : FALSE;
  };
}

/**
 * SQL's LIKE with `%` (any run of characters, none included), as Radar has it, matched without
 * regular expressions (no backtracking): the fixed pieces between the `%`s are found left to
 * right, the first anchored at the start and the last at the end.
 */
export function likeMatcher(pattern: string): (value: string) => boolean {
  const pieces = pattern.split('%');
  if (pieces.length === 1) return (value) => value === pattern;
  const first = pieces[0] as string;
  const last = pieces[pieces.length - 1] as string;
  const middle = pieces.slice(1, -1).filter((piece) => piece !== '');
  return (value) => {
    if (value.length < first.length + last.length) return false;
    if (!value.startsWith(first) || !value.endsWith(last)) return false;
    let index = first.length;
    const end = value.length - last.length;
    for (const piece of middle) {
      const found = value.indexOf(piece, index);
      if (found < 0 || found + piece.length > end) return false;
      index = found + piece.length;
    }
    return true;
  };
}
