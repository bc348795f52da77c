import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Attributes, ListLookup } from '../types.ts';
import { compileRule, likeMatcher } from './index.ts';

const noLists: ListLookup = () => false;

function matches(rule: string, attributes: Attributes, lists: ListLookup = noLists): boolean {
  return compileRule(rule).matches(attributes, lists);
}

describe('compileRule: the rule and what it reads', () => {
  test('action, predicate as written, attributes and lists in order of appearance', () => {
    const rule = compileRule(
      "Block IF :card_country: != :ip_country:  AND :email: in @blocked_emails and ::order type:: = 'x' ",
    );
    assert.equal(rule.action, 'block');
    assert.equal(
      rule.predicate,
      ":card_country: != :ip_country:  AND :email: in @blocked_emails and ::order type:: = 'x'",
    );
    assert.deepEqual(rule.attributes, [
      'card_country',
      'ip_country',
      'email',
      'metadata:order type',
    ]);
    assert.deepEqual(rule.lists, ['blocked_emails']);
  });

  test('every action', () => {
    for (const action of ['request_3ds', 'allow', 'block', 'review'] as const) {
      assert.equal(compileRule(`${action} if :amount: > 1`).action, action);
      assert.equal(compileRule(`${action.toUpperCase()} If :amount: > 1`).action, action);
    }
  });

  test('an attribute named twice is listed once', () => {
    assert.deepEqual(compileRule('block if :amount: > 1 and :amount: < 9').attributes, ['amount']);
  });
});

describe('comparisons', () => {
  const payment = { amount: 500, amount_in_usd: 5, card_country: 'US', ip_country: 'FR' };
  const cases: [string, boolean][] = [
    [':amount: = 500', true],
    [':amount: != 500', false],
    [':amount: < 501', true],
    [':amount: < 500', false],
    [':amount: <= 500', true],
    [':amount: > 499', true],
    [':amount: > 500', false],
    [':amount: >= 500', true],
    [':amount: >= 500.5', false],
    ['499 < :amount:', true],
    [':amount_in_usd: > -1', true],
    [":card_country: = 'US'", true],
    [":card_country: = 'us'", true],
    [":card_country: != 'us'", false],
    [':card_country: != :ip_country:', true],
    [':card_country: = :ip_country:', false],
    [':amount: > :amount_in_usd:', true],
  ];
  for (const [predicate, expected] of cases) {
    test(`${predicate} → ${expected}`, () => {
      assert.equal(matches(`block if ${predicate}`, payment), expected);
    });
  }

  test('booleans: alone, = true, = false, != ', () => {
    assert.equal(
      matches('allow if :is_3d_secure_authenticated:', { is_3d_secure_authenticated: true }),
      true,
    );
    assert.equal(
      matches('allow if :is_3d_secure_authenticated:', { is_3d_secure_authenticated: false }),
      false,
    );
    assert.equal(matches('allow if :livemode: = false', { livemode: false }), true);
    assert.equal(matches('allow if :livemode: != true', { livemode: true }), false);
    assert.equal(matches('allow if not :livemode:', { livemode: false }), true);
    assert.equal(
      matches('allow if :livemode: = :has_liability_shift:', {
        livemode: true,
        has_liability_shift: true,
      }),
      true,
    );
  });

  test('string equality is exact for attributes without a normal case', () => {
    assert.equal(matches("block if :customer: = 'cus_AB'", { customer: 'cus_AB' }), true);
    assert.equal(matches("block if :customer: = 'cus_ab'", { customer: 'cus_AB' }), false);
  });

  test('a literal is normalized to the attribute’s case (countries upper, emails lower)', () => {
    assert.equal(matches("block if :email: = 'A@B.COM'", { email: 'a@b.com' }), true);
    assert.equal(matches("block if :ip_country: in ('fr', 'de')", { ip_country: 'DE' }), true);
    assert.equal(matches("block if :risk_level: = 'HIGHEST'", { risk_level: 'highest' }), true);
  });
});

