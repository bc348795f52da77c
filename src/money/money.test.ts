import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_AMOUNT_MINOR, currencyExponent, listCurrencies } from './currencies.ts';
import {
  MoneyError,
  assertPositiveAmount,
  formatDecimal,
  parseDecimal,
  percentageOf,
} from './money.ts';
import { assertMoneyError } from './assert-money-error.ts';

const RUNS = { numRuns: 500 };
const MAX = MAX_AMOUNT_MINOR;
const anyAmount = fc.bigInt({ min: -MAX, max: MAX });
const REPRESENTATIVE_BY_EXPONENT = [
  ['jpy', 0],
  ['usd', 2],
  ['bhd', 3],
] as const;

describe('MoneyError', () => {
  it('is an Error carrying a code and an optional param', () => {
    const error = new MoneyError('invalid_amount', 'bad', 'amount');
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'MoneyError');
    assert.equal(error.code, 'invalid_amount');
    assert.equal(error.param, 'amount');
    assert.equal(new MoneyError('amount_too_large', 'too big').param, undefined);
  });
});

describe('parseDecimal', () => {
  const valid: ReadonlyArray<readonly [string, string, bigint]> = [
    ['12.34', 'usd', 1234n],
    ['12.3', 'usd', 1230n],
    ['12', 'usd', 1200n],
    ['0.05', 'usd', 5n],
    ['-1.50', 'usd', -150n],
    ['-0.05', 'usd', -5n],
    ['007.50', 'usd', 750n],
    ['0', 'usd', 0n],
    ['-0', 'usd', 0n],
    ['1000', 'jpy', 1000n],
    ['-1000', 'jpy', -1000n],
    ['1.234', 'bhd', 1234n],
    ['1.2', 'bhd', 1200n],
    ['999999999.99', 'usd', MAX],
    ['-999999999.99', 'usd', -MAX],
    ['99999999999', 'jpy', MAX],
    ['99999999.999', 'kwd', MAX],
  ];
  for (const [text, currency, expected] of valid) {
    it(`parses '${text}' ${currency} as ${expected}`, () => {
      assert.equal(parseDecimal(text, currency), expected);
    });
  }

  const invalid: ReadonlyArray<readonly [string, string]> = [
    ['', 'usd'],
    [' 1', 'usd'],
    ['1 ', 'usd'],
    ['1.', 'usd'],
    ['.5', 'usd'],
    ['-.5', 'usd'],
    ['+1', 'usd'],
    ['--1', 'usd'],
    ['-', 'usd'],
    ['1e3', 'usd'],
    ['1E3', 'usd'],
    ['0x10', 'usd'],
    ['1,000', 'usd'],
    ['1_000', 'usd'],
    ['1,50', 'eur'],
    ['1.2.3', 'usd'],
    ['NaN', 'usd'],
    ['Infinity', 'usd'],
    ['abc', 'usd'],
    ['١٢', 'usd'],
    ['1.234', 'usd'],
    ['1.230', 'usd'],
    ['1.0', 'jpy'],
    ['1.2345', 'bhd'],
  ];
  for (const [text, currency] of invalid) {
    it(`rejects '${text}' for ${currency}`, () => {
      assertMoneyError(() => parseDecimal(text, currency), 'invalid_amount');
    });
  }

  it('rejects amounts past the maximum, including absurdly long ones, without converting them', () => {
    assertMoneyError(() => parseDecimal('1000000000.00', 'usd'), 'amount_too_large');
    assertMoneyError(() => parseDecimal('-1000000000', 'usd'), 'amount_too_large');
    assertMoneyError(() => parseDecimal('100000000000', 'jpy'), 'amount_too_large');
    assertMoneyError(() => parseDecimal('9'.repeat(1_000_000), 'usd'), 'amount_too_large');
  });

  it('ignores any number of leading zeros', () => {
    assert.equal(parseDecimal(`${'0'.repeat(100_000)}1.25`, 'usd'), 125n);
  });

  it('rejects unknown currencies before looking at the text', () => {
    assertMoneyError(() => parseDecimal('1.00', 'USD'), 'unknown_currency');
  });

  for (const [currency, exponent] of REPRESENTATIVE_BY_EXPONENT) {
    it(`agrees with whole * 10^${exponent} + fraction for ${currency} (property)`, () => {
      const maxWhole = MAX / 10n ** BigInt(exponent);
      const fractionDigits = fc.string({
        unit: fc.constantFrom(...'0123456789'),
        maxLength: exponent,
      });
      fc.assert(
        fc.property(
          fc.boolean(),
          fc.bigInt({ min: 0n, max: maxWhole - 1n }),
          fractionDigits,
          (negative, whole, fraction) => {
            const text = `${negative ? '-' : ''}${whole}${fraction === '' ? '' : `.${fraction}`}`;
            const magnitude =
              whole * 10n ** BigInt(exponent) + BigInt(fraction.padEnd(exponent, '0') || '0');
            assert.equal(parseDecimal(text, currency), negative ? -magnitude : magnitude);
          },
        ),
        RUNS,
      );
    });
  }
});

