import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../errors.ts';
import {
  canonicalAddress,
  checkRadarOptions,
  checkChargeAmount,
  checkReceiptEmail,
  checkReturnUrl,
  checkStatementDescriptorSuffix,
  clientSecretMatches,
  intentParameters,
  maximumChargeAmount,
  minimumChargeAmounts,
  newClientSecret,
  normalizeCurrency,
  paymentMethodChoice,
} from './intent-parameters.ts';
import { isCurrency } from '../money/index.ts';

function refusedWith(run: () => unknown, code: string, param: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof DomainError, String(error));
    assert.equal(error.code, code);
    assert.equal(error.param, param);
    return true;
  });
}

test('currency codes in any case, lowercased; unknown codes refused naming currency', () => {
  assert.equal(normalizeCurrency('USD'), 'usd');
  assert.equal(normalizeCurrency('eUr'), 'eur');
  refusedWith(() => normalizeCurrency('XYZ'), 'unknown_currency', 'currency');
});

test("Stripe's minimum per currency and its eight-digit maximum", () => {
  for (const [currency, minimum] of Object.entries(minimumChargeAmounts)) {
    assert.ok(isCurrency(currency), `${currency} is a currency`);
    checkChargeAmount(minimum, currency);
    refusedWith(() => checkChargeAmount(minimum - 1n, currency), 'amount_too_small', 'amount');
  }
  assert.throws(() => checkChargeAmount(49n, 'usd'), /Amount must be at least 0\.50 usd/);
  assert.throws(() => checkChargeAmount(49n, 'jpy'), /Amount must be at least 50 jpy/);
  // A currency Stripe lists no minimum for: any positive amount.
  checkChargeAmount(1n, 'kes');
  checkChargeAmount(maximumChargeAmount, 'usd');
  refusedWith(
    () => checkChargeAmount(maximumChargeAmount + 1n, 'usd'),
    'amount_too_large',
    'amount',
  );
  assert.throws(
    () => checkChargeAmount(100_000_000n, 'usd'),
    /Amount must be no more than 999999\.99 usd/,
  );
});

test('payment method types: card only, or automatic payment methods, never both', () => {
  assert.deepEqual(paymentMethodChoice(undefined, undefined), {
    paymentMethodTypes: ['card'],
    automaticPaymentMethods: { enabled: true },
  });
  assert.deepEqual(paymentMethodChoice(['card'], undefined), {
    paymentMethodTypes: ['card'],
    automaticPaymentMethods: null,
  });
  assert.deepEqual(paymentMethodChoice(undefined, { enabled: true, allow_redirects: 'never' }), {
    paymentMethodTypes: ['card'],
    automaticPaymentMethods: { enabled: true, allow_redirects: 'never' },
  });
  refusedWith(
    () => paymentMethodChoice(['card', 'sepa_debit'], undefined),
    'payment_method_unsupported_type',
    'payment_method_types[1]',
  );
  refusedWith(
    () => paymentMethodChoice([], undefined),
    'parameter_invalid',
    'payment_method_types',
  );
  refusedWith(
    () => paymentMethodChoice(['card'], { enabled: true }),
    'parameters_exclusive',
    'payment_method_types',
  );
  refusedWith(
    () => paymentMethodChoice(undefined, { enabled: false, allow_redirects: 'always' }),
    'parameter_invalid',
    'automatic_payment_methods[allow_redirects]',
  );
});

test("statement descriptors: Stripe's rules for the suffix; the descriptor itself refused for cards", () => {
  assert.equal(checkStatementDescriptorSuffix(undefined), null);
  for (const good of ['ORDER 42', 'A', 'x'.repeat(22), 'Shop-12 #9 & co.'])
    assert.equal(checkStatementDescriptorSuffix(good), good);
  for (const bad of [
    '',
    '12345',
    'x'.repeat(23),
    'A<B',
    'A>B',
    'A\\B',
    "A'B",
    'A"B',
    'A*B',
    'CAFÉ',
  ])
    refusedWith(
      () => checkStatementDescriptorSuffix(bad),
      'parameter_invalid',
      'statement_descriptor_suffix',
    );
  refusedWith(
    () => intentParameters({ statementDescriptor: 'MY SHOP' }, false),
    'parameter_invalid',
    'statement_descriptor',
  );
});

test('receipt email and return URL', () => {
  assert.equal(checkReceiptEmail('a.b+c@example.co.uk'), 'a.b+c@example.co.uk');
  assert.equal(checkReceiptEmail(''), null, 'an empty string clears it');
  assert.equal(checkReceiptEmail(undefined), undefined);
  for (const bad of ['nope', 'a@b', '@example.com', 'a b@example.com', `${'a'.repeat(800)}@x.io`])
    refusedWith(() => checkReceiptEmail(bad), 'email_invalid', 'receipt_email');
  assert.equal(
    checkReturnUrl('https://shop.example/done?x=1', true),
    'https://shop.example/done?x=1',
  );
  assert.equal(checkReturnUrl(undefined, false), null);
  refusedWith(
    () => checkReturnUrl('https://shop.example', false),
    'parameter_invalid',
    'return_url',
  );
  for (const bad of [
    'javascript:alert(1)',
    'ftp://x.example',
    '/relative',
    `https://x.io/${'a'.repeat(2048)}`,
  ])
    refusedWith(() => checkReturnUrl(bad, true), 'parameter_invalid', 'return_url');
});

test("client secrets: Stripe's shape, compared whole", () => {
  const secret = newClientSecret('pi_abc');
  assert.match(secret, /^pi_abc_secret_[A-Za-z0-9]{25}$/);
  assert.notEqual(newClientSecret('pi_abc'), secret);
  assert.equal(clientSecretMatches(secret, secret), true);
  assert.equal(clientSecretMatches(secret, `${secret}x`), false);
  assert.equal(clientSecretMatches(secret, secret.slice(0, -1)), false);
  assert.equal(clientSecretMatches(secret, newClientSecret('pi_abc')), false);
});

test('radar options: one spelling per IP address, a two-letter country, each refusal naming its field', () => {
  assert.equal(canonicalAddress('::ffff:203.0.113.9'), '203.0.113.9');
  assert.equal(canonicalAddress('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
  assert.equal(canonicalAddress('198.51.100.7'), '198.51.100.7');
  assert.deepEqual(checkRadarOptions({ ip_address: '::FFFF:203.0.113.9', ip_country: 'de' }), {
    ip_address: '203.0.113.9',
    ip_country: 'DE',
  });
  assert.equal(checkRadarOptions(undefined), null);
  assert.equal(checkRadarOptions({}), null);
  refusedWith(
    () => checkRadarOptions({ ip_address: '300.1.1.1' }),
    'parameter_invalid',
    'radar_options[ip_address]',
  );
  refusedWith(
    () => checkRadarOptions({ ip_country: 'DEU' }),
    'parameter_invalid',
    'radar_options[ip_country]',
  );
});
