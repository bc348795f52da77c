import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  parseRoutingConfig,
  routingConfigToJson,
  RoutingConfigError,
  type RoutingConfigErrorCode,
} from './config.ts';
import { countryCodes } from './countries.ts';

const priority = { type: 'priority', connectors: ['stripe'] };
const rule = (extra: Record<string, unknown> = {}) => ({
  conditions: { currency: ['usd'] },
  action: priority,
  ...extra,
});
const withConditions = (conditions: unknown) => ({ rules: [{ conditions, action: priority }] });
const withAction = (action: unknown) => ({ rules: [{ action }] });
const known = ['stripe', 'razorpay', 'paytm'];

describe('parseRoutingConfig', () => {
  test('reads every condition and action kind, fills defaults, and round-trips through JSON', () => {
    const json = {
      rules: [
        {
          name: 'big eur cards',
          conditions: {
            currency: ['eur', 'usd'],
            payment_method_type: ['card'],
            amount: { min: 100, max: 500_000 },
            card_brand: ['visa', 'amex'],
            card_country: ['DE', 'FR'],
          },
          action: { type: 'priority', connectors: ['stripe', 'razorpay'], fallback: false },
        },
        {
          conditions: { currency: ['inr'] },
          action: {
            type: 'volume_split',
            splits: [
              { connector: 'razorpay', weight: 70 },
              { connector: 'paytm', weight: 30 },
            ],
          },
        },
        {
          conditions: { card_brand: ['mastercard'] },
          action: {
            type: 'success_rate',
            connectors: ['stripe', 'razorpay'],
            min_samples: 50,
            exploration_percent: 2.5,
          },
        },
        { action: { type: 'success_rate', connectors: ['stripe', 'razorpay'] } },
      ],
    };
    const config = parseRoutingConfig(json, { knownConnectors: known });
    assert.equal(config.rules.length, 4);
    assert.deepEqual(config.rules[0]?.conditions.amount, { min: 100n, max: 500_000n });
    assert.deepEqual(config.rules[0]?.action, {
      type: 'priority',
      connectors: ['stripe', 'razorpay'],
      fallback: false,
    });
    assert.deepEqual(config.rules[1]?.action, {
      type: 'volume_split',
      splits: [
        { connector: 'razorpay', weight: 70 },
        { connector: 'paytm', weight: 30 },
      ],
      fallback: true,
    });
    assert.deepEqual(config.rules[3]?.action, {
      type: 'success_rate',
      connectors: ['stripe', 'razorpay'],
      minSamples: 20,
      explorationPercent: 5,
      fallback: true,
    });
    assert.deepEqual(config.rules[3]?.conditions, {});
    const again = routingConfigToJson(config);
    assert.deepEqual(parseRoutingConfig(JSON.parse(JSON.stringify(again))), config);
    assert.equal(again.rules[0]?.name, 'big eur cards');
    assert.deepEqual(again.rules[0]?.conditions.amount, { min: 100, max: 500_000 });
  });

  test('an empty rule list is valid', () => {
    assert.deepEqual(parseRoutingConfig({ rules: [] }), { rules: [] });
  });

  type Case = {
    name: string;
    input: unknown;
    code?: RoutingConfigErrorCode;
    param: string | undefined;
    message?: RegExp;
  };
  const cases: Case[] = [
    {
      name: 'not an object',
      input: [],
      param: undefined,
      message: /routing configuration: must be an object/,
    },
    { name: 'rules missing', input: {}, code: 'parameter_missing', param: 'rules' },
    {
      name: 'unknown top-level field',
      input: { rules: [], default: 1 },
      code: 'parameter_unknown',
      param: 'default',
    },
    { name: 'rules not a list', input: { rules: {} }, param: 'rules' },
    {
      name: 'too many rules',
      input: { rules: Array.from({ length: 51 }, () => rule()) },
      param: 'rules',
      message: /at most 50/,
    },
    {
      name: 'rule without action',
      input: { rules: [{ conditions: {} }] },
      code: 'parameter_missing',
      param: 'rules[0][action]',
    },
    {
      name: 'unknown rule field',
      input: { rules: [rule({ when: 1 })] },
      code: 'parameter_unknown',
      param: 'rules[0][when]',
    },
    { name: 'empty name', input: { rules: [rule({ name: '' })] }, param: 'rules[0][name]' },
    {
      name: 'long name',
      input: { rules: [rule({ name: 'n'.repeat(101) })] },
      param: 'rules[0][name]',
    },
    {
      name: 'unknown condition',
      input: withConditions({ issuer: ['x'] }),
      code: 'parameter_unknown',
      param: 'rules[0][conditions][issuer]',
    },
    {
      name: 'currency not a list',
      input: withConditions({ currency: 'usd' }),
      param: 'rules[0][conditions][currency]',
    },
    {
      name: 'empty currency list',
      input: withConditions({ currency: [] }),
      param: 'rules[0][conditions][currency]',
      message: /at least 1 item/,
    },
    {
      name: 'uppercase currency',
      input: withConditions({ currency: ['usd', 'EUR'] }),
      param: 'rules[0][conditions][currency][1]',
      message: /lowercase ISO-4217/,
    },
    {
      name: 'unknown currency',
      input: withConditions({ currency: ['xyz'] }),
      param: 'rules[0][conditions][currency][0]',
    },
    {
      name: 'repeated currency',
      input: withConditions({ currency: ['usd', 'usd'] }),
      param: 'rules[0][conditions][currency][1]',
      message: /listed twice/,
    },
    {
      name: 'currency not a string',
      input: withConditions({ currency: [840] }),
      param: 'rules[0][conditions][currency][0]',
    },
    {
      name: 'unknown payment method type',
      input: withConditions({ payment_method_type: ['sepa_debit'] }),
      param: 'rules[0][conditions][payment_method_type][0]',
    },
    {
      name: 'unknown brand',
      input: withConditions({ card_brand: ['visa', 'maestro'] }),
      param: 'rules[0][conditions][card_brand][1]',
      message: /use one of visa/,
    },
    {
      name: 'uppercase brand',
      input: withConditions({ card_brand: ['VISA'] }),
      param: 'rules[0][conditions][card_brand][0]',
    },
    {
      name: 'lowercase country',
      input: withConditions({ card_country: ['de'] }),
      param: 'rules[0][conditions][card_country][0]',
    },
    {
      name: 'not an ISO country',
      input: withConditions({ card_country: ['DE', 'UK'] }),
      param: 'rules[0][conditions][card_country][1]',
      message: /ISO-3166/,
    },
    {
      name: 'amount without currency',
      input: withConditions({ amount: { min: 1 } }),
      param: 'rules[0][conditions][amount]',
      message: /needs a currency condition/,
    },
    {
      name: 'amount across exponents',
      input: withConditions({ currency: ['usd', 'jpy'], amount: { max: 100 } }),
      param: 'rules[0][conditions][amount]',
      message: /different numbers of decimals/,
    },
    {
      name: 'amount with no bound',
      input: withConditions({ currency: ['usd'], amount: {} }),
      code: 'parameter_missing',
      param: 'rules[0][conditions][amount][min]',
    },
    {
      name: 'amount min negative',
      input: withConditions({ currency: ['usd'], amount: { min: -1 } }),
      param: 'rules[0][conditions][amount][min]',
    },
    {
      name: 'amount max fractional',
      input: withConditions({ currency: ['usd'], amount: { max: 10.5 } }),
      param: 'rules[0][conditions][amount][max]',
      message: /integer/,
    },
    {
      name: 'amount max as text',
      input: withConditions({ currency: ['usd'], amount: { max: '100' } }),
      param: 'rules[0][conditions][amount][max]',
    },
    {
      name: 'amount too large',
      input: withConditions({ currency: ['usd'], amount: { max: 1e12 } }),
      param: 'rules[0][conditions][amount][max]',
    },
    {
      name: 'amount min above max',
      input: withConditions({ currency: ['usd'], amount: { min: 500, max: 100 } }),
      param: 'rules[0][conditions][amount][max]',
    },
    {
      name: 'unknown amount field',
      input: withConditions({ currency: ['usd'], amount: { below: 1 } }),
      code: 'parameter_unknown',
      param: 'rules[0][conditions][amount][below]',
    },
    {
      name: 'action type missing',
      input: withAction({ connectors: ['stripe'] }),
      code: 'parameter_missing',
      param: 'rules[0][action][type]',
    },
    {
      name: 'unknown action type',
      input: withAction({ type: 'round_robin', connectors: ['stripe'] }),
      param: 'rules[0][action][type]',
    },
    {
      name: 'priority without connectors',
      input: withAction({ type: 'priority' }),
      code: 'parameter_missing',
      param: 'rules[0][action][connectors]',
    },
    {
      name: 'priority with splits',
      input: withAction({ type: 'priority', connectors: ['stripe'], splits: [] }),
      code: 'parameter_unknown',
      param: 'rules[0][action][splits]',
      message: /'priority' action/,
    },
    {
      name: 'empty connector list',
      input: withAction({ type: 'priority', connectors: [] }),
      param: 'rules[0][action][connectors]',
    },
    {
      name: 'bad connector name',
      input: withAction({ type: 'priority', connectors: ['Stripe!'] }),
      param: 'rules[0][action][connectors][0]',
    },
    {
      name: 'unknown connector',
      input: withAction({ type: 'priority', connectors: ['stripe', 'adyen'] }),
      param: 'rules[0][action][connectors][1]',
      message: /no connector 'adyen'/,
    },
    {
      name: 'repeated connector',
      input: withAction({ type: 'priority', connectors: ['stripe', 'stripe'] }),
      param: 'rules[0][action][connectors][1]',
    },
    {
      name: 'fallback not boolean',
      input: withAction({ type: 'priority', connectors: ['stripe'], fallback: 'yes' }),
      param: 'rules[0][action][fallback]',
    },
    {
      name: 'split without splits',
      input: withAction({ type: 'volume_split' }),
      code: 'parameter_missing',
      param: 'rules[0][action][splits]',
    },
    {
      name: 'split without weight',
      input: withAction({ type: 'volume_split', splits: [{ connector: 'stripe' }] }),
      code: 'parameter_missing',
      param: 'rules[0][action][splits][0][weight]',
    },
    {
      name: 'split negative weight',
      input: withAction({ type: 'volume_split', splits: [{ connector: 'stripe', weight: -1 }] }),
      param: 'rules[0][action][splits][0][weight]',
    },
    {
      name: 'split fractional weight',
      input: withAction({ type: 'volume_split', splits: [{ connector: 'stripe', weight: 0.5 }] }),
      param: 'rules[0][action][splits][0][weight]',
    },
    {
      name: 'split repeated connector',
      input: withAction({
        type: 'volume_split',
        splits: [
          { connector: 'stripe', weight: 1 },
          { connector: 'stripe', weight: 2 },
        ],
      }),
      param: 'rules[0][action][splits][1][connector]',
    },
    {
      name: 'split all weights zero',
      input: withAction({
        type: 'volume_split',
        splits: [
          { connector: 'stripe', weight: 0 },
          { connector: 'paytm', weight: 0 },
        ],
      }),
      param: 'rules[0][action][splits]',
      message: /above 0/,
    },
    {
      name: 'split unknown field',
      input: withAction({
        type: 'volume_split',
        splits: [{ connector: 'stripe', weight: 1, share: 2 }],
      }),
      code: 'parameter_unknown',
      param: 'rules[0][action][splits][0][share]',
    },
    {
      name: 'success rate of one',
      input: withAction({ type: 'success_rate', connectors: ['stripe'] }),
      param: 'rules[0][action][connectors]',
      message: /at least 2/,
    },
    {
      name: 'success rate min_samples 0',
      input: withAction({ type: 'success_rate', connectors: ['stripe', 'paytm'], min_samples: 0 }),
      param: 'rules[0][action][min_samples]',
    },
    {
      name: 'exploration above 50',
      input: withAction({
        type: 'success_rate',
        connectors: ['stripe', 'paytm'],
        exploration_percent: 60,
      }),
      param: 'rules[0][action][exploration_percent]',
    },
    {
      name: 'exploration not a number',
      input: withAction({
        type: 'success_rate',
        connectors: ['stripe', 'paytm'],
        exploration_percent: '5',
      }),
      param: 'rules[0][action][exploration_percent]',
    },
    {
      name: 'rule after a catch-all',
      input: { rules: [{ action: priority }, rule()] },
      param: 'rules[1]',
      message: /can never match: rules\[0\]/,
    },
    {
      name: 'second rule reports its index',
      input: { rules: [rule(), rule({ conditions: { currency: ['usd'], card_brand: ['nope'] } })] },
      param: 'rules[1][conditions][card_brand][0]',
    },
  ];

  for (const item of cases) {
    test(`refuses: ${item.name} (${item.param ?? 'whole body'})`, () => {
      assert.throws(
        () => parseRoutingConfig(item.input, { knownConnectors: known }),
        (error: unknown) => {
          assert.ok(
            error instanceof RoutingConfigError,
            `expected RoutingConfigError, got ${String(error)}`,
          );
          assert.equal(error.param, item.param);
          assert.equal(error.code, item.code ?? 'parameter_invalid');
          if (item.message !== undefined) assert.match(error.message, item.message);
          if (item.param !== undefined)
            assert.ok(
              error.message.includes(item.param),
              `message names the param: ${error.message}`,
            );
          return true;
        },
      );
    });
  }

  test('without knownConnectors any well-formed name is accepted (stored configs outlive a registry change)', () => {
    const config = parseRoutingConfig(withAction({ type: 'priority', connectors: ['adyen'] }));
    assert.deepEqual(config.rules[0]?.action, {
      type: 'priority',
      connectors: ['adyen'],
      fallback: true,
    });
  });

  test('the country table has the 249 ISO codes plus XK', () => {
    assert.equal(countryCodes.size, 250);
    for (const code of ['US', 'GB', 'DE', 'IN', 'SS', 'XK'])
      assert.ok(countryCodes.has(code), code);
    assert.ok(!countryCodes.has('UK'));
  });
});
