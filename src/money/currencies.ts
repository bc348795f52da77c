import { MoneyError } from './errors.ts';

// The one table of currency exponents (digits of the minor unit). Source: ISO 4217 List One as
// published 2026-01-01 by SIX, the maintenance agency. Codes are lowercase because that is how
// Stripe-style APIs write them and how Payrail stores them.
//
// Deliberately left out:
// - fund codes (bov, che, chw, clf, cou, mxv, usn, uyi, uyw): units of account, nobody pays in them;
// - codes whose minor unit ISO lists as N.A. (metals xau/xag/xpt/xpd, xdr, xsu, xua, xba..xbd,
//   xts, xxx): they have no exponent to give;
// - withdrawn codes: ang (replaced by xcg on 2025-03-31), bgn (euro since 2026-01-01), hrk, sll.
//
// ISO, not CLDR/Intl, is followed on purpose: Intl reports 0 digits for e.g. afn, all, huf, idr,
// iqd, irr, lak, mga, sos, which would silently rescale stored minor-unit amounts. Note that Stripe
// itself treats mga as zero-decimal and huf/twd specially; a Stripe adapter must convert at its edge.
const CODES_BY_EXPONENT: ReadonlyArray<readonly [number, readonly string[]]> = [
  [
    0,
    [
      'bif',
      'clp',
      'djf',
      'gnf',
      'isk',
      'jpy',
      'kmf',
      'krw',
      'pyg',
      'rwf',
      'ugx',
      'vnd',
      'vuv',
      'xaf',
      'xof',
      'xpf',
    ],
  ],
  [
    2,
    [
      'aed',
      'afn',
      'all',
      'amd',
      'aoa',
      'ars',
      'aud',
      'awg',
      'azn',
      'bam',
      'bbd',
      'bdt',
      'bmd',
      'bnd',
      'bob',
      'brl',
      'bsd',
      'btn',
      'bwp',
      'byn',
      'bzd',
      'cad',
      'cdf',
      'chf',
      'cny',
      'cop',
      'crc',
      'cuc',
      'cup',
      'cve',
      'czk',
      'dkk',
      'dop',
      'dzd',
      'egp',
      'ern',
      'etb',
      'eur',
      'fjd',
      'fkp',
      'gbp',
      'gel',
      'ghs',
      'gip',
      'gmd',
      'gtq',
      'gyd',
      'hkd',
      'hnl',
      'htg',
      'huf',
      'idr',
      'ils',
      'inr',
      'irr',
      'jmd',
      'kes',
      'kgs',
      'khr',
      'kpw',
      'kyd',
      'kzt',
      'lak',
      'lbp',
      'lkr',
      'lrd',
      'lsl',
      'mad',
      'mdl',
      'mga',
      'mkd',
      'mmk',
      'mnt',
      'mop',
      'mru',
      'mur',
      'mvr',
      'mwk',
      'mxn',
      'myr',
      'mzn',
      'nad',
      'ngn',
      'nio',
      'nok',
      'npr',
      'nzd',
      'pab',
      'pen',
      'pgk',
      'php',
      'pkr',
      'pln',
      'qar',
      'ron',
      'rsd',
      'rub',
      'sar',
      'sbd',
      'scr',
      'sdg',
      'sek',
      'sgd',
      'shp',
      'sle',
      'sos',
      'srd',
      'ssp',
      'stn',
      'svc',
      'syp',
      'szl',
      'thb',
      'tjs',
      'tmt',
      'top',
      'try',
      'ttd',
      'twd',
      'tzs',
      'uah',
      'usd',
      'uyu',
      'uzs',
      'ved',
      'ves',
      'wst',
      'xcd',
      'xcg',
      'yer',
      'zar',
      'zmw',
      'zwg',
    ],
  ],
  [3, ['bhd', 'iqd', 'jod', 'kwd', 'lyd', 'omr', 'tnd']],
];

// A Map rather than an object literal so that 'constructor' or '__proto__' is never a currency.
const EXPONENTS: ReadonlyMap<string, number> = new Map(
  CODES_BY_EXPONENT.flatMap(([exponent, codes]) => codes.map((code) => [code, exponent] as const)),
);

/**
 * Largest absolute amount, in minor units, that any single amount may have: just under 1e11,
 * leaving bigint headroom far below Postgres bigint while covering any real payment.
 */
export const MAX_AMOUNT_MINOR = 99_999_999_999n;

export function isCurrency(code: string): boolean {
  return EXPONENTS.has(code);
}

export function currencyExponent(code: string): number {
  const exponent = EXPONENTS.get(code);
  if (exponent === undefined) throw unknownCurrency(code);
  return exponent;
}

/** All supported codes, sorted. */
export function listCurrencies(): string[] {
  return [...EXPONENTS.keys()].sort();
}

/** Per-currency cap; every currency uses the default today, this is where a cap would differ. */
export function maxAmountMinor(code: string): bigint {
  currencyExponent(code);
  return MAX_AMOUNT_MINOR;
}

function unknownCurrency(code: string): MoneyError {
  const lowercase = code.toLowerCase();
  const hint =
    lowercase !== code && EXPONENTS.has(lowercase)
      ? `; currency codes are lowercase, use '${lowercase}'`
      : '';
  return new MoneyError('unknown_currency', `unknown currency '${code}'${hint}`);
}
