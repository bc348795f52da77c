import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { builtinBlockHighestId, decide } from './engine.ts';
import type { DecisionInput, RuleEntry } from './engine.ts';
import { compileRule } from './rules/index.ts';
import { defaultRiskThresholds, defaultRiskWeights } from './score.ts';
import type { Attributes, RuleMode } from './types.ts';

let ruleNumber = 0;
function rule(
  text: string,
  mode: RuleMode = 'enforced',
  id = `rule_${(ruleNumber += 1)}`,
): RuleEntry {
  return { id, version: 1, mode, compiled: compileRule(text) };
}

/** A quiet payment (score 0), by default. */
const payment: Attributes = {
  amount: 5000,
  amount_in_usd: 50,
  currency: 'usd',
  card_country: 'US',
  ip_country: 'US',
  email: 'a@example.com',
  total_charges_per_card_number_weekly: 2,
};

function input(rules: readonly RuleEntry[], overrides: Partial<DecisionInput> = {}): DecisionInput {
  return {
    rules,
    attributes: payment,
    lists: () => false,
    weights: defaultRiskWeights,
    thresholds: defaultRiskThresholds,
    authenticated: false,
    velocityUnavailable: false,
    ...overrides,
  };
}

/** Attributes that score 90 (highest) with the default weights. */
const highest: Attributes = {
  ...payment,
  ip_country: 'FR',
  declined_charges_per_card_number_daily: 4,
  cards_per_ip_address_daily: 5,
};