describe('formatDecimal', () => {
  const cases: ReadonlyArray<readonly [bigint, string, string]> = [
    [1234n, 'usd', '12.34'],
    [-5n, 'usd', '-0.05'],
    [5n, 'usd', '0.05'],
    [0n, 'usd', '0.00'],
    [100n, 'usd', '1.00'],
    [-150n, 'usd', '-1.50'],
    [1000n, 'jpy', '1000'],
    [-7n, 'jpy', '-7'],
    [0n, 'jpy', '0'],
    [1234n, 'bhd', '1.234'],
    [1n, 'bhd', '0.001'],
    [-1000n, 'kwd', '-1.000'],
    [MAX, 'usd', '999999999.99'],
  ];
  for (const [amount, currency, expected] of cases) {
    it(`formats ${amount} ${currency} as '${expected}'`, () => {
      assert.equal(formatDecimal(amount, currency), expected);
    });
  }

  for (const [currency, exponent] of REPRESENTATIVE_BY_EXPONENT) {
    it(`round-trips through parseDecimal for exponent ${exponent} (${currency}, property)`, () => {
      fc.assert(
        fc.property(anyAmount, (amount) => {
          const text = formatDecimal(amount, currency);
          assert.equal(parseDecimal(text, currency), amount);
          assert.equal(text.split('.')[1]?.length ?? 0, exponent);
        }),
        RUNS,
      );
    });
  }

  it('round-trips for every listed currency (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...listCurrencies()), anyAmount, (currency, amount) => {
        assert.equal(parseDecimal(formatDecimal(amount, currency), currency), amount);
      }),
      RUNS,
    );
  });

  it('rejects unknown currencies', () => {
    assertMoneyError(() => formatDecimal(1n, 'EUR'), 'unknown_currency');
  });
});

