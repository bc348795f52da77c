// The rule language's parser: `<action> if <predicate>`, the predicate built from conditions with
// `not`, `and`, `or` and parentheses (not binds tightest, then and, then or). An operator-
// precedence (shunting-yard) loop over the tokens with explicit stacks: no recursion, whatever the
// input, and bounds on length, nesting and the number of conditions.
import { ruleActionOrder } from '../types.ts';
import { Cursor, readCondition } from './conditions.ts';
import { RuleSyntaxError } from './errors.ts';
import { tokenize } from './lexer.ts';
import type { Expression, ParsedRule } from './syntax.ts';

/** Bounds on a rule, whatever it says. */
export const ruleLengthMax = 1000;
/** Parentheses nested at most this deep. */
export const nestingMax = 16;
/** At most this many conditions (comparisons, in, is_missing …) in one rule. */
export const conditionsMax = 64;

/** Parses a rule's text; throws RuleSyntaxError naming the position. */
export function parseRule(text: string): ParsedRule {
  if (text.length > ruleLengthMax) {
    throw new RuleSyntaxError(`a rule is at most ${ruleLengthMax} characters`, ruleLengthMax);
  }
  const cursor = new Cursor(tokenize(text));
  const actionToken = cursor.next();
  const action = ruleActionOrder.find(
    (candidate) => actionToken.kind === 'word' && actionToken.word === candidate,
  );
  if (action === undefined) {
    throw new RuleSyntaxError(
      'expected an action: request_3ds, allow, block or review',
      actionToken.start,
    );
  }
  const ifToken = cursor.next();
  if (ifToken.kind !== 'word' || ifToken.word !== 'if') {
    throw new RuleSyntaxError(`expected 'if' after ${action}`, ifToken.start);
  }
  const predicate = text.slice(ifToken.start + 2).trim();
  const { expression, conditions } = parseExpression(cursor);
  return { action, predicate, expression, conditions };
}

type Pending =
  | { readonly kind: 'not' | 'and' | 'or'; readonly start: number }
  | { readonly kind: '('; readonly start: number };

const precedence: Readonly<Record<Pending['kind'], number>> = { '(': 0, or: 1, and: 2, not: 3 };

function parseExpression(cursor: Cursor): { expression: Expression; conditions: number } {
  const operands: Expression[] = [];
  const pending: Pending[] = [];
  let depth = 0;
  let conditions = 0;
  let expectOperand = true;
  for (;;) {
    const token = cursor.peek();
    if (expectOperand) {
      if (token.kind === 'word' && token.word === 'not') {
        pending.push({ kind: 'not', start: token.start });
        cursor.next();
      } else if (token.kind === '(') {
        depth += 1;
        if (depth > nestingMax) {
          throw new RuleSyntaxError(`parentheses nest at most ${nestingMax} deep`, token.start);
        }
        pending.push({ kind: '(', start: token.start });
        cursor.next();
      } else {
        const condition = readCondition(cursor);
        conditions += 1;
        if (conditions > conditionsMax) {
          throw new RuleSyntaxError(
            `a rule has at most ${conditionsMax} conditions`,
            condition.start,
          );
        }
        operands.push(condition);
        expectOperand = false;
      }
      continue;
    }
    if (token.kind === 'word' && (token.word === 'and' || token.word === 'or')) {
      const kind = token.word;
      while (pending.length > 0 && precedence[top(pending).kind] >= precedence[kind]) {
        reduce(operands, pending);
      }
      pending.push({ kind, start: token.start });
      cursor.next();
      expectOperand = true;
    } else if (token.kind === ')') {
      while (pending.length > 0 && top(pending).kind !== '(') reduce(operands, pending);
      if (pending.pop() === undefined) throw new RuleSyntaxError("unexpected ')'", token.start);
      depth -= 1;
      cursor.next();
    } else if (token.kind === 'end') {
      while (pending.length > 0) {
        if (top(pending).kind === '(') {
          throw new RuleSyntaxError(
            `expected ')' to close the '(' at ${top(pending).start}`,
            token.start,
          );
        }
        reduce(operands, pending);
      }
      const expression = operands.pop();
      if (expression === undefined || operands.length > 0) throw new Error('unbalanced rule parse');
      return { expression, conditions };
    } else {
      throw new RuleSyntaxError("expected 'and', 'or', ')' or the end of the rule", token.start);
    }
  }
}

function top(pending: readonly Pending[]): Pending {
  const last = pending[pending.length - 1];
  if (last === undefined) throw new Error('no pending operator');
  return last;
}

/** Applies the topmost pending operator to the operands it takes. */
function reduce(operands: Expression[], pending: Pending[]): void {
  const operator = pending.pop();
  if (operator === undefined || operator.kind === '(') throw new Error('nothing to reduce');
  const right = operands.pop();
  if (right === undefined) throw new Error('an operator without operands');
  if (operator.kind === 'not') {
    // not not x is x, also under three-valued logic: keeps the tree's depth bounded by nesting.
    operands.push(
      right.kind === 'not' ? right.operand : { kind: 'not', operand: right, start: operator.start },
    );
    return;
  }
  const left = operands.pop();
  if (left === undefined) throw new Error('a binary operator without a left operand');
  // and/or chains become one node with many operands (both are associative).
  const parts = [
    ...(left.kind === operator.kind ? left.operands : [left]),
    ...(right.kind === operator.kind ? right.operands : [right]),
  ];
  operands.push({ kind: operator.kind, operands: parts, start: left.start });
}
