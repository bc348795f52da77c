import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CapabilityMap, CaptureMode } from '../connectors/types.ts';
import { parseRoutingConfig } from './config.ts';
import {
  explainRoute,
  route,
  type ConnectorSetting,
  type RouteContext,
  type RouteInput,
} from './engine.ts';
import { seededRandom } from '../random.ts';
import { SuccessRateTracker } from './success-rate.ts';

const capability = (
  currencies: string[],
  captureModes: CaptureMode[] = ['automatic', 'manual'],
): CapabilityMap => ({
  paymentMethods: ['card'],
  currencies,
  captureModes,
  partialCapture: true,
  refunds: { full: true, partial: true, multiple: true },
  void: true,
  threeDSecure: false,
  webhooks: true,
  cardVerification: 'none',
});
const capabilities: Record<string, CapabilityMap> = {
  alpha: capability(['usd', 'eur', 'jpy']),
  beta: capability(['usd', 'eur', 'inr']),
  gamma: capability(['usd', 'inr'], ['automatic']),
  delta: capability(['usd', 'eur']),
};
const settings: ConnectorSetting[] = [
  { connector: 'gamma', enabled: true, priority: 30 },
  { connector: 'alpha', enabled: true, priority: 10 },
  { connector: 'beta', enabled: true, priority: 20 },
  { connector: 'delta', enabled: false, priority: 5 },
];

function context(extra: Partial<RouteContext> = {}): RouteContext {
  return {
    connectors: settings,
    capabilities: (name) => capabilities[name],
    random: () => 0,
    ...extra,
  };
}
const usd: RouteInput = {
  amount: 1_000n,
  currency: 'usd',
  paymentMethodType: 'card',
  cardBrand: 'visa',
  cardCountry: 'US',
};
const config = (rules: unknown[]) => parseRoutingConfig({ rules });
const to = (...connectors: string[]) => ({ type: 'priority', connectors, fallback: false });

describe('route: conditions', () => {
  test('no rules: the merchant priority order, enabled and capable only', () => {
    assert.deepEqual(route(usd, config([]), context()), ['alpha', 'beta', 'gamma']);
    assert.deepEqual(route({ ...usd, currency: 'inr' }, config([]), context()), ['beta', 'gamma']);
    const decision = explainRoute(usd, config([]), context());
    assert.equal(decision.strategy, 'merchant_priority');
    assert.equal(decision.ruleIndex, undefined);
  });

  type Case = {
    name: string;
    conditions: Record<string, unknown>;
    matching: Partial<RouteInput>[];
    notMatching: Partial<RouteInput>[];
  };
  const cases: Case[] = [
    {
      name: 'currency',
      conditions: { currency: ['eur', 'inr'] },
      matching: [{ currency: 'eur' }, { currency: 'inr' }],
      notMatching: [{ currency: 'usd' }],
    },
    {
      name: 'payment method type',
      conditions: { payment_method_type: ['card'] },
      matching: [{}],
      notMatching: [],
    },
    {
      name: 'amount range (inclusive)',
      conditions: { currency: ['usd'], amount: { min: 100, max: 5_000 } },
      matching: [{ amount: 100n }, { amount: 5_000n }, { amount: 2_500n }],
      notMatching: [{ amount: 99n }, { amount: 5_001n }, { amount: 100n, currency: 'eur' }],
    },
    {
      name: 'amount with only a minimum',
      conditions: { currency: ['usd'], amount: { min: 10_000 } },
      matching: [{ amount: 10_000n }],
      notMatching: [{ amount: 9_999n }],
    },
    {
      name: 'amount with only a maximum',
      conditions: { currency: ['usd'], amount: { max: 50 } },
      matching: [{ amount: 1n }],
      notMatching: [{ amount: 51n }],
    },
    {
      name: 'card brand',
      conditions: { card_brand: ['amex', 'mastercard'] },
      matching: [{ cardBrand: 'amex' }],
      notMatching: [{ cardBrand: 'visa' }, { cardBrand: undefined }],
    },
    {
      name: 'card country',
      conditions: { card_country: ['DE', 'FR'] },
      matching: [{ cardCountry: 'DE' }, { cardCountry: 'fr' }],
      notMatching: [{ cardCountry: 'US' }, { cardCountry: undefined }],
    },
    {
      name: 'all conditions together',
      conditions: {
        currency: ['usd'],
        amount: { min: 500 },
        card_brand: ['visa'],
        card_country: ['US'],
      },
      matching: [{}],
      notMatching: [{ amount: 499n }, { cardBrand: 'amex' }, { cardCountry: 'CA' }],
    },
  ];
  for (const item of cases) {
    test(`${item.name}`, () => {
      const rules = config([{ conditions: item.conditions, action: to('gamma') }]);
      for (const change of item.matching) {
        const input = { ...usd, currency: 'usd', ...change };
        const capable = input.currency === 'eur' ? [] : ['gamma'];
        assert.deepEqual(
          route(input, rules, context()),
          capable,
          `should match ${JSON.stringify(change, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`,
        );
        assert.equal(explainRoute(input, rules, context()).ruleIndex, 0);
      }
      for (const change of item.notMatching) {
        assert.equal(
          explainRoute({ ...usd, ...change }, rules, context()).ruleIndex,
          undefined,
          'should not match',
        );
      }
    });
  }

  test('first matching rule wins, even when a later one is more specific', () => {
    const rules = config([
      { conditions: { currency: ['usd'] }, action: to('beta') },
      { conditions: { currency: ['usd'], card_brand: ['visa'] }, action: to('gamma') },
      { action: to('alpha') },
    ]);
    assert.deepEqual(route(usd, rules, context()), ['beta']);
    assert.equal(explainRoute(usd, rules, context()).ruleIndex, 0);
    assert.deepEqual(route({ ...usd, currency: 'eur' }, rules, context()), ['alpha']);
    assert.equal(explainRoute({ ...usd, currency: 'eur' }, rules, context()).ruleIndex, 2);
  });
});

