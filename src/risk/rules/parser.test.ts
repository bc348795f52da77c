import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DomainError } from '../../errors.ts';
import {
  compileRule,
  conditionsMax,
  nestingMax,
  parseRule,
  printRule,
  ruleLengthMax,
  RuleSyntaxError,
} from './index.ts';

function failure(rule: string): RuleSyntaxError {
  try {
    compileRule(rule);
  } catch (error) {
    assert.ok(error instanceof RuleSyntaxError, `not a RuleSyntaxError: ${String(error)}`);
    return error;
  }
  assert.fail(`compiled: ${rule}`);
}

describe('compile errors name the position and what was expected', () => {
  // [rule, position, part of the message]
  const cases: [string, number, string][] = [
    ['', 0, 'expected an action'],
    ['deny if :amount: > 1', 0, 'expected an action'],
    ['block :amount: > 1', 6, "expected 'if'"],
    ['block if', 8, 'expected a condition'],
    ['block if :nope: = 1', 9, 'unknown attribute :nope:'],
    ['block if :amount = 1', 9, "expected an attribute name closed by ':'"],
    ["block if :amount: = 'x'", 20, 'cannot compare :amount: (a number) with a string value'],
    ['block if :email: = 5', 19, 'cannot compare :email: (a string) with a number value'],
    ['block if :livemode: = 1', 22, 'cannot compare'],
    ['block if :livemode: > true', 20, 'orders numbers only'],
    ["block if :email: > 'a'", 17, 'orders numbers only'],
    ['block if :email: <= :email_domain:', 17, 'orders numbers only'],
    ["block if ::a:: < 'x'", 15, 'orders numbers only'],
    ['block if 1 = 2', 9, 'needs an attribute'],
    ['block if :amount:', 17, 'expected an operator'],
    ['block if :amount: 5', 18, 'expected an operator'],
    ['block if (:amount: > 1', 22, "expected ')' to close the '(' at 9"],
    ['block if :amount: > 1)', 21, "unexpected ')'"],
    ['block if :amount: > 1 :email: = 1', 22, "expected 'and', 'or'"],
    ['block if :amount: > 1 and', 25, 'expected a condition'],
    ['block if :amount: > 1 and or :amount: < 1', 26, 'expected a condition'],
    ['block if :amount: > 1 & :amount: < 2', 22, 'unexpected character'],
    ["block if :email: = 'x", 19, "expected a closing '"],
    ['block if :email: = "x"', 19, 'single quotes'],
    ['block if :email: in', 19, "'(' and a list of values"],
    ["block if :email: in ('a' 'b')", 25, "expected ',' or ')'"],
    ['block if :email: in ()', 21, 'expected a value'],
    ["block if :amount: in (1, 'a')", 25, 'expected a number value'],
    ['block if :amount: in @list', 21, 'value lists hold strings'],
    ['block if :email: in @', 20, 'expected a value list alias'],
    ["block if :amount: includes '1'", 18, 'includes matches strings'],
    ["block if :email: includes ''", 26, 'non-empty'],
    ['block if :email: like 5', 22, 'expected a string after like'],
    ["block if 'x' in ('x')", 9, 'the left side of in'],
    ['block if is_missing(5)', 20, 'expected an attribute'],
    ['block if is_missing(:email:', 27, "')' closing is_missing"],
    ['block if is_missing :email:', 20, "'(' after is_missing"],
    ['block if ::key', 9, "closed by '::'"],
    ['block if :amount: > 12abc', 20, 'expected a number'],
    ["block if :card_bin: = '4242424242424242'", 22, 'card number'],
    ["block if :card_bin: = '4242 4242 4242 4242'", 22, 'card number'],
    ["block if ::ref:: in ('x', '4000-0025-0000-3155')", 26, 'card number'],
    ['block if :amount: = 4242424242424242', 20, 'card number'],
    ["block if ::4242424242424242:: = 'x'", 9, 'card number'],
    ['block if :email: in @4242424242424242', 20, 'card number'],
    ['block if :amount: = 1234567890123456', 20, 'at most 15 digits'],
    ["block if :risk_level: = 'high'", 24, 'risk_level is normal, elevated, highest or unknown'],
    ["block if 'USA' = :card_country:", 9, 'a two-letter country code'],
    ["block if :ip_country: not in ('FR', 'France')", 36, 'a two-letter country code'],
    ["block if :currency: = 'us'", 22, 'a three-letter currency code'],
  ];
  for (const [rule, position, message] of cases) {
    test(`${JSON.stringify(rule)} → ${position}: ${message}`, () => {
      const error = failure(rule);
      assert.equal(error.position, position, error.message);
      assert.ok(error.message.includes(message), error.message);
      assert.ok(error.message.startsWith(`Invalid rule at position ${position}: `), error.message);
    });
  }

  test('is a DomainError: 400 parameter_invalid naming rule', () => {
    const error = failure('block if :nope: = 1');
    assert.ok(error instanceof DomainError);
    assert.equal(error.code, 'parameter_invalid');
    assert.equal(error.category, 'invalid');
    assert.equal(error.param, 'rule');
    assert.equal(error.name, 'RuleSyntaxError');
  });

  test('messages never repeat literals, nor attribute names that could hold a card number', () => {
    assert.ok(!failure("block if :email: > 'secret-value'").message.includes('secret-value'));
    assert.ok(!failure('block if :x4242424242424242: = 1').message.includes('424242'));
    assert.ok(!failure("block if :card_bin: = '4242424242424242'").message.includes('4242'));
  });

  test('a digit run that is not a card number (fails Luhn) is accepted in a string', () => {
    assert.doesNotThrow(() => compileRule("block if ::order:: = '4242424242424241'"));
  });
});

