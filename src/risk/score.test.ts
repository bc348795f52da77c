import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DomainError } from '../errors.ts';
import {
  RiskSettingsError,
  checkRiskThresholds,
  checkRiskWeights,
  defaultRiskThresholds,
  defaultRiskWeights,
  riskLevelOf,
  riskSignals,
  scoreOf,
} from './score.ts';
import type { RiskWeights } from './score.ts';

/** A payment that shows no signal: every datum known, countries agree, a card seen before. */
const quiet = {
  amount_in_usd: 20,
  card_country: 'US',
  ip_country: 'US',
  email: 'a@example.com',
  declined_charges_per_card_number_daily: 0,
  total_charges_per_card_number_hourly: 1,
  total_charges_per_card_number_weekly: 2,
  cards_per_ip_address_daily: 1,
  cards_per_email_daily: 1,
  declined_charges_per_email_daily: 0,
};

function signalNames(attributes: Record<string, string | number | boolean | undefined>): string[] {
  return scoreOf(attributes, defaultRiskWeights).signals.map((signal) => signal.name);
}

describe('scoreOf', () => {
  test('a quiet payment scores 0 with no signal', () => {
    assert.deepEqual(scoreOf(quiet, defaultRiskWeights), { score: 0, signals: [] });
  });

  test('each signal, alone, at its threshold and below', () => {
    const cases: [
      string,
      Record<string, string | number | undefined>,
      Record<string, string | number | undefined>,
    ][] = [
      ['card_country_differs_from_ip_country', { ip_country: 'FR' }, { ip_country: 'US' }],
      ['ip_country_missing', { ip_country: undefined, card_country: undefined }, {}],
      ['email_missing', { email: undefined }, { email: 'b@example.com' }],
      ['high_amount', { amount_in_usd: 1000 }, { amount_in_usd: 999.99 }],
      [
        'declines_per_card',
        { declined_charges_per_card_number_daily: 3 },
        { declined_charges_per_card_number_daily: 2 },
      ],
      [
        'charges_per_card_hourly',
        { total_charges_per_card_number_hourly: 5 },
        { total_charges_per_card_number_hourly: 4 },
      ],
      [
        'cards_per_ip_address',
        { cards_per_ip_address_daily: 3 },
        { cards_per_ip_address_daily: 2 },
      ],
      ['cards_per_email', { cards_per_email_daily: 3 }, { cards_per_email_daily: 2 }],
      [
        'declines_per_email',
        { declined_charges_per_email_daily: 3 },
        { declined_charges_per_email_daily: 2 },
      ],
      [
        'first_seen_card',
        { total_charges_per_card_number_weekly: 0 },
        { total_charges_per_card_number_weekly: 1 },
      ],
    ];
    assert.equal(cases.length, riskSignals.length);
    for (const [name, present, absent] of cases) {
      assert.deepEqual(signalNames({ ...quiet, ...present }), [name], name);
      assert.deepEqual(signalNames({ ...quiet, ...absent }), [], name);
    }
  });

  test('velocity missing (unavailable) raises no velocity signal, not even first_seen_card', () => {
    const withoutVelocity = {
      amount_in_usd: 20,
      card_country: 'US',
      ip_country: 'US',
      email: 'a@example.com',
    };
    assert.deepEqual(signalNames(withoutVelocity), []);
  });

  test('the score is the sum of the weights, capped at 100', () => {
    const risky = {
      ...quiet,
      ip_country: 'FR',
      declined_charges_per_card_number_daily: 3,
    };
    assert.equal(scoreOf(risky, defaultRiskWeights).score, 60);
    assert.equal(riskLevelOf(60, defaultRiskThresholds), 'normal');
    const riskier = { ...risky, cards_per_ip_address_daily: 4 };
    assert.equal(scoreOf(riskier, defaultRiskWeights).score, 90);
    assert.equal(riskLevelOf(90, defaultRiskThresholds), 'highest');
    const everything = {
      ...riskier,
      email: undefined,
      amount_in_usd: 5000,
      total_charges_per_card_number_hourly: 9,
      cards_per_email_daily: 9,
    };
    assert.equal(scoreOf(everything, defaultRiskWeights).score, 100);
  });

  test('weights are the merchant’s: 0 turns a signal off', () => {
    const weights: RiskWeights = {
      ...defaultRiskWeights,
      card_country_differs_from_ip_country: 0,
      high_amount: 70,
    };
    const result = scoreOf({ ...quiet, ip_country: 'FR', amount_in_usd: 2000 }, weights);
    assert.deepEqual(result, { score: 70, signals: [{ name: 'high_amount', weight: 70 }] });
  });

  test('random attributes never throw, the score stays within 0–100', () => {
    const value = fc.oneof(
      fc.integer(),
      fc.double(),
      fc.string(),
      fc.boolean(),
      fc.constant(undefined),
    );
    const names = fc.constantFrom(
      'card_country',
      'ip_country',
      'email',
      'amount_in_usd',
      'declined_charges_per_card_number_daily',
      'cards_per_ip_address_daily',
      'total_charges_per_card_number_weekly',
      'anything',
    );
    fc.assert(
      fc.property(fc.dictionary(names, value), (attributes) => {
        const { score, signals } = scoreOf(attributes, defaultRiskWeights);
        assert.ok(score >= 0 && score <= 100 && Number.isInteger(score));
        assert.ok(signals.every((signal) => signal.weight > 0));
      }),
      { numRuns: 300 },
    );
  });
});