describe('route: actions and ordering', () => {
  test('priority list: the rule order, then with fallback the rest by merchant priority', () => {
    const withFallback = config([{ action: { type: 'priority', connectors: ['gamma', 'beta'] } }]);
    assert.deepEqual(route(usd, withFallback, context()), ['gamma', 'beta', 'alpha']);
    const without = config([{ action: to('gamma', 'beta') }]);
    assert.deepEqual(route(usd, without, context()), ['gamma', 'beta']);
  });

  test('rule connectors that are disabled, unregistered or incapable are skipped', () => {
    const rules = config([{ action: to('delta', 'nobody', 'gamma', 'alpha') }]);
    assert.deepEqual(route(usd, rules, context()), ['gamma', 'alpha']);
    // gamma cannot capture manually; alpha cannot take inr.
    assert.deepEqual(route({ ...usd, captureMode: 'manual' }, rules, context()), ['alpha']);
    assert.deepEqual(
      route({ ...usd, currency: 'inr', captureMode: 'manual' }, rules, context()),
      [],
    );
  });

  test('a matching rule whose connectors are all ineligible gives its fallback, or nothing', () => {
    assert.deepEqual(
      route(
        { ...usd, currency: 'inr' },
        config([{ action: { type: 'priority', connectors: ['alpha'] } }]),
        context(),
      ),
      ['beta', 'gamma'],
    );
    assert.deepEqual(
      route({ ...usd, currency: 'inr' }, config([{ action: to('alpha') }]), context()),
      [],
    );
  });

  test('availability: an unavailable connector is not chosen and goes last, as a last resort', () => {
    const isAvailable = (name: string) => name !== 'gamma';
    const rules = config([{ action: { type: 'priority', connectors: ['gamma', 'beta'] } }]);
    assert.deepEqual(route(usd, rules, context({ isAvailable })), ['beta', 'alpha', 'gamma']);
    assert.deepEqual(route(usd, config([]), context({ isAvailable: (name) => name !== 'alpha' })), [
      'beta',
      'gamma',
      'alpha',
    ]);
    // Everything unavailable: the normal order, all as last resorts.
    assert.deepEqual(route(usd, rules, context({ isAvailable: () => false })), [
      'gamma',
      'beta',
      'alpha',
    ]);
  });

  test('volume split: the drawn connector first, then the rule order, then fallback', () => {
    const rules = config([
      {
        action: {
          type: 'volume_split',
          splits: [
            { connector: 'alpha', weight: 70 },
            { connector: 'beta', weight: 30 },
            { connector: 'delta', weight: 10 },
          ],
        },
      },
    ]);
    assert.deepEqual(route(usd, rules, context({ random: () => 0.1 })), ['alpha', 'beta', 'gamma']);
    assert.deepEqual(route(usd, rules, context({ random: () => 0.69 })), [
      'alpha',
      'beta',
      'gamma',
    ]);
    assert.deepEqual(route(usd, rules, context({ random: () => 0.7 })), ['beta', 'alpha', 'gamma']);
    assert.deepEqual(route(usd, rules, context({ random: () => 0.999 })), [
      'beta',
      'alpha',
      'gamma',
    ]);
  });

  test('volume split distribution matches the weights within tolerance (seeded)', () => {
    const rules = config([
      {
        action: {
          type: 'volume_split',
          splits: [
            { connector: 'alpha', weight: 60 },
            { connector: 'beta', weight: 30 },
            { connector: 'gamma', weight: 10 },
          ],
          fallback: false,
        },
      },
    ]);
    const random = seededRandom(42);
    const counts = new Map<string, number>();
    const draws = 20_000;
    for (let index = 0; index < draws; index++) {
      const first = route(usd, rules, context({ random }))[0] ?? 'none';
      counts.set(first, (counts.get(first) ?? 0) + 1);
    }
    for (const [name, share] of [
      ['alpha', 0.6],
      ['beta', 0.3],
      ['gamma', 0.1],
    ] as const) {
      const observed = (counts.get(name) ?? 0) / draws;
      assert.ok(Math.abs(observed - share) < 0.015, `${name}: ${observed} vs ${share}`);
    }
  });

  test('volume split renormalizes over what is eligible and available; weight 0 is failover only', () => {
    const rules = config([
      {
        action: {
          type: 'volume_split',
          splits: [
            { connector: 'alpha', weight: 50 },
            { connector: 'beta', weight: 50 },
            { connector: 'gamma', weight: 0 },
          ],
        },
      },
    ]);
    // alpha cannot take inr: beta always.
    for (const value of [0, 0.3, 0.99])
      assert.deepEqual(
        route({ ...usd, currency: 'inr' }, rules, context({ random: () => value })),
        ['beta', 'gamma'],
      );
    assert.deepEqual(
      route(usd, rules, context({ random: () => 0.99, isAvailable: (name) => name !== 'beta' })),
      ['alpha', 'gamma', 'beta'],
    );
    // Only the weight-0 connector left.
    assert.deepEqual(route(usd, rules, context({ isAvailable: (name) => name === 'gamma' })), [
      'gamma',
      'alpha',
      'beta',
    ]);
  });

  test('a random source outside [0, 1) is a bug and throws', () => {
    const rules = config([
      {
        action: {
          type: 'volume_split',
          splits: [
            { connector: 'alpha', weight: 1 },
            { connector: 'beta', weight: 1 },
          ],
        },
      },
    ]);
    assert.throws(() => route(usd, rules, context({ random: () => 1 })), /outside \[0, 1\)/);
  });
});