describe('bounds', () => {
  test(`text at most ${ruleLengthMax} characters`, () => {
    const padding = ' '.repeat(ruleLengthMax - 'block if :amount: > 1'.length);
    assert.doesNotThrow(() => compileRule(`block if :amount: > 1${padding}`));
    const error = failure(`block if :amount: > 1${padding} `);
    assert.equal(error.position, ruleLengthMax);
  });

  test(`parentheses nest at most ${nestingMax} deep`, () => {
    const nested = (depth: number) =>
      `block if ${'('.repeat(depth)}:amount: > 1${')'.repeat(depth)}`;
    assert.doesNotThrow(() => compileRule(nested(nestingMax)));
    const error = failure(nested(nestingMax + 1));
    assert.equal(error.position, 'block if '.length + nestingMax);
    assert.ok(error.message.includes('nest'));
  });

  test(`at most ${conditionsMax} conditions`, () => {
    const conditions = (count: number) =>
      `block if ${Array.from({ length: count }, () => ':amount:>1').join(' or ')}`;
    assert.doesNotThrow(() => compileRule(conditions(conditionsMax)));
    const error = failure(conditions(conditionsMax + 1));
    assert.equal(error.position, 'block if '.length + conditionsMax * ':amount:>1 or '.length);
  });

  test('a long chain of not collapses instead of nesting', () => {
    const rule = `block if ${'not '.repeat(200)}:amount: > 1`;
    assert.equal(parseRule(rule).expression.kind, 'compare');
    assert.equal(
      compileRule(rule).matches({ amount: 2 }, () => false),
      true,
    );
  });

  test('and/or chains are flat', () => {
    const parsed = parseRule(
      'block if :amount: > 1 and :amount: > 2 and (:amount: > 3 and :amount: > 4)',
    );
    assert.equal(parsed.expression.kind, 'and');
    assert.equal(parsed.expression.kind === 'and' ? parsed.expression.operands.length : 0, 4);
    assert.equal(parsed.conditions, 4);
  });
});

describe('printRule', () => {
  const cases: [string, string][] = [
    ["Block IF :card_country: != 'us'", "block if :card_country: != 'US'"],
    [
      'review if (:amount: > 1 or :amount: < -0.5) AND NOT (:livemode: or :is_3d_secure_authenticated:)',
      'review if (:amount: > 1 or :amount: < -0.5) and not (:livemode: or :is_3d_secure_authenticated:)',
    ],
    [
      'allow if ((:amount:>1) and (:amount:<2)) or not not :livemode:',
      'allow if :amount: > 1 and :amount: < 2 or :livemode:',
    ],
    [
      "block if ::order type:: in ('a\\'b', 'c\\\\d')",
      "block if ::order type:: in ('a\\'b', 'c\\\\d')",
    ],
    [
      'block if :email: NOT IN @blocked and is_not_missing(:ip_address:)',
      'block if :email: not in @blocked and is_not_missing(:ip_address:)',
    ],
    [
      "request_3ds if :email: like 'A%' or :ip_address: includes '10.'",
      "request_3ds if :email: like 'a%' or :ip_address: includes '10.'",
    ],
    ['block if :amount: >= 0.0000001', 'block if :amount: >= 0.0000001'],
  ];
  for (const [written, printed] of cases) {
    test(`${written} → ${printed}`, () => {
      assert.equal(printRule(parseRule(written)), printed);
      assert.equal(printRule(parseRule(printed)), printed);
    });
  }
});