describe('assertPositiveAmount', () => {
  it('accepts bigints, safe integer numbers and digit strings', () => {
    assert.equal(assertPositiveAmount(1234n, 'amount', 'usd'), 1234n);
    assert.equal(assertPositiveAmount(1234, 'amount', 'usd'), 1234n);
    assert.equal(assertPositiveAmount('1234', 'amount', 'usd'), 1234n);
    assert.equal(assertPositiveAmount('0042', 'amount', 'usd'), 42n);
    assert.equal(assertPositiveAmount(MAX, 'amount', 'usd'), MAX);
    assert.equal(assertPositiveAmount(String(MAX), 'amount', 'usd'), MAX);
  });

  const notIntegers: readonly unknown[] = [
    1.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    2 ** 53,
    -(2 ** 53),
    '1.0',
    '1.5',
    '',
    ' 1',
    '1 ',
    '+1',
    '1e3',
    '0x10',
    '1_000',
    'abc',
    '-',
    null,
    undefined,
    true,
    {},
    [],
    [1],
    Symbol('amount'),
  ];
  for (const value of notIntegers) {
    it(`rejects ${String(typeof value === 'string' ? JSON.stringify(value) : String(value))} as invalid_amount`, () => {
      assertMoneyError(
        () => assertPositiveAmount(value, 'amount', 'usd'),
        'invalid_amount',
        'amount',
      );
    });
  }

  const notPositive: readonly unknown[] = [
    0,
    -0,
    -1,
    0n,
    -1n,
    '0',
    '000',
    '-0',
    '-5',
    -MAX,
    `-${'9'.repeat(10_000)}`,
  ];
  for (const value of notPositive) {
    it(`rejects ${String(value).slice(0, 20)} as amount_not_positive`, () => {
      assertMoneyError(
        () => assertPositiveAmount(value, 'unit_amount', 'usd'),
        'amount_not_positive',
        'unit_amount',
      );
    });
  }

  const tooLarge: readonly unknown[] = [
    MAX + 1n,
    Number(MAX) + 1,
    String(MAX + 1n),
    '9'.repeat(1_000_000),
  ];
  for (const value of tooLarge) {
    it(`rejects ${String(value).slice(0, 20)} as amount_too_large`, () => {
      assertMoneyError(
        () => assertPositiveAmount(value, 'amount', 'usd'),
        'amount_too_large',
        'amount',
      );
    });
  }

  it('rejects an unknown currency', () => {
    assertMoneyError(() => assertPositiveAmount(1n, 'amount', 'USD'), 'unknown_currency');
  });
});

describe('percentageOf', () => {
  const cases: ReadonlyArray<readonly [bigint, bigint, 'half_up' | 'down', bigint]> = [
    [10000n, 290n, 'half_up', 290n],
    [1234n, 290n, 'half_up', 36n], // 35.786
    [1234n, 290n, 'down', 35n],
    [50n, 1000n, 'half_up', 5n],
    [5n, 1000n, 'half_up', 1n], // exactly 0.5 rounds away from zero
    [5n, 1000n, 'down', 0n],
    [-5n, 1000n, 'half_up', -1n], // mirrors: -0.5 rounds to -1
    [-5n, 1000n, 'down', 0n],
    [-1234n, 290n, 'half_up', -36n],
    [4n, 1000n, 'half_up', 0n], // 0.4
    [0n, 290n, 'half_up', 0n],
    [12345n, 10000n, 'half_up', 12345n],
    [12345n, 0n, 'half_up', 0n],
  ];
  for (const [amount, basisPoints, rounding, expected] of cases) {
    it(`${basisPoints} bps of ${amount} (${rounding}) is ${expected}`, () => {
      assert.equal(percentageOf(amount, basisPoints, rounding), expected);
    });
  }

  it('defaults to half_up', () => {
    assert.equal(percentageOf(5n, 1000n), 1n);
  });

  const basisPoints = fc.bigInt({ min: 0n, max: 10_000n });

  // Non-negative amounts only: the mirror property below carries these bounds over to negatives.
  it('half_up is within half a unit, rounding exact halves up (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX }), basisPoints, (amount, points) => {
        const error = percentageOf(amount, points, 'half_up') * 10_000n - amount * points;
        assert.ok(error > -5_000n && error <= 5_000n, `error ${error}`);
      }),
      RUNS,
    );
  });

  it('down is below the exact value by less than one unit (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX }), basisPoints, (amount, points) => {
        const shortfall = amount * points - percentageOf(amount, points, 'down') * 10_000n;
        assert.ok(shortfall >= 0n && shortfall < 10_000n, `shortfall ${shortfall}`);
      }),
      RUNS,
    );
  });

  it('mirrors for negative amounts (property)', () => {
    fc.assert(
      fc.property(
        anyAmount,
        basisPoints,
        fc.constantFrom('half_up' as const, 'down' as const),
        (amount, points, rounding) => {
          assert.equal(
            percentageOf(-amount, points, rounding),
            -percentageOf(amount, points, rounding),
          );
        },
      ),
      RUNS,
    );
  });
});

it('currencyExponent is consistent with formatDecimal for every currency', () => {
  for (const currency of listCurrencies()) {
    assert.equal(
      formatDecimal(1n, currency).split('.')[1]?.length ?? 0,
      currencyExponent(currency),
    );
  }
});