describe('in, not in, value lists, includes, like', () => {
  test('in and not in literal lists, strings and numbers', () => {
    assert.equal(matches("block if :card_country: in ('GB', 'IE')", { card_country: 'IE' }), true);
    assert.equal(matches("block if :card_country: in ('GB', 'IE')", { card_country: 'US' }), false);
    assert.equal(
      matches("block if :card_country: not in ('GB', 'IE')", { card_country: 'US' }),
      true,
    );
    assert.equal(matches("block if :card_country: NOT IN ('GB')", { card_country: 'GB' }), false);
    assert.equal(matches('block if :amount: in (100, 200)', { amount: 200 }), true);
    assert.equal(matches('block if :amount: in (100, 200)', { amount: 300 }), false);
  });

  test('value lists: the lookup gets the alias and the value', () => {
    const seen: [string, string][] = [];
    const lists: ListLookup = (alias, value) => {
      seen.push([alias, value]);
      return alias === 'blocked_emails' && value === 'bad@example.com';
    };
    assert.equal(
      matches('block if :email: in @blocked_emails', { email: 'bad@example.com' }, lists),
      true,
    );
    assert.equal(
      matches('block if :email: in @blocked_emails', { email: 'ok@example.com' }, lists),
      false,
    );
    assert.equal(
      matches('block if :email: not in @blocked_emails', { email: 'ok@example.com' }, lists),
      true,
    );
    assert.equal(matches('block if ::ref:: in @refs', { 'metadata:ref': 'r1' }, lists), false);
    assert.deepEqual(seen[0], ['blocked_emails', 'bad@example.com']);
    assert.deepEqual(seen.at(-1), ['refs', 'r1']);
  });

  test('includes', () => {
    assert.equal(
      matches("block if :ip_address: includes '192.168'", { ip_address: '192.168.0.1' }),
      true,
    );
    assert.equal(
      matches("block if :ip_address: INCLUDES '10.'", { ip_address: '192.168.0.1' }),
      false,
    );
  });

  test('like with % wildcards', () => {
    const rule = "block if :email: like 'fraud%@example.com'";
    assert.equal(matches(rule, { email: 'fraud@example.com' }), true);
    assert.equal(matches(rule, { email: 'fraudster@example.com' }), true);
    assert.equal(matches(rule, { email: 'fraud@example.org' }), false);
    assert.equal(matches(rule, { email: 'xfraud@example.com' }), false);
    assert.equal(matches("block if :email_domain: LIKE '%.ru'", { email_domain: 'mail.ru' }), true);
    assert.equal(
      matches("block if :email_domain: like 'mail.ru'", { email_domain: 'mail.ru' }),
      true,
    );
  });

  test('likeMatcher: pieces in order, none overlapping the anchored ends', () => {
    assert.equal(likeMatcher('a%b%c')('abc'), true);
    assert.equal(likeMatcher('a%b%c')('aXbYc'), true);
    assert.equal(likeMatcher('a%b%c')('acb'), false);
    assert.equal(likeMatcher('ab%ba')('aba'), false);
    assert.equal(likeMatcher('%')(''), true);
    assert.equal(likeMatcher('%%x%%')('abxcd'), true);
    assert.equal(likeMatcher('a%a')('a'), false);
  });
});

describe('missing attributes (three-valued, as Radar since May 2024)', () => {
  const cases: [string, boolean][] = [
    [":email_domain: = 'a.com'", false],
    [":email_domain: != 'a.com'", false],
    ["not (:email_domain: = 'a.com')", false],
    ["not :email_domain: != 'a.com'", false],
    [":email_domain: in ('a.com')", false],
    [":email_domain: not in ('a.com')", false],
    [':email_domain: not in @allowed', false],
    [":email_domain: like '%'", false],
    [":email_domain: includes 'a'", false],
    [':is_3d_secure_authenticated:', false],
    ['not :is_3d_secure_authenticated:', false],
    [':card_country: != :ip_country:', false],
    [':amount: > 0', true],
    [":amount: > 0 and :email_domain: != 'a.com'", false],
    [":amount: > 0 or :email_domain: != 'a.com'", true],
    [":amount: < 0 and :email_domain: != 'a.com'", false],
    ["not (:amount: < 0 and :email_domain: != 'a.com')", true],
    ["not (:amount: > 0 and :email_domain: != 'a.com')", false],
    ['is_missing(:email_domain:)', true],
    ['is_not_missing(:email_domain:)', false],
    ['not is_missing(:email_domain:)', false],
    ['is_missing(:amount:)', false],
    ['is_not_missing(:amount:)', true],
    ['is_missing(::anything::)', true],
    ["is_missing(:email_domain:) or not (:email_domain: = 'a.com')", true],
  ];
  for (const [predicate, expected] of cases) {
    test(`${predicate} → ${expected} (email_domain, ip_country missing)`, () => {
      assert.equal(
        matches(`block if ${predicate}`, { amount: 10, card_country: 'US' }, () => true),
        expected,
      );
    });
  }

  test('a value of the wrong type, or not finite, counts as missing', () => {
    assert.equal(matches('block if :amount: > 0', { amount: '5' }), false);
    assert.equal(matches('block if is_missing(:amount:)', { amount: '5' }), true);
    assert.equal(matches('block if is_missing(:amount:)', { amount: Number.NaN }), true);
    assert.equal(matches("block if :email: = 'x'", { email: 5 }), false);
    assert.equal(matches('block if :livemode:', { livemode: 'true' }), false);
  });
});

