// The test card table shared by every PSP (CONTRACT.md "Test cards") and card-data checks.
// Outcomes are PSP-neutral here; each PSP module words them its own way.

export type DeclineCode =
  'insufficient_funds' | 'lost_card' | 'stolen_card' | 'do_not_honor' | 'expired_card';

export type CardOutcome =
  | { readonly kind: 'approve' }
  | { readonly kind: 'decline'; readonly code: DeclineCode }
  /** PSP error 500; nothing is recorded. */
  | { readonly kind: 'error' }
  /** Recorded at once; the response comes after the simulator's timeout delay. */
  | { readonly kind: 'timeout' }
  /** Recorded like an approval; the connection is destroyed without a response. */
  | { readonly kind: 'lost' };

const APPROVE: CardOutcome = { kind: 'approve' };

export const TEST_CARDS: ReadonlyMap<string, CardOutcome> = new Map<string, CardOutcome>([
  ['4000000000009995', { kind: 'decline', code: 'insufficient_funds' }],
  ['4000000000009987', { kind: 'decline', code: 'lost_card' }],
  ['4000000000009979', { kind: 'decline', code: 'stolen_card' }],
  ['4000000000000002', { kind: 'decline', code: 'do_not_honor' }],
  ['4000000000000069', { kind: 'decline', code: 'expired_card' }],
  ['4000000000000119', { kind: 'error' }],
  ['4000000000000259', { kind: 'timeout' }],
  ['4000000000000341', { kind: 'lost' }],
]);

/** The outcome of authorizing a (valid) card number; any number not in the table is approved. */
export function cardOutcome(number: string): CardOutcome {
  return TEST_CARDS.get(number) ?? APPROVE;
}

export function isLuhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let index = digits.length - 1; index >= 0; index -= 1) {
    let digit = digits.charCodeAt(index) - 48;
    if (digit < 0 || digit > 9) return false;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/** A card number with spaces removed when it is 12–19 digits and passes Luhn, else undefined. */
export function normalizeCardNumber(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const digits = value.includes(' ') ? value.replaceAll(' ', '') : value;
  if (!/^\d{12,19}$/.test(digits)) return undefined;
  return isLuhnValid(digits) ? digits : undefined;
}

/** 1–12 from a JSON number or a digit string; undefined otherwise. */
export function parseExpiryMonth(value: unknown): number | undefined {
  const month = toSmallInteger(value, 2);
  return month !== undefined && month >= 1 && month <= 12 ? month : undefined;
}

/** A four-digit year (two digits mean 20xx) in 2000–2099. Only the format is checked, not whether the card has expired. */
export function parseExpiryYear(value: unknown): number | undefined {
  const year = toSmallInteger(value, 4);
  if (year === undefined) return undefined;
  const fullYear = year < 100 ? 2000 + year : year;
  return fullYear >= 2000 && fullYear <= 2099 ? fullYear : undefined;
}

export function isCvc(value: unknown): boolean {
  return typeof value === 'string' && /^\d{3,4}$/.test(value);
}

function toSmallInteger(value: unknown, digitsMax: number): number | undefined {
  if (typeof value === 'number')
    return Number.isInteger(value) && value >= 0 && value < 10 ** digitsMax ? value : undefined;
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.length > digitsMax ||
    !/^\d+$/.test(value)
  )
    return undefined;
  return Number(value);
}