describe('decide', () => {
  test('no rules, a quiet payment: none, normal, score 0, nothing matched', () => {
    assert.deepEqual(decide(input([])), {
      action: 'none',
      riskScore: 0,
      riskLevel: 'normal',
      matched: [],
      signals: [],
    });
  });

  test('every action decides alone', () => {
    for (const action of ['request_3ds', 'allow', 'block', 'review'] as const) {
      const decision = decide(input([rule(`${action} if :amount_in_usd: > 10`, 'enforced', 'r')]));
      assert.equal(decision.action, action);
      assert.equal(decision.rule?.id, 'r');
      assert.deepEqual(decision.matched, [decision.rule]);
    }
  });

  test('the matched rule records id, version, action, mode, predicate and the values seen', () => {
    const entry: RuleEntry = {
      id: 'rule_x',
      version: 3,
      mode: 'enforced',
      compiled: compileRule(
        "Block if :card_country: = 'us' and is_missing(:ip_address:) and ::tier:: != 'gold'",
      ),
    };
    const decision = decide(
      input([entry], { attributes: { ...payment, 'metadata:tier': 'silver' } }),
    );
    assert.deepEqual(decision.rule, {
      id: 'rule_x',
      version: 3,
      action: 'block',
      mode: 'enforced',
      predicate: ":card_country: = 'us' and is_missing(:ip_address:) and ::tier:: != 'gold'",
      seen: { card_country: 'US', ip_address: null, 'metadata:tier': 'silver' },
    });
  });

  test('order: request_3ds before allow before block before review, whatever the list order', () => {
    const review = rule('review if :amount: > 1');
    const block = rule('block if :amount: > 1');
    const allow = rule('allow if :amount: > 1');
    const threeDs = rule('request_3ds if :amount: > 1');
    assert.equal(decide(input([review, block, allow, threeDs])).action, 'request_3ds');
    assert.equal(decide(input([review, block, allow])).action, 'allow');
    assert.equal(decide(input([review, block])).action, 'block');
    assert.equal(decide(input([review])).action, 'review');
  });

  test('first enforced match within a kind wins, in the merchant’s order', () => {
    const first = rule('block if :amount: > 1', 'enforced', 'first');
    const second = rule('block if :amount: > 2', 'enforced', 'second');
    const notMatching = rule('block if :amount: < 1', 'enforced', 'no');
    const decision = decide(input([notMatching, first, second]));
    assert.equal(decision.rule?.id, 'first');
    assert.deepEqual(
      decision.matched.map((matched) => matched.id),
      ['first'],
    );
  });

  test('an allow match skips block and review, the built-in block included', () => {
    const decision = decide(
      input(
        [
          rule('block if :amount: > 1'),
          rule('review if :amount: > 1'),
          rule("allow if :email: = 'a@example.com'", 'enforced', 'allow'),
        ],
        {
          attributes: { ...highest },
        },
      ),
    );
    assert.equal(decision.action, 'allow');
    assert.equal(decision.riskLevel, 'highest');
    assert.deepEqual(
      decision.matched.map((matched) => matched.id),
      ['allow'],
    );
  });

  test('a block match skips review', () => {
    const decision = decide(
      input([rule('review if :amount: > 1'), rule('block if :amount: > 1', 'enforced', 'b')]),
    );
    assert.equal(decision.action, 'block');
    assert.deepEqual(
      decision.matched.map((matched) => matched.id),
      ['b'],
    );
  });

  test('authenticated: request_3ds rules (enforced and shadow) are skipped, the others decide', () => {
    const rules = [
      rule('request_3ds if :amount: > 1', 'enforced', '3ds'),
      rule('request_3ds if :amount: > 1', 'shadow', '3ds-shadow'),
      rule('review if not :is_3d_secure_authenticated:', 'enforced', 'review'),
    ];
    const before = decide(input(rules));
    assert.equal(before.action, 'request_3ds');
    const after = decide(
      input(rules, {
        authenticated: true,
        attributes: { ...payment, is_3d_secure_authenticated: true },
      }),
    );
    assert.equal(after.action, 'none');
    assert.deepEqual(after.matched, []);
    const failed = decide(
      input(rules, {
        authenticated: true,
        attributes: { ...payment, is_3d_secure_authenticated: false },
      }),
    );
    assert.equal(failed.action, 'review');
  });

  test('shadow rules are evaluated and recorded, never enforced', () => {
    const decision = decide(
      input([
        rule('block if :amount: > 1', 'shadow', 'shadow-block'),
        rule('review if :amount: > 1', 'shadow', 'shadow-review'),
      ]),
    );
    assert.equal(decision.action, 'none');
    assert.equal(decision.rule, undefined);
    assert.deepEqual(
      decision.matched.map((matched) => [matched.id, matched.mode, matched.action]),
      [
        ['shadow-block', 'shadow', 'block'],
        ['shadow-review', 'shadow', 'review'],
      ],
    );
  });

  test('shadow rules are evaluated wherever the enforced ones stopped', () => {
    const decision = decide(
      input([
        rule('block if :amount: > 1', 'shadow', 'shadow-before'),
        rule('allow if :amount: > 1', 'enforced', 'allow'),
        rule('allow if :amount: > 1', 'shadow', 'shadow-allow-after'),
        rule('review if :amount: > 1', 'shadow', 'shadow-review'),
        rule('review if :amount: < 1', 'shadow', 'shadow-no'),
        rule('block if :amount: > 1', 'enforced', 'enforced-block'),
      ]),
    );
    assert.equal(decision.action, 'allow');
    assert.equal(decision.rule?.id, 'allow');
    assert.deepEqual(
      decision.matched.map((matched) => matched.id),
      ['allow', 'shadow-allow-after', 'shadow-before', 'shadow-review'],
    );
  });

  test('the built-in block fires on highest after the merchant’s block rules, before review', () => {
    const decision = decide(
      input([rule('review if :amount: > 1', 'enforced', 'review')], { attributes: highest }),
    );
    assert.equal(decision.action, 'block');
    assert.equal(decision.rule?.id, builtinBlockHighestId);
    assert.deepEqual(decision.rule?.seen, { risk_level: 'highest' });
    assert.equal(decision.rule?.predicate, ":risk_level: = 'highest'");
    assert.equal(decision.riskScore, 90);
    const merchantBlock = decide(
      input([rule('block if :amount: > 1', 'enforced', 'mine')], { attributes: highest }),
    );
    assert.equal(merchantBlock.rule?.id, 'mine');
    assert.deepEqual(
      merchantBlock.matched.map((matched) => matched.id),
      ['mine'],
    );
  });

  test('elevated is not blocked by the built-in rule', () => {
    const elevated = {
      ...payment,
      ip_country: 'FR',
      declined_charges_per_card_number_daily: 3,
      email: undefined,
    };
    const decision = decide(input([], { attributes: elevated }));
    assert.equal(decision.riskScore, 65);
    assert.equal(decision.riskLevel, 'elevated');
    assert.equal(decision.action, 'none');
  });

  test('velocity unavailable: level unknown, the built-in block does not fire, rules still run', () => {
    const decision = decide(
      input([rule("review if :risk_level: = 'unknown'", 'enforced', 'unknown')], {
        attributes: highest,
        velocityUnavailable: true,
      }),
    );
    assert.equal(decision.riskLevel, 'unknown');
    assert.equal(decision.riskScore, 90);
    assert.equal(decision.action, 'review');
    assert.equal(
      decide(input([], { attributes: highest, velocityUnavailable: true })).action,
      'none',
    );
  });

  test('rules read risk_score and risk_level decided here, not any given in the attributes', () => {
    const decision = decide(
      input(
        [rule("block if :risk_score: >= 60 or :risk_level: = 'elevated'", 'enforced', 'score')],
        {
          attributes: { ...payment, risk_score: 99, risk_level: 'elevated' },
        },
      ),
    );
    assert.equal(decision.action, 'none');
    const risky = { ...payment, ip_country: 'FR', declined_charges_per_card_number_daily: 3 };
    const scored = decide(
      input([rule('block if :risk_score: >= 60', 'enforced', 'score')], { attributes: risky }),
    );
    assert.equal(scored.action, 'block');
    assert.deepEqual(scored.rule?.seen, { risk_score: 60 });
    assert.deepEqual(
      scored.signals.map((signal) => signal.name),
      ['card_country_differs_from_ip_country', 'declines_per_card'],
    );
  });

  test('value lists are looked up', () => {
    const lists = (alias: string, value: string) => alias === 'vip' && value === 'a@example.com';
    const decision = decide(
      input([rule('allow if :email: in @vip', 'enforced', 'vip')], { lists }),
    );
    assert.equal(decision.rule?.id, 'vip');
  });

  test('a card number in a metadata value a rule saw is never recorded', () => {
    const decision = decide(
      input([rule("block if ::note:: includes 'card'", 'enforced', 'note')], {
        attributes: { ...payment, 'metadata:note': 'card 4242 4242 4242 4242' },
      }),
    );
    assert.equal(decision.action, 'block');
    assert.deepEqual(decision.rule?.seen, { 'metadata:note': '[redacted]' });
    assert.ok(!JSON.stringify(decision).includes('4242'));
  });

  test('does not change its input', () => {
    const attributes = { ...payment };
    const frozen = Object.freeze(attributes);
    decide(input([rule('block if :amount: > 1')], { attributes: frozen }));
    assert.equal('risk_score' in frozen, false);
  });
});