describe('riskLevelOf', () => {
  test('Stripe’s defaults: elevated from 65, highest from 75', () => {
    assert.equal(riskLevelOf(0, defaultRiskThresholds), 'normal');
    assert.equal(riskLevelOf(64, defaultRiskThresholds), 'normal');
    assert.equal(riskLevelOf(65, defaultRiskThresholds), 'elevated');
    assert.equal(riskLevelOf(74, defaultRiskThresholds), 'elevated');
    assert.equal(riskLevelOf(75, defaultRiskThresholds), 'highest');
    assert.equal(riskLevelOf(100, defaultRiskThresholds), 'highest');
  });

  test('tunable thresholds', () => {
    assert.equal(riskLevelOf(30, { elevated: 20, highest: 40 }), 'elevated');
    assert.equal(riskLevelOf(30, { elevated: 30, highest: 30 }), 'highest');
  });
});

function settingsError(run: () => unknown): RiskSettingsError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof RiskSettingsError);
    assert.ok(error instanceof DomainError);
    return error;
  }
  assert.fail('accepted');
}

describe('checkRiskWeights', () => {
  test('fills left-out signals with their default', () => {
    assert.deepEqual(checkRiskWeights({}), defaultRiskWeights);
    assert.deepEqual(checkRiskWeights({ high_amount: 0, email_missing: 100 }), {
      ...defaultRiskWeights,
      high_amount: 0,
      email_missing: 100,
    });
  });

  test('refuses, naming the field', () => {
    const cases: [unknown, string, string][] = [
      [null, 'weights', 'parameter_invalid'],
      [[], 'weights', 'parameter_invalid'],
      ['x', 'weights', 'parameter_invalid'],
      [{ high_amount: -1 }, 'weights[high_amount]', 'parameter_invalid'],
      [{ high_amount: 101 }, 'weights[high_amount]', 'parameter_invalid'],
      [{ high_amount: 1.5 }, 'weights[high_amount]', 'parameter_invalid'],
      [{ high_amount: '10' }, 'weights[high_amount]', 'parameter_invalid'],
      [{ high_amount: Number.NaN }, 'weights[high_amount]', 'parameter_invalid'],
      [{ hig_amount: 10 }, 'weights[hig_amount]', 'parameter_unknown'],
      [{ __proto__: null, constructor: 1 }, 'weights[constructor]', 'parameter_unknown'],
    ];
    for (const [value, param, code] of cases) {
      const error = settingsError(() => checkRiskWeights(value));
      assert.equal(error.param, param, JSON.stringify(value));
      assert.equal(error.code, code);
      assert.equal(error.category, 'invalid');
    }
  });

  test('the param prefix is the caller’s', () => {
    assert.equal(
      settingsError(() => checkRiskWeights({ x: 1 }, 'settings[weights]')).param,
      'settings[weights][x]',
    );
  });
});

describe('checkRiskThresholds', () => {
  test('defaults, partial and full', () => {
    assert.deepEqual(checkRiskThresholds({}), defaultRiskThresholds);
    assert.deepEqual(checkRiskThresholds({ highest: 90 }), { elevated: 65, highest: 90 });
    assert.deepEqual(checkRiskThresholds({ elevated: 10, highest: 10 }), {
      elevated: 10,
      highest: 10,
    });
  });

  test('refuses, naming the field', () => {
    assert.equal(
      settingsError(() => checkRiskThresholds({ elevated: 80 })).param,
      'thresholds[elevated]',
    );
    assert.equal(
      settingsError(() => checkRiskThresholds({ highest: 200 })).param,
      'thresholds[highest]',
    );
    assert.equal(
      settingsError(() => checkRiskThresholds({ normal: 1 })).param,
      'thresholds[normal]',
    );
    assert.equal(settingsError(() => checkRiskThresholds(5)).param, 'thresholds');
  });
});
