// Card validation: brands, lengths, Luhn, expiry, CVC, name and metadata, with Stripe's codes and
// parameter names, and properties over generated numbers (fast-check).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  brandOf,
  cardNumberMask,
  looksLikeCardNumber,
  luhnCheckDigit,
  luhnValid,
  maskCardNumbers,
  noSuchPaymentMethodMessage,
  normalizeNumber,
  validateCard,
  validateNumber,
  VaultError,
  type CardInput,
} from './card.ts';
import { redactDigits } from './errors.ts';
import {
  invalidTestCardNumbers,
  testCard,
  testCardNumbers,
  testPaymentMethodIds,
  testToken,
} from './test-cards.ts';

const now = new Date('2026-05-15T12:00:00Z');
const visa = '4242424242424242';

function card(overrides: Partial<Record<keyof CardInput, unknown>> = {}): CardInput {
  return {
    number: visa,
    expMonth: 12,
    expYear: 2030,
    cvc: '123',
    name: 'Ada Lovelace',
    ...overrides,
  } as CardInput;
}

function assertVaultError(
  work: () => unknown,
  code: string,
  param: string | undefined,
  number = visa,
): void {
  assert.throws(work, (error: unknown) => {
    assert.ok(error instanceof VaultError, `expected VaultError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.equal(error.param, param);
    assertNoNumber(`${error.message} ${error.param ?? ''} ${error.stack ?? ''}`, number);
    return true;
  });
}

/** No run of 5 or more consecutive digits of the number (more than last4) appears in the text. */
function assertNoNumber(text: string, number: string): void {
  for (let start = 0; start + 5 <= number.length; start++) {
    const piece = number.slice(start, start + 5);
    assert.ok(!text.includes(piece), `text contains digits ${piece} of the card number: ${text}`);
  }
}

/** Digit strings completed with their Luhn check digit. */
const luhnNumber = (minLength: number, maxLength: number, prefix = ''): fc.Arbitrary<string> =>
  fc
    .string({
      unit: fc.constantFrom(...'0123456789'),
      minLength: minLength - prefix.length - 1,
      maxLength: maxLength - prefix.length - 1,
    })
    .map((body) => `${prefix}${body}${luhnCheckDigit(`${prefix}${body}`)}`);

describe('brand detection', () => {
  const cases: [string, string][] = [
    ['4242424242424242', 'visa'],
    ['4000056655665556', 'visa'],
    ['4222222222222', 'visa'],
    ['5555555555554444', 'mastercard'],
    ['5105105105105100', 'mastercard'],
    ['2223003122003222', 'mastercard'],
    ['2720990000000007', 'mastercard'],
    ['378282246310005', 'amex'],
    ['371449635398431', 'amex'],
    ['6011111111111117', 'discover'],
    ['6445644564456445', 'discover'],
    ['6500000000000002', 'discover'],
    ['3056930009020004', 'diners'],
    ['36227206271667', 'diners'],
    ['3566002020360505', 'jcb'],
    ['3528000000000007', 'jcb'],
    ['6200000000000005', 'unionpay'],
    ['6205500000000000004', 'unionpay'],
    ['8171999927660000', 'unionpay'],
    ['9999999999999995', 'unknown'],
    ['2220990000000002', 'unknown'],
    ['2721000000000004', 'unknown'],
    ['3527000000000008', 'unknown'],
  ];
  for (const [number, brand] of cases) {
    test(`${number.slice(0, 6)}… is ${brand}`, () => {
      assert.equal(brandOf(number), brand);
      assert.ok(luhnValid(number), 'fixture must be Luhn-valid');
      assert.equal(validateNumber(number).brand, brand);
    });
  }

  test("every number of Stripe's catalogue validates, with the brand Stripe lists it under", () => {
    // Stripe's brands for the numbers that are not Visa (docs.stripe.com/testing "Cards by brand",
    // co-branded and country cards).
    const notVisa: Record<string, string> = {
      '5555555555554444': 'mastercard',
      '2223003122003222': 'mastercard',
      '5200828282828210': 'mastercard',
      '5200828282828897': 'mastercard',
      '5062210000000009': 'unknown',
      '5105105105105100': 'mastercard',
      '5555552500001001': 'mastercard',
      '5555050360000080': 'mastercard',
      '5200007840000022': 'mastercard',
      '5555558265554449': 'mastercard',
      '378282246310005': 'amex',
      '371449635398431': 'amex',
      '6011111111111117': 'discover',
      '6011000990139424': 'discover',
      '6011981111111113': 'discover',
      '6555900000604105': 'discover',
      '3056930009020004': 'diners',
      '36227206271667': 'diners',
      '3566002020360505': 'jcb',
      '3530111333300000': 'jcb',
      '6200000000000005': 'unionpay',
      '6200000000000047': 'unionpay',
      '6205500000000000004': 'unionpay',
    };
    for (const number of testCardNumbers) {
      assert.equal(validateNumber(number).brand, notVisa[number] ?? 'visa', number);
    }
    for (const number of Object.keys(notVisa)) assert.ok(testCardNumbers.includes(number), number);
    for (const id of testPaymentMethodIds) {
      const found = testCard(id);
      assert.ok(found !== undefined, id);
      assert.equal(found.brand, validateNumber(found.number).brand, id);
    }
    assert.equal(testCard('pm_card_nope'), undefined);
    assert.equal(testCard('toString'), undefined);
    assert.equal(testToken('toString'), undefined);
  });

  test("Stripe's incorrect-number card fails the Luhn check: incorrect_number", () => {
    for (const number of invalidTestCardNumbers) {
      assert.throws(() => validateNumber(number), { code: 'incorrect_number' });
    }
  });
});

describe('number', () => {
  test('spaces and dashes are stripped', () => {
    assert.equal(normalizeNumber('4242 4242-4242 4242'), visa);
    assert.deepEqual(validateNumber(' 4242-4242-4242-4242 '), {
      number: visa,
      brand: 'visa',
      last4: '4242',
    });
  });

  const invalid: [string, unknown, string][] = [
    ['letters', '4242a24242424242', 'invalid_number'],
    ['dots', '4242.4242.4242.4242', 'invalid_number'],
    ['a tab', '4242\t4242424242424242', 'invalid_number'],
    ['non-ASCII digits', '٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢', 'invalid_number'],
    ['empty', '', 'invalid_number'],
    ['only separators', ' - - ', 'invalid_number'],
    ['a number type', 4242424242424242, 'invalid_number'],
    ['undefined', undefined, 'invalid_number'],
    ['too long a string', `${visa}${' '.repeat(40)}`, 'invalid_number'],
    ['too short', '424242424242', 'invalid_number'],
    ['visa with 15 digits', '424242424242421', 'invalid_number'],
    ['amex with 16 digits', '3782822463100053', 'invalid_number'],
    ['mastercard with 19 digits', '5555555555554444000', 'invalid_number'],
    ['20 digits', '42424242424242424242', 'invalid_number'],
    ['a Luhn failure', '4242424242424241', 'incorrect_number'],
    ['a Luhn failure (amex)', '378282246310006', 'incorrect_number'],
  ];
  for (const [name, number, code] of invalid) {
    test(`${name} → ${code}`, () =>
      assertVaultError(() => validateCard(card({ number }), now), code, 'card[number]'));
  }
});

describe('expiry, CVC, name and metadata', () => {
  const invalid: [string, Partial<Record<keyof CardInput, unknown>>, string, string][] = [
    ['month 0', { expMonth: 0 }, 'invalid_expiry_month', 'card[exp_month]'],
    ['month 13', { expMonth: 13 }, 'invalid_expiry_month', 'card[exp_month]'],
    ['month 1.5', { expMonth: 1.5 }, 'invalid_expiry_month', 'card[exp_month]'],
    ['month as a string', { expMonth: '12' }, 'invalid_expiry_month', 'card[exp_month]'],
    ['month NaN', { expMonth: Number.NaN }, 'invalid_expiry_month', 'card[exp_month]'],
    ['month missing', { expMonth: undefined }, 'invalid_expiry_month', 'card[exp_month]'],
    ['a two-digit year', { expYear: 30 }, 'invalid_expiry_year', 'card[exp_year]'],
    ['year as a string', { expYear: '2030' }, 'invalid_expiry_year', 'card[exp_year]'],
    ['year missing', { expYear: undefined }, 'invalid_expiry_year', 'card[exp_year]'],
    ['year 21 years ahead', { expYear: 2047 }, 'invalid_expiry_year', 'card[exp_year]'],
    [
      'year Infinity',
      { expYear: Number.POSITIVE_INFINITY },
      'invalid_expiry_year',
      'card[exp_year]',
    ],
    ['last year', { expYear: 2025 }, 'expired_card', 'card[exp_year]'],
    ['last month', { expYear: 2026, expMonth: 4 }, 'expired_card', 'card[exp_month]'],
    ['CVC of 2 digits', { cvc: '12' }, 'invalid_cvc', 'card[cvc]'],
    ['CVC of 4 digits on visa', { cvc: '1234' }, 'invalid_cvc', 'card[cvc]'],
    [
      'CVC of 3 digits on amex',
      { number: '378282246310005', cvc: '123' },
      'invalid_cvc',
      'card[cvc]',
    ],
    ['CVC with a letter', { cvc: '12a' }, 'invalid_cvc', 'card[cvc]'],
    ['CVC as a number', { cvc: 123 }, 'invalid_cvc', 'card[cvc]'],
    [
      'name of 101 characters',
      { name: 'a'.repeat(101) },
      'parameter_invalid',
      'billing_details[name]',
    ],
    [
      'name with a newline',
      { name: 'Ada\nLovelace' },
      'parameter_invalid',
      'billing_details[name]',
    ],
    ['name as a number', { name: 12 }, 'parameter_invalid', 'billing_details[name]'],
    [
      'name holding the number',
      { name: `Ada ${visa}` },
      'parameter_invalid',
      'billing_details[name]',
    ],
    [
      'name holding a spaced number',
      { name: 'Ada 4242 4242 4242 4242' },
      'parameter_invalid',
      'billing_details[name]',
    ],
    [
      'name holding another number',
      { name: 'x 5555-5555-5555-4444' },
      'parameter_invalid',
      'billing_details[name]',
    ],
    ['metadata as an array', { metadata: ['a'] }, 'invalid_request', 'metadata'],
    ['metadata as a string', { metadata: 'a' }, 'invalid_request', 'metadata'],
    [
      '51 metadata keys',
      { metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) },
      'invalid_request',
      'metadata',
    ],
    [
      'a metadata key of 41 characters',
      { metadata: { ['k'.repeat(41)]: 'v' } },
      'invalid_request',
      `metadata[${'k'.repeat(41)}]`,
    ],
    ['an empty metadata key', { metadata: { '': 'v' } }, 'invalid_request', 'metadata[]'],
    [
      'a metadata key with a bracket',
      { metadata: { 'a[b]': 'v' } },
      'invalid_request',
      'metadata[a[b]]',
    ],
    [
      'a metadata value of 501 characters',
      { metadata: { order: 'v'.repeat(501) } },
      'invalid_request',
      'metadata[order]',
    ],
    [
      'a metadata value that is a number',
      { metadata: { order: 5 } },
      'invalid_request',
      'metadata[order]',
    ],
    [
      'the card number in a metadata value',
      { metadata: { note: `pan ${visa.slice(0, 8)} ${visa.slice(8)}` } },
      'invalid_request',
      'metadata[note]',
    ],
    [
      'the card number as a metadata key',
      { metadata: { [visa]: 'x' } },
      'invalid_request',
      'metadata',
    ],
  ];
  for (const [name, overrides, code, param] of invalid) {
    test(`${name} → ${code} on ${param}`, () =>
      assertVaultError(() => validateCard(card(overrides), now), code, param));
  }

  test('a card expiring this month is still valid; 20 years ahead is the limit', () => {
    assert.equal(validateCard(card({ expYear: 2026, expMonth: 5 }), now).expMonth, 5);
    assert.equal(validateCard(card({ expYear: 2046 }), now).expYear, 2046);
    // The month turns in UTC.
    assertVaultError(
      () => validateCard(card({ expYear: 2026, expMonth: 5 }), new Date('2026-06-01T00:00:00Z')),
      'expired_card',
      'card[exp_month]',
    );
  });

  test('optional fields: no CVC, no name, empty name, no metadata', () => {
    const validated = validateCard({ number: '378282246310005', expMonth: 1, expYear: 2027 }, now);
    assert.deepEqual(validated, {
      number: '378282246310005',
      brand: 'amex',
      last4: '0005',
      expMonth: 1,
      expYear: 2027,
      holderName: null,
      metadata: {},
    });
    assert.equal(validateCard(card({ name: '' }), now).holderName, null);
    assert.equal(validateCard(card({ cvc: '1234', number: '378282246310005' }), now).brand, 'amex');
    assert.deepEqual(validateCard(card({ metadata: { order: '42', empty: '' } }), now).metadata, {
      order: '42',
      empty: '',
    });
  });

  test('the validated card has no CVC', () => {
    assert.ok(!('cvc' in validateCard(card(), now)));
  });

  test('fields are checked in order: number, expiry, CVC, name, metadata', () => {
    assertVaultError(
      () => validateCard(card({ number: '4242424242424241', expMonth: 13, cvc: 'x' }), now),
      'incorrect_number',
      'card[number]',
    );
    assertVaultError(
      () => validateCard(card({ expMonth: 13, cvc: 'x' }), now),
      'invalid_expiry_month',
      'card[exp_month]',
    );
    assertVaultError(
      () => validateCard(card({ cvc: 'x', name: 5 }), now),
      'invalid_cvc',
      'card[cvc]',
    );
  });
});

describe('properties', () => {
  test('every number completed with its Luhn check digit passes', () => {
    fc.assert(fc.property(luhnNumber(2, 40), (number) => luhnValid(number)));
  });

  test('changing any one digit of a Luhn-valid number makes it fail', () => {
    fc.assert(
      fc.property(
        luhnNumber(12, 19),
        fc.nat(),
        fc.integer({ min: 1, max: 9 }),
        (number, position, shift) => {
          const index = position % number.length;
          const changed = String((Number(number[index]) + shift) % 10);
          const mutated = `${number.slice(0, index)}${changed}${number.slice(index + 1)}`;
          return !luhnValid(mutated);
        },
      ),
    );
  });

  test('swapping two adjacent different digits fails, except 09 ↔ 90', () => {
    fc.assert(
      fc.property(luhnNumber(12, 19), fc.nat(), (number, position) => {
        const index = position % (number.length - 1);
        const [a, b] = [number[index], number[index + 1]];
        fc.pre(a !== b && !((a === '0' && b === '9') || (a === '9' && b === '0')));
        return !luhnValid(`${number.slice(0, index)}${b}${a}${number.slice(index + 2)}`);
      }),
    );
  });

  test('separators anywhere do not change the number', () => {
    fc.assert(
      fc.property(
        luhnNumber(16, 16, '4'),
        fc.array(fc.constantFrom('', ' ', '-', '  '), { minLength: 16, maxLength: 16 }),
        (number, separators) => {
          const spaced = [...number]
            .map((digit, index) => `${digit}${separators[index] ?? ''}`)
            .join('');
          return spaced.length > 40 || normalizeNumber(spaced) === number;
        },
      ),
    );
  });

  test('any other character makes the number invalid', () => {
    const other = fc
      .string({ minLength: 1, maxLength: 1 })
      .filter((character) => !/[\d -]/.test(character));
    fc.assert(
      fc.property(luhnNumber(16, 16, '4'), other, fc.nat(15), (number, character, index) => {
        const broken = `${number.slice(0, index)}${character}${number.slice(index)}`;
        assertVaultError(() => validateNumber(broken), 'invalid_number', 'card[number]', number);
      }),
    );
  });

  test('generated cards of each brand validate with their brand and last4', () => {
    const brands = [
      luhnNumber(16, 16, '4').map((n) => [n, 'visa'] as const),
      luhnNumber(16, 16, '51').map((n) => [n, 'mastercard'] as const),
      luhnNumber(16, 16, '2221').map((n) => [n, 'mastercard'] as const),
      luhnNumber(15, 15, '37').map((n) => [n, 'amex'] as const),
      luhnNumber(16, 19, '6011').map((n) => [n, 'discover'] as const),
      luhnNumber(14, 19, '36').map((n) => [n, 'diners'] as const),
      luhnNumber(16, 19, '3530').map((n) => [n, 'jcb'] as const),
      luhnNumber(16, 19, '62').map((n) => [n, 'unionpay'] as const),
    ];
    fc.assert(
      fc.property(fc.oneof(...brands), ([number, brand]) => {
        const validated = validateCard(
          card({ number, cvc: brand === 'amex' ? '1234' : '123' }),
          now,
        );
        assert.equal(validated.brand, brand);
        assert.equal(validated.last4, number.slice(-4));
        assert.equal(validated.number, number);
      }),
    );
  });

  test('no error message or param ever contains the card number beyond last4', () => {
    const badField = fc.oneof(
      fc.record({ expMonth: fc.oneof(fc.integer(), fc.string()) }),
      fc.record({ expYear: fc.integer({ min: -1, max: 999 }) }),
      fc.record({ cvc: fc.string({ maxLength: 6 }) }),
      fc.record({ name: fc.string({ maxLength: 120 }) }),
      fc.record({
        metadata: fc.dictionary(fc.string({ maxLength: 45 }), fc.string({ maxLength: 20 }), {
          maxKeys: 3,
        }),
      }),
    );
    fc.assert(
      fc.property(
        luhnNumber(16, 16, '4'),
        badField,
        fc.boolean(),
        (number, overrides, breakLuhn) => {
          const brokenNumber = breakLuhn
            ? `${number.slice(0, 15)}${(Number(number[15]) + 1) % 10}`
            : number;
          // Put the number into whichever free-text field is being generated, to tempt an echo.
          const tempting = {
            ...overrides,
            ...('name' in overrides ? { name: `${overrides.name}${number}` } : {}),
          };
          try {
            validateCard(card({ ...tempting, number: brokenNumber }), now);
          } catch (error) {
            assert.ok(error instanceof VaultError);
            assertNoNumber(`${error.message} ${error.param ?? ''}`, brokenNumber);
            assertNoNumber(`${error.message} ${error.param ?? ''}`, number);
          }
        },
      ),
    );
  });

  test('redactDigits removes every run of 12 or more digits', () => {
    fc.assert(
      fc.property(fc.string(), luhnNumber(12, 19), fc.string(), (before, number, after) => {
        const redacted = redactDigits(`${before}${number}${after}`);
        assert.ok(!redacted.includes(number));
        assert.ok(!/\d{12}/.test(redacted));
      }),
    );
  });
});

describe('an unknown payment method id that is a card number is not echoed', () => {
  for (const id of [
    '4242424242424242',
    '4242 4242 4242 4242',
    '4242-4242-4242-4242',
    'pm_4242424242424242',
    '424242424242',
    '4242424242424241',
  ]) {
    test(`'${id}' gets the card-number message`, () => {
      assert.ok(looksLikeCardNumber(id));
      const message = noSuchPaymentMethodMessage(id);
      assert.match(message, /looks like a card number/);
      assertNoNumber(message, id.replace(/\D/g, ''));
    });
  }

  for (const id of ['pm_1Qx8Zr2eZvKYlo2C', 'pm_card_visa', '42424242424', 'pm_2024_11_21']) {
    test(`'${id}' is echoed as before`, () => {
      assert.ok(!looksLikeCardNumber(id));
      assert.equal(noSuchPaymentMethodMessage(id), `No such PaymentMethod: '${id}'`);
    });
  }
});

describe('maskCardNumbers', () => {
  const cases: [string, string][] = [
    [
      'url /v1/payment_methods/4242424242424242 done',
      `url /v1/payment_methods/${cardNumberMask} done`,
    ],
    ['spaced 4242 4242 4242 4242.', `spaced ${cardNumberMask}.`],
    ['dashed 3782-822463-10005', `dashed ${cardNumberMask}`],
    ['19 digits 6205500000000000004', `19 digits ${cardNumberMask}`],
    ['13 digits 4222222222222', `13 digits ${cardNumberMask}`],
    ['after other digits: 12 4242 4242 4242 4242', `after other digits: 12 ${cardNumberMask}`],
    ['glued {"param":"4000056655665556"}', `glued {"param":"${cardNumberMask}"}`],
    ['two 4242424242424242 and 5555555555554444', `two ${cardNumberMask} and ${cardNumberMask}`],
    ['Luhn-invalid 4242424242424241 stays', 'Luhn-invalid 4242424242424241 stays'],
    ['twelve digits 424242424242 stay', 'twelve digits 424242424242 stay'],
    [
      'one run of 20 digits 42424242424242424242 stays',
      'one run of 20 digits 42424242424242424242 stays',
    ],
    ['a date 2026-11-21 and an amount 1234.56', 'a date 2026-11-21 and an amount 1234.56'],
  ];
  for (const [text, masked] of cases) {
    test(JSON.stringify(text.slice(0, 30)), () => assert.equal(maskCardNumbers(text), masked));
  }

  test('a text without 13 digits in a row is returned as it is', () => {
    const text = '{"level":30,"msg":"request completed","responseTime":12.5}';
    assert.equal(maskCardNumbers(text), text);
  });

  test('any Luhn-valid 13–19 digit number, plain or grouped by 4, is masked wherever it sits', () => {
    const noDigitsAround = fc.string({ maxLength: 20 }).map((text) => text.replace(/[\d -]/g, 'x'));
    fc.assert(
      fc.property(
        noDigitsAround,
        luhnNumber(13, 19),
        fc.boolean(),
        noDigitsAround,
        (before, number, grouped, after) => {
          const written = grouped ? number.replace(/(\d{4})(?=\d)/g, '$1 ') : number;
          const masked = maskCardNumbers(`${before}${written}${after}`);
          assert.equal(masked, `${before}${cardNumberMask}${after}`);
        },
      ),
    );
  });
});