describe('route: success rate', () => {
  function trackerWith(
    rates: Record<string, [successes: number, failures: number]>,
  ): SuccessRateTracker {
    const tracker = new SuccessRateTracker({ now: () => 0, samplesMax: 1_000 });
    for (const [name, [successes, failures]] of Object.entries(rates)) {
      for (let index = 0; index < successes; index++) tracker.record(name, 'success');
      for (let index = 0; index < failures; index++) tracker.record(name, 'failure');
    }
    return tracker;
  }
  const rules = config([
    {
      action: {
        type: 'success_rate',
        connectors: ['alpha', 'beta', 'gamma'],
        min_samples: 20,
        exploration_percent: 10,
        fallback: false,
      },
    },
  ]);
  const noExploration = () => 0.5;

  test('the best measured connector first, then the rule order', () => {
    const successRates = trackerWith({ alpha: [60, 40], beta: [95, 5], gamma: [80, 20] });
    const decision = explainRoute(usd, rules, context({ successRates, random: noExploration }));
    assert.deepEqual(decision.connectors, ['beta', 'alpha', 'gamma']);
    assert.equal(decision.strategy, 'success_rate');
    assert.equal(decision.explored, false);
  });

  test('connectors under the minimum sample size are not ranked; none measured keeps the rule order', () => {
    const successRates = trackerWith({ alpha: [50, 50], beta: [19, 0] });
    assert.deepEqual(route(usd, rules, context({ successRates, random: noExploration })), [
      'alpha',
      'beta',
      'gamma',
    ]);
    assert.deepEqual(
      route(usd, rules, context({ successRates: trackerWith({}), random: noExploration })),
      ['alpha', 'beta', 'gamma'],
    );
    assert.deepEqual(route(usd, rules, context({ random: noExploration })), [
      'alpha',
      'beta',
      'gamma',
    ]);
  });

  test('ties go to the rule order', () => {
    const successRates = trackerWith({ alpha: [90, 10], beta: [90, 10], gamma: [90, 10] });
    assert.deepEqual(route(usd, rules, context({ successRates, random: noExploration })), [
      'alpha',
      'beta',
      'gamma',
    ]);
  });

  test('exploration sends about its share to the others, evenly, so a recovering connector gets traffic', () => {
    const successRates = trackerWith({ alpha: [0, 100], beta: [99, 1], gamma: [90, 10] });
    const random = seededRandom(7);
    const counts = new Map<string, number>();
    let explored = 0;
    const draws = 20_000;
    for (let index = 0; index < draws; index++) {
      const decision = explainRoute(usd, rules, context({ successRates, random }));
      const first = decision.connectors[0] ?? 'none';
      counts.set(first, (counts.get(first) ?? 0) + 1);
      if (decision.explored) explored += 1;
    }
    assert.ok(Math.abs(explored / draws - 0.1) < 0.01, `explored ${explored / draws}`);
    assert.ok(Math.abs((counts.get('beta') ?? 0) / draws - 0.9) < 0.01);
    assert.ok(
      Math.abs((counts.get('alpha') ?? 0) / draws - 0.05) < 0.01,
      `alpha ${(counts.get('alpha') ?? 0) / draws}`,
    );
    assert.ok(Math.abs((counts.get('gamma') ?? 0) / draws - 0.05) < 0.01);
  });

  test('an explored choice is first; the rest keep the rule order', () => {
    const successRates = trackerWith({ alpha: [50, 50], beta: [99, 1], gamma: [50, 50] });
    // First draw < 10 % explores; the second picks among [alpha, gamma].
    const draws = [0.01, 0.9];
    const decision = explainRoute(
      usd,
      rules,
      context({ successRates, random: () => draws.shift() ?? 0 }),
    );
    assert.deepEqual(decision.connectors, ['gamma', 'alpha', 'beta']);
    assert.equal(decision.explored, true);
  });

  test('zero exploration never explores; an unavailable best is not chosen', () => {
    const strict = config([
      {
        action: {
          type: 'success_rate',
          connectors: ['alpha', 'beta'],
          exploration_percent: 0,
          min_samples: 1,
        },
      },
    ]);
    const successRates = trackerWith({ alpha: [1, 9], beta: [9, 1] });
    assert.deepEqual(route(usd, strict, context({ successRates, random: () => 0 })), [
      'beta',
      'alpha',
      'gamma',
    ]);
    assert.deepEqual(
      route(
        usd,
        strict,
        context({ successRates, random: () => 0, isAvailable: (name) => name !== 'beta' }),
      ),
      ['alpha', 'gamma', 'beta'],
    );
  });

  test('a connector recovers once its failures leave the window', () => {
    let nowMs = 0;
    const tracker = new SuccessRateTracker({ now: () => nowMs, windowMs: 60_000, samplesMax: 100 });
    const strict = config([
      {
        action: {
          type: 'success_rate',
          connectors: ['alpha', 'beta'],
          exploration_percent: 5,
          min_samples: 10,
          fallback: false,
        },
      },
    ]);
    for (let index = 0; index < 20; index++) tracker.record('alpha', 'failure');
    nowMs = 30_000;
    for (let index = 0; index < 20; index++) tracker.record('beta', 'success');
    for (let index = 0; index < 5; index++) tracker.record('beta', 'failure');
    assert.deepEqual(route(usd, strict, context({ successRates: tracker, random: () => 0.5 })), [
      'beta',
      'alpha',
    ]);
    // alpha's outage ages out; exploration traffic brings fresh successes.
    nowMs = 61_000;
    for (let index = 0; index < 10; index++) tracker.record('alpha', 'success');
    assert.deepEqual(route(usd, strict, context({ successRates: tracker, random: () => 0.5 })), [
      'alpha',
      'beta',
    ]);
  });
});
