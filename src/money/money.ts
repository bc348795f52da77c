// Amounts are integers of minor units (cents, fils, yen) held as bigint; floats never appear,
// because a float cannot hold 0.1 and a payment ledger must be exact.
import { currencyExponent, maxAmountMinor } from './currencies.ts';
import { MoneyError } from './errors.ts';

export { MoneyError } from './errors.ts';
export type { MoneyErrorCode } from './errors.ts';

export type Rounding = 'half_up' | 'down';

// Optional minus, whole digits, optional fraction with at least one digit. No '+', exponent,
// whitespace, grouping separators, or bare '1.' / '.5': inputs are canonical or rejected.
const DECIMAL_PATTERN = /^(-?)(\d+)(?:\.(\d+))?$/;

// More significant digits than this are certainly over any cap. Checked before BigInt(), whose
// cost grows faster than linearly, so a megabyte of digits is rejected without converting it.
const MAX_SIGNIFICANT_DIGITS = 30;

/** Parses a major-unit decimal ('12.34') into minor units (1234n for usd). */
export function parseDecimal(text: string, currency: string): bigint {
  const exponent = currencyExponent(currency);
  const match = DECIMAL_PATTERN.exec(text);
  if (match === null) {
    throw new MoneyError(
      'invalid_amount',
      `'${truncate(text)}' is not a decimal amount like '12.34'`,
    );
  }
  const [, sign = '', whole = '', fraction = ''] = match;
  if (fraction.length > exponent) {
    throw new MoneyError(
      'invalid_amount',
      `${currency} allows at most ${exponent} decimal places, got '${truncate(text)}'`,
    );
  }
  const significantWhole = withoutLeadingZeros(whole);
  if (significantWhole.length > MAX_SIGNIFICANT_DIGITS) {
    throw new MoneyError(
      'amount_too_large',
      `'${truncate(text)}' exceeds the maximum for ${currency}`,
    );
  }
  const magnitude = BigInt(significantWhole + fraction.padEnd(exponent, '0'));
  const amount = sign === '-' ? -magnitude : magnitude;
  assertWithinMax(amount, currency);
  return amount;
}

/** Formats minor units as a major-unit decimal with exactly the currency's exponent of places. */
export function formatDecimal(amount: bigint, currency: string): string {
  const exponent = currencyExponent(currency);
  const sign = amount < 0n ? '-' : '';
  const digits = absolute(amount).toString();
  if (exponent === 0) return sign + digits;
  const padded = digits.padStart(exponent + 1, '0');
  return `${sign}${padded.slice(0, -exponent)}.${padded.slice(-exponent)}`;
}

// Digits only (with an optional minus, so '-5' reports "not positive" rather than "not an integer").
const INTEGER_PATTERN = /^-?\d+$/;

/**
 * Validates an API-supplied amount in minor units: a bigint, a safe integer number, or an
 * integer string. Errors carry `param` so the API can point at the offending field.
 */
export function assertPositiveAmount(value: unknown, param: string, currency: string): bigint {
  const amount = toInteger(value, param, currency);
  if (amount <= 0n) throw notPositive(param);
  if (amount > maxAmountMinor(currency)) throw tooLarge(param, currency);
  return amount;
}

function toInteger(value: unknown, param: string, currency: string): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'string' && INTEGER_PATTERN.test(value))
    return integerFromText(value, param, currency);
  throw new MoneyError(
    'invalid_amount',
    `${param} must be an integer number of minor units`,
    param,
  );
}

function integerFromText(text: string, param: string, currency: string): bigint {
  const negative = text.startsWith('-');
  const significant = withoutLeadingZeros(negative ? text.slice(1) : text);
  if (significant.length > MAX_SIGNIFICANT_DIGITS) {
    throw negative ? notPositive(param) : tooLarge(param, currency);
  }
  const magnitude = BigInt(significant);
  return negative ? -magnitude : magnitude;
}

function notPositive(param: string): MoneyError {
  return new MoneyError('amount_not_positive', `${param} must be greater than zero`, param);
}

function tooLarge(param: string, currency: string): MoneyError {
  const max = maxAmountMinor(currency);
  return new MoneyError(
    'amount_too_large',
    `${param} must be at most ${max} minor units for ${currency}`,
    param,
  );
}

const BASIS_POINTS_PER_WHOLE = 10_000n;

/** `basisPoints` of `amount` (290 bps of 10000n is 290n); half_up rounds half away from zero. */
export function percentageOf(
  amount: bigint,
  basisPoints: bigint,
  rounding: Rounding = 'half_up',
): bigint {
  return divideRounded(amount * basisPoints, BASIS_POINTS_PER_WHOLE, rounding);
}

/** Integer division with explicit rounding; bigint `/` alone truncates toward zero. */
function divideRounded(numerator: bigint, denominator: bigint, rounding: Rounding): bigint {
  const quotient = numerator / denominator;
  const remainder = numerator % denominator;
  if (rounding === 'down' || absolute(remainder) * 2n < absolute(denominator)) return quotient;
  const awayFromZero = numerator < 0n !== denominator < 0n ? -1n : 1n;
  return quotient + awayFromZero;
}

function assertWithinMax(amount: bigint, currency: string): void {
  const max = maxAmountMinor(currency);
  if (absolute(amount) > max) {
    throw new MoneyError(
      'amount_too_large',
      `amount ${amount} exceeds the maximum of ${max} minor units for ${currency}`,
    );
  }
}

function absolute(value: bigint): bigint {
  return value < 0n ? -value : value;
}

/** Keeps at least one digit, so '000' becomes '0'. */
function withoutLeadingZeros(digits: string): string {
  return digits.replace(/^0+(?=\d)/, '');
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