describe('metadata', () => {
  test('compared as strings, or as numbers against a number', () => {
    assert.equal(matches("block if ::tier:: = 'Gold'", { 'metadata:tier': 'Gold' }), true);
    assert.equal(matches("block if ::tier:: = 'gold'", { 'metadata:tier': 'Gold' }), false);
    assert.equal(matches('block if ::age:: < 18', { 'metadata:age': '17' }), true);
    assert.equal(matches('block if ::age:: < 18', { 'metadata:age': '18.5' }), false);
    assert.equal(matches('block if ::age:: >= 18', { 'metadata:age': 'adult' }), false);
    assert.equal(matches('block if ::age:: < :amount:', { 'metadata:age': '3', amount: 4 }), true);
    assert.equal(matches('block if ::a:: = ::b::', { 'metadata:a': 'x', 'metadata:b': 'x' }), true);
    assert.equal(matches("block if ::a:: like 'x%'", { 'metadata:a': 'xy' }), true);
  });
});

describe('and, or, not, parentheses', () => {
  const attributes = { amount: 10, card_country: 'US', ip_country: 'FR' };
  const cases: [string, boolean][] = [
    [":amount: > 5 and :card_country: = 'US'", true],
    [":amount: > 50 and :card_country: = 'US'", false],
    [":amount: > 50 or :card_country: = 'US'", true],
    [":amount: > 50 or :card_country: = 'GB'", false],
    // and binds tighter than or
    [":amount: > 50 and :card_country: = 'GB' or :ip_country: = 'FR'", true],
    [":amount: > 50 and (:card_country: = 'GB' or :ip_country: = 'FR')", false],
    // not binds tighter than and
    [":amount: > 50 and not :card_country: = 'GB'", false],
    ["not :amount: > 50 and :card_country: = 'US'", true],
    ["not (:amount: > 5 and :card_country: = 'US')", false],
    ['not not :amount: > 5', true],
    ['not not not :amount: > 5', false],
    ['((((:amount: > 5))))', true],
    [':amount: > 50 or :amount: > 40 or :amount: > 30 or :amount: > 5', true],
  ];
  for (const [predicate, expected] of cases) {
    test(`${predicate} → ${expected}`, () => {
      assert.equal(matches(`review if ${predicate}`, attributes), expected);
    });
  }
});

describe('keywords in any case', () => {
  test('actions, if, and/or/not, in, includes, like, is_missing, booleans', () => {
    const rule = compileRule(
      "REVIEW If Not IS_MISSING(:email:) AnD :email: LiKe '%@x.com' Or :livemode: = TRUE OR :ip_address: Not In ('1.1.1.1')",
    );
    assert.equal(rule.action, 'review');
    assert.equal(rule.matches({ email: 'a@x.com' }, noLists), true);
    assert.equal(rule.matches({ livemode: true }, noLists), true);
    assert.equal(rule.matches({ ip_address: '2.2.2.2' }, noLists), true);
    assert.equal(rule.matches({ ip_address: '1.1.1.1', livemode: false }, noLists), false);
  });
});