describe('decide is cheap', () => {
  test('30 rules and the score: far under 100 µs a decision (a loose bound, not a benchmark)', () => {
    const rules = Array.from({ length: 30 }, (_, index) =>
      rule(
        index % 3 === 0
          ? `block if :card_country: != :ip_country: and :amount_in_usd: > ${500 + index}`
          : index % 3 === 1
            ? `review if :email: in @blocked or :email_domain: like '%.example'`
            : `request_3ds if :amount_in_usd: > ${2000 + index} and not :is_3d_secure_authenticated:`,
        index % 7 === 0 ? 'shadow' : 'enforced',
      ),
    );
    const decision = input(rules);
    for (let warm = 0; warm < 2000; warm += 1) decide(decision);
    const count = 2000;
    const started = performance.now();
    for (let index = 0; index < count; index += 1) decide(decision);
    const microsecondsEach = ((performance.now() - started) * 1000) / count;
    assert.ok(microsecondsEach < 100, `${microsecondsEach} µs a decision`);
  });
});

describe('decide on random input', () => {
  const pool = [
    'block if :card_country: != :ip_country: and :amount_in_usd: > 500',
    'review if :email: in @blocked or is_missing(:email:)',
    'allow if :customer: in @vip',
    'request_3ds if :amount_in_usd: >= 100 and not :is_3d_secure_authenticated:',
    "block if :risk_level: in ('elevated', 'highest')",
    "review if ::note:: like '%gift%'",
    'block if :cards_per_ip_address_daily: > 2 or :risk_score: >= 50',
  ];
  const value = fc.oneof(
    fc.integer({ min: -10, max: 5000 }),
    fc.constantFrom('US', 'FR', 'a@example.com', 'cus_1', 'gift card', 'highest'),
    fc.boolean(),
    fc.constant(undefined),
  );
  const names = fc.constantFrom(
    'card_country',
    'ip_country',
    'amount_in_usd',
    'email',
    'customer',
    'is_3d_secure_authenticated',
    'cards_per_ip_address_daily',
    'declined_charges_per_card_number_daily',
    'metadata:note',
  );
  const entries = fc.array(
    fc.record({
      text: fc.constantFrom(...pool),
      mode: fc.constantFrom('enforced' as const, 'shadow' as const),
    }),
    { maxLength: 10 },
  );

  test('never throws; the deciding rule is the first enforced match and the level follows', () => {
    fc.assert(
      fc.property(
        entries,
        fc.dictionary(names, value),
        fc.boolean(),
        fc.boolean(),
        (chosen, attributes, authenticated, velocityUnavailable) => {
          const rules = chosen.map((entry, index) => rule(entry.text, entry.mode, `r${index}`));
          const decision = decide(
            input(rules, {
              attributes,
              authenticated,
              velocityUnavailable,
              lists: (alias, listed) => alias === 'vip' && listed === 'cus_1',
            }),
          );
          const enforced = decision.matched.filter((matched) => matched.mode === 'enforced');
          assert.ok(enforced.length <= 1);
          assert.equal(decision.rule, enforced[0]);
          assert.equal(decision.action, decision.rule?.action ?? 'none');
          if (velocityUnavailable) assert.equal(decision.riskLevel, 'unknown');
          if (authenticated) assert.ok(decision.matched.every((m) => m.action !== 'request_3ds'));
          assert.ok(decision.riskScore >= 0 && decision.riskScore <= 100);
        },
      ),
      { numRuns: 500 },
    );
  });
});
