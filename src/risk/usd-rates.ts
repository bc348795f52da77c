// Reference rates for `:amount_in_usd:` (Radar's attribute): US dollars per one unit of each
// currency. A rule threshold in dollars needs only an order of magnitude, so the table is a fixed,
// documented reference (mid-2026 rates, rounded), not a live feed; a currency not listed has no
// amount_in_usd (rules on it do not match, as on any missing attribute).
import { currencyExponent } from '../money/index.ts';

export type UsdRates = Readonly<Record<string, number>>;

export const referenceUsdRates: UsdRates = {
  usd: 1,
  eur: 1.08,
  gbp: 1.27,
  chf: 1.12,
  cad: 0.73,
  aud: 0.66,
  nzd: 0.6,
  jpy: 0.0066,
  cny: 0.14,
  hkd: 0.128,
  sgd: 0.74,
  inr: 0.012,
  brl: 0.18,
  mxn: 0.055,
  sek: 0.095,
  nok: 0.093,
  dkk: 0.145,
  pln: 0.25,
  czk: 0.043,
  huf: 0.0027,
  ron: 0.22,
  aed: 0.272,
  thb: 0.028,
  myr: 0.21,
  zar: 0.054,
  krw: 0.00073,
  bhd: 2.65,
  kwd: 3.25,
};

/** The amount in US dollars, rounded to cents; undefined without a rate for the currency. */
export function amountInUsd(amount: bigint, currency: string, rates: UsdRates): number | undefined {
  const rate = rates[currency];
  if (rate === undefined) return undefined;
  const major = Number(amount) / 10 ** currencyExponent(currency);
  return Math.round(major * rate * 100) / 100;
}
