import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MAX_AMOUNT_MINOR,
  currencyExponent,
  isCurrency,
  listCurrencies,
  maxAmountMinor,
} from './currencies.ts';
import { assertMoneyError } from './assert-money-error.ts';

describe('currency table', () => {
  it('knows the ISO exponents of representative currencies', () => {
    const expected: Record<string, number> = {
      usd: 2,
      eur: 2,
      gbp: 2,
      huf: 2,
      idr: 2,
      mga: 2,
      xcg: 2,
      jpy: 0,
      krw: 0,
      clp: 0,
      vnd: 0,
      isk: 0,
      ugx: 0,
      xof: 0,
      xaf: 0,
      xpf: 0,
      bhd: 3,
      kwd: 3,
      jod: 3,
      omr: 3,
      tnd: 3,
      iqd: 3,
      lyd: 3,
    };
    for (const [code, exponent] of Object.entries(expected)) {
      assert.equal(currencyExponent(code), exponent, code);
    }
  });

  it('lists every code once, sorted, lowercase, with exponent 0, 2 or 3', () => {
    const codes = listCurrencies();
    assert.ok(codes.length >= 150, `only ${codes.length} currencies`);
    assert.deepEqual(codes, [...new Set(codes)].sort());
    for (const code of codes) {
      assert.match(code, /^[a-z]{3}$/);
      assert.ok([0, 2, 3].includes(currencyExponent(code)), code);
    }
  });

  it('returns a fresh list that callers cannot use to change the table', () => {
    listCurrencies().push('zzz');
    assert.equal(isCurrency('zzz'), false);
  });

  it('leaves out withdrawn codes, fund codes and codes without a minor unit', () => {
    for (const code of ['ang', 'bgn', 'hrk', 'clf', 'usn', 'uyi', 'xau', 'xdr', 'xxx']) {
      assert.equal(isCurrency(code), false, code);
    }
  });

  it('rejects uppercase, unknown and prototype-property names', () => {
    for (const code of ['USD', 'Usd', 'xyz', '', 'constructor', '__proto__', 'toString', ' usd']) {
      assert.equal(isCurrency(code), false, code);
      assertMoneyError(() => currencyExponent(code), 'unknown_currency');
      assertMoneyError(() => maxAmountMinor(code), 'unknown_currency');
    }
  });

  it('suggests the lowercase code when given an uppercase one', () => {
    assert.throws(() => currencyExponent('USD'), /use 'usd'/);
  });

  it('caps amounts just under 1e11 minor units', () => {
    assert.equal(MAX_AMOUNT_MINOR, 99_999_999_999n);
    assert.equal(maxAmountMinor('usd'), MAX_AMOUNT_MINOR);
  });
});
