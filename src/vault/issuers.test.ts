// The test-mode issuer table: Stripe's country cards map to their countries, anything else is
// unknown, and a lookup never sees more of a number than its BIN (first 6 or 8 digits).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { luhnCheckDigit, luhnValid, validateNumber } from './card.ts';
import {
  binOf,
  issuerCountryOf,
  testIssuerCountry,
  testIssuerRanges,
  type IssuerCountryLookup,
} from './issuers.ts';
import {
  testCard,
  testCardByNumber,
  testCardNumbers,
  testPaymentMethodIds,
  testToken,
  testTokenIds,
} from './test-cards.ts';

describe('the test issuer table', () => {
  // Stripe's "Cards by country" test numbers (docs.stripe.com/testing#international-cards).
  const stripeCountryCards: [string, string][] = [
    ['4242424242424242', 'US'],
    ['4000000760000002', 'BR'],
    ['4000001240000000', 'CA'],
    ['4000004840008001', 'MX'],
    ['4000008260000000', 'GB'],
    ['4000058260000005', 'GB'],
    ['5555558265554449', 'GB'],
    ['4000002760000016', 'DE'],
    ['4000002500000003', 'FR'],
    ['4000007240000007', 'ES'],
    ['4000003800000008', 'IT'],
    ['4000005280000002', 'NL'],
    ['4000003560000008', 'IN'],
    ['4000003920000003', 'JP'],
    ['3530111333300000', 'JP'],
    ['4000007020000003', 'SG'],
    ['4000000360000006', 'AU'],
  ];
  for (const [number, country] of stripeCountryCards) {
    test(`${number.slice(0, 8)}… is issued in ${country}`, () => {
      assert.ok(luhnValid(number), 'fixture must be Luhn-valid');
      assert.equal(issuerCountryOf(number), country);
    });
  }

  test("Stripe's US cards by brand and scenario cards are US", () => {
    for (const number of [
      '5555555555554444',
      '5105105105105100',
      '378282246310005',
      '371449635398431',
      '4000056655665556',
      '4000000000000002',
      '4000000000009995',
      '4000000000000341',
    ]) {
      assert.equal(issuerCountryOf(number), 'US', number);
    }
  });

  test('every range: its example passes Luhn and validation, starts with the prefix and maps to the country', () => {
    assert.ok(testIssuerRanges.length >= 20);
    for (const range of testIssuerRanges) {
      assert.ok(luhnValid(range.example), range.example);
      assert.equal(validateNumber(range.example).number, range.example);
      assert.ok(range.example.startsWith(range.prefix), range.example);
      assert.equal(issuerCountryOf(range.example), range.country, range.example);
    }
  });

  test('prefixes are 6 to 8 digits, no longer than the BIN of their example, and no prefix starts another', () => {
    for (const range of testIssuerRanges) {
      assert.match(range.prefix, /^\d{6,8}$/);
      assert.match(range.country, /^[A-Z]{2}$/);
      assert.ok(
        range.prefix.length <= binOf(range.example).length,
        `${range.prefix} is longer than the BIN of ${range.example}`,
      );
      for (const other of testIssuerRanges) {
        if (other !== range)
          assert.ok(
            !other.prefix.startsWith(range.prefix),
            `${range.prefix} overlaps ${other.prefix}`,
          );
      }
    }
  });

  test('anything else is unknown: null', () => {
    const unknown = [
      '4111111111111111', // a common test number, not Stripe's
      '4012888888881881',
      '6011000000000004',
      '3566000000000000',
      '6201000000000004',
      '5200000000000007',
      '4000009000000003', // 400000|900: no country's code
      '4222222222222', // 13 digits: BIN 422222
      '9999999999999995',
      '378283000000006', // amex, but not 378282
    ];
    for (const number of unknown) {
      assert.ok(luhnValid(number), `${number} must be Luhn-valid`);
      assert.equal(issuerCountryOf(number), null, number);
    }
  });

  test("documented limit of 8 digits: a BIN that several of Stripe's countries share reads as the first (the vault reads Stripe's own numbers from the catalogue instead)", () => {
    assert.equal(issuerCountryOf('4000000320000021'), 'AU');
    assert.equal(issuerCountryOf('4000007030000001'), 'SG');
    assert.equal(issuerCountryOf('4000007050000006'), 'SG');
    assert.equal(issuerCountryOf('4000001560000002'), 'CL');
  });
});

