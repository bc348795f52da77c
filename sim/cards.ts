// The test card table shared by every PSP (CONTRACT.md "Test cards") and card-data checks.
// Outcomes are PSP-neutral here; each PSP module words them its own way.

// Each number answers as docs.stripe.com/testing documents it (the decline code names Stripe's
// `decline_code`); the simulator has no 3-D Secure, so a card that needs authentication is
// declined with authentication_required, and one whose 3DS lookup fails card_declined.
export type DeclineCode =
  | 'generic_decline'
  | 'insufficient_funds'
  | 'lost_card'
  | 'stolen_card'
  | 'expired_card'
  | 'incorrect_cvc'
  | 'processing_error'
  | 'card_velocity_exceeded'
  | 'fraudulent'
  | 'authentication_required';

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
const decline = (code: DeclineCode): CardOutcome => ({ kind: 'decline', code });

export const TEST_CARDS: ReadonlyMap<string, CardOutcome> = new Map<string, CardOutcome>([
  // Declined payments.
  ['4000000000000002', decline('generic_decline')],
  ['4000000000009995', decline('insufficient_funds')],
  ['4000000000009987', decline('lost_card')],
  ['4000000000009979', decline('stolen_card')],
  ['4000000000000069', decline('expired_card')],
  ['4000000000000127', decline('incorrect_cvc')],
  ['4000000000000119', decline('processing_error')],
  ['4000000000006975', decline('card_velocity_exceeded')],
  // Attaching to a customer succeeds; every charge is declined.
  ['4000000000000341', decline('generic_decline')],
  // Fraud prevention: always blocked, and highest risk (blocked by the default rule).
  ['4100000000000019', decline('fraudulent')],
  ['4000000000004954', decline('fraudulent')],
  // 3-D Secure required (no 3DS here); a failing 3DS lookup is declined card_declined (Stripe).
  ['4000002500003155', decline('authentication_required')],
  ['4000002760003184', decline('authentication_required')],
  ['4000003800000446', decline('authentication_required')],
  ['4000008260003178', decline('authentication_required')],
  ['4000000000003220', decline('authentication_required')],
  ['4000000000003063', decline('authentication_required')],
  ['4000008400001629', decline('authentication_required')],
  ['4000008400001280', decline('generic_decline')],
  // The simulator's own faults, on numbers Stripe does not list.
  ['4000009990000013', { kind: 'error' }],
  ['4000009990000021', { kind: 'timeout' }],
  ['4000009990000039', { kind: 'lost' }],
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
