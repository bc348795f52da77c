// The simulator's own fee schedule for settled items (CONTRACT.md "Money out: fee schedule"): what
// each PSP charges per capture, so that its settlement reports can differ from what Payrail expected.
// Integer arithmetic only: each component is rounded half up separately, in minor units.
import { isPlainObject } from '../json.ts';

export type FeeSchedule = {
  /** Commission in basis points of the gross amount (1 bp = 0.01 %). */
  readonly commissionBps: number;
  /** Fixed commission per capture, minor units. */
  readonly commissionFixed: number;
  readonly markupBps: number;
  readonly schemeFeeBps: number;
  readonly interchangeBps: number;
  /** Tax on the sum of the fees above (Razorpay/Paytm GST), basis points. */
  readonly taxBps: number;
  /** Fee on a refund, fixed minor units (0 by default: the PSP keeps the capture's fee). */
  readonly refundFixed: number;
};

export type FeeBreakdown = {
  readonly commission: number;
  readonly markup: number;
  readonly schemeFee: number;
  readonly interchange: number;
  readonly tax: number;
  /** Everything above added up: what the PSP keeps. */
  readonly total: number;
};

const ZERO: FeeSchedule = {
  commissionBps: 0,
  commissionFixed: 0,
  markupBps: 0,
  schemeFeeBps: 0,
  interchangeBps: 0,
  taxBps: 0,
  refundFixed: 0,
};

export const DEFAULT_FEES: Readonly<Record<string, FeeSchedule>> = {
  stripe: { ...ZERO, commissionBps: 290, commissionFixed: 30 },
  adyen: { ...ZERO, commissionFixed: 11, markupBps: 60, schemeFeeBps: 2, interchangeBps: 30 },
  razorpay: { ...ZERO, commissionBps: 200, taxBps: 1800 },
  paytm: { ...ZERO, commissionBps: 199, taxBps: 1800 },
};

const FIELDS = Object.keys(ZERO) as (keyof FeeSchedule)[];

/** amount × bps / 10000, rounded half up (amount ≥ 0; exact below 2^53: amount ≤ 1e11, bps ≤ 1e4). */
export function basisPoints(amount: number, bps: number): number {
  return Math.floor((amount * bps + 5000) / 10000);
}

export function captureFees(schedule: FeeSchedule, amount: number): FeeBreakdown {
  const commission = basisPoints(amount, schedule.commissionBps) + schedule.commissionFixed;
  const markup = basisPoints(amount, schedule.markupBps);
  const schemeFee = basisPoints(amount, schedule.schemeFeeBps);
  const interchange = basisPoints(amount, schedule.interchangeBps);
  const tax = basisPoints(commission + markup + schemeFee + interchange, schedule.taxBps);
  return {
    commission,
    markup,
    schemeFee,
    interchange,
    tax,
    total: commission + markup + schemeFee + interchange + tax,
  };
}

export function refundFees(schedule: FeeSchedule): FeeBreakdown {
  const commission = schedule.refundFixed;
  const tax = basisPoints(commission, schedule.taxBps);
  return { commission, markup: 0, schemeFee: 0, interchange: 0, tax, total: commission + tax };
}

export function itemFees(schedule: FeeSchedule, type: 'capture' | 'refund', amount: number) {
  return type === 'capture' ? captureFees(schedule, amount) : refundFees(schedule);
}

/** itemFees(…).total without building the breakdown (the acquirer's per-item hot path). */
export function itemFeeTotal(schedule: FeeSchedule, capture: boolean, amount: number): number {
  if (!capture) return schedule.refundFixed + basisPoints(schedule.refundFixed, schedule.taxBps);
  const fees =
    basisPoints(amount, schedule.commissionBps) +
    schedule.commissionFixed +
    basisPoints(amount, schedule.markupBps) +
    basisPoints(amount, schedule.schemeFeeBps) +
    basisPoints(amount, schedule.interchangeBps);
  return fees + basisPoints(fees, schedule.taxBps);
}

/** Validates a PUT /_sim/fees/:psp body: the fields given replace the defaults. */
export function parseFeeSchedule(
  value: unknown,
  base: FeeSchedule,
): { ok: true; schedule: FeeSchedule } | { ok: false; message: string } {
  if (!isPlainObject(value)) return { ok: false, message: 'body must be a JSON object' };
  const schedule: Record<string, number> = { ...base };
  for (const [key, raw] of Object.entries(value)) {
    if (!FIELDS.includes(key as keyof FeeSchedule))
      return { ok: false, message: `unknown field "${key}"; fields are ${FIELDS.join(', ')}` };
    const max = key === 'commissionFixed' || key === 'refundFixed' ? 1_000_000 : 10_000;
    if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < 0 || raw > max)
      return { ok: false, message: `${key} must be an integer from 0 to ${max}` };
    schedule[key] = raw;
  }
  return { ok: true, schedule: schedule as FeeSchedule };
}

const ZERO_DECIMAL = new Set(
  'bif clp djf gnf isk jpy kmf krw mga pyg rwf ugx uyi vnd vuv xaf xof xpf'.split(' '),
);
const THREE_DECIMAL = new Set('bhd iqd jod kwd lyd omr tnd'.split(' '));

/** Digits after the decimal point of a currency (ISO 4217), for major-unit decimal strings. */
export function currencyExponent(currency: string): number {
  const code = currency.toLowerCase();
  if (ZERO_DECIMAL.has(code)) return 0;
  if (THREE_DECIMAL.has(code)) return 3;
  return 2;
}

/** Minor units as a major-unit decimal string: 12345 usd → "123.45", -5 → "-0.05", 7 jpy → "7". */
export function decimalString(minor: number, currency: string): string {
  const exponent = currencyExponent(currency);
  const negative = minor < 0;
  const digits = String(Math.abs(minor)).padStart(exponent + 1, '0');
  const whole = exponent === 0 ? digits : digits.slice(0, digits.length - exponent);
  const fraction = exponent === 0 ? '' : `.${digits.slice(digits.length - exponent)}`;
  return `${negative ? '-' : ''}${whole}${fraction}`;
}