describe('a lookup sees only the BIN', () => {
  test('8 digits of a number of 16 or more digits, 6 of a shorter one', () => {
    assert.equal(binOf('4000000760000002'), '40000007');
    assert.equal(binOf('4000000000000000003'), '40000000');
    assert.equal(binOf('378282246310005'), '378282');
    assert.equal(binOf('36227206271667'), '362272');
    assert.equal(binOf('4222222222222'), '422222');
  });

  /** Luhn-valid numbers of 12 to 19 digits. */
  const numbers = fc
    .string({ unit: fc.constantFrom(...'0123456789'), minLength: 11, maxLength: 18 })
    .map((body) => `${body}${luhnCheckDigit(body)}`);

  test('the lookup is called with the BIN alone; the answer depends on nothing past it', () => {
    fc.assert(
      fc.property(
        numbers,
        fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 19, maxLength: 19 }),
        (number, otherDigits) => {
          const seen: string[] = [];
          const spy: IssuerCountryLookup = (bin) => {
            seen.push(bin);
            return testIssuerCountry(bin);
          };
          const country = issuerCountryOf(number, spy);
          const bin = binOf(number);
          assert.deepEqual(seen, [bin]);
          assert.ok(bin.length === (number.length >= 16 ? 8 : 6));
          // Same BIN, any other digits after it: same country.
          const sibling = `${bin}${otherDigits}`.slice(0, number.length);
          assert.equal(issuerCountryOf(sibling), country);
        },
      ),
      { numRuns: 500 },
    );
    // And every table card in particular: the lookup saw at most 8 of its digits.
    for (const range of testIssuerRanges) {
      let seen = '';
      issuerCountryOf(range.example, (bin) => {
        seen = bin;
        return null;
      });
      assert.ok(seen.length <= 8 && range.example.startsWith(seen), range.example);
      assert.ok(
        seen.length < range.example.length - 4,
        'the BIN and last4 never make up the whole number',
      );
    }
  });

  test('a lookup answering something other than an alpha-2 code or null is a bug: it throws, without the number', () => {
    for (const answer of ['us', 'USA', '', 'U1', undefined, 42]) {
      const lookup = (() => answer) as unknown as IssuerCountryLookup;
      assert.throws(
        () => issuerCountryOf('4242424242424242', lookup),
        (error: unknown) => {
          assert.ok(error instanceof Error);
          assert.match(error.message, /alpha-2/);
          assert.ok(!error.message.includes('424242'));
          return true;
        },
      );
    }
  });
});

describe('test payment methods have a country', () => {
  test("a country id (pm_card_xx, tok_xx) is that country's card; every other id has its card's documented country", () => {
    let countryIds = 0;
    for (const id of [...testPaymentMethodIds, ...testTokenIds]) {
      const card = id.startsWith('tok_') ? testToken(id) : testCard(id);
      assert.ok(card !== undefined, id);
      assert.ok(luhnValid(card.number), id);
      assert.equal(card.country, testCardByNumber(card.number)?.country, id);
      const suffix = /^(?:pm_card|tok)_([a-z]{2})$/.exec(id)?.[1];
      if (suffix !== undefined) {
        countryIds += 1;
        assert.equal(card.country, suffix.toUpperCase(), id);
      }
    }
    assert.ok(countryIds >= 2 * 50, `${countryIds} country ids`);
  });

  test('the BIN table agrees with the catalogue for every Stripe number, but where a BIN is shared (documented above)', () => {
    const shared = new Set([
      '4000000320000021', // AR reads as AU
      '4000006040000068', // PE as PY
      '4000001960000008', // CY as HR
      '4000002080000001', // DK as CZ
      '4000004420000006', // LU as LT
      '4000007050000006', // SI as SG
      '4000007030000001', // SK as SG
      '4000007560000009', // CH as SE
      '4000001560000002', // CN as CL
      '4000003440000004', // HK as HU
      '4000001580000008', // TW as CL
    ]);
    for (const number of testCardNumbers) {
      const documented = testCardByNumber(number)?.country;
      if (shared.has(number)) assert.notEqual(issuerCountryOf(number), documented, number);
      else assert.equal(issuerCountryOf(number), documented, number);
    }
  });
});
