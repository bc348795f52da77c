// The test card table shared by every PSP (CONTRACT.md "Test cards") and card-data checks.
// Outcomes are PSP-neutral here; each PSP module words them its own way.

// Each number answers as docs.stripe.com/testing documents it (the decline code names Stripe's
// `decline_code`). A card that requires authentication is declined with authentication_required
// unless the authorization carries valid 3-D Secure data (a cryptogram the simulator's own 3DS
// server issued for this card, amount and currency: three-d-secure.ts); with it, the card gives
// its outcome after authentication. One whose 3DS lookup fails is declined card_declined.
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
  // 3-D Secure required: the outcome without authentication (AUTHENTICATION_REQUIRED has the
  // one after it). A card whose 3DS lookup fails is declined card_declined (Stripe).
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

/**
 * The cards that require 3-D Secure authentication, with their outcome once authenticated: without
 * valid 3DS data every one is declined authentication_required (TEST_CARDS; docs.stripe.com/testing
 * "Regulatory (SCA) test cards" and "3D Secure support"). There are no sessions here, so "requires
 * authentication on session" cards require it on every authorization.
 */
export const AUTHENTICATION_REQUIRED: ReadonlyMap<string, CardOutcome> = new Map<
  string,
  CardOutcome
>([
  ['4000002500003155', APPROVE],
  ['4000002760003184', APPROVE],
  ['4000003800000446', APPROVE],
  ['4000008260003178', decline('insufficient_funds')],
  ['4000000000003220', APPROVE],
  ['4000000000003063', APPROVE],
  ['4000008400001629', decline('generic_decline')],
]);

/**
 * What the authorization carries of 3-D Secure: nothing, data the simulator's 3DS server vouches
 * for (status Y or A, this card, amount and currency), or data it does not.
 */
export type AuthenticationEvidence = 'none' | 'valid' | 'invalid';

/**
 * The outcome of authorizing a (valid) card number; any number in neither table is approved.
 * 3-D Secure data that does not verify is declined authentication_required whatever the card:
 * the issuer refuses a cryptogram it did not issue.
 */
export function cardOutcome(
  number: string,
  evidence: AuthenticationEvidence = 'none',
): CardOutcome {
  if (evidence === 'invalid') return decline('authentication_required');
  const afterAuthentication =
    evidence === 'valid' ? AUTHENTICATION_REQUIRED.get(number) : undefined;
  return afterAuthentication ?? TEST_CARDS.get(number) ?? APPROVE;
}

/**
 * How the simulator's 3-D Secure server answers for a card (three-d-secure.ts):
 * - challenge: always a challenge (C), whatever the requestor prefers;
 * - enrolled: frictionless Y, a challenge when the requestor asks for one (any card not listed);
 * - not_enrolled: attempts processing (A, liability shifts): Stripe's `attempt_acknowledged`;
 * - not_supported: U, 3-D Secure cannot be invoked; lookup_error: U, a processing error;
 * - not_authenticated (N) and rejected (R): frictionless failures, on Payrail's own numbers.
 */
export type ThreeDSecureBehaviour =
  | 'challenge'
  | 'enrolled'
  | 'not_enrolled'
  | 'not_supported'
  | 'lookup_error'
  | 'not_authenticated'
  | 'rejected';

const THREE_D_SECURE_CARDS: ReadonlyMap<string, ThreeDSecureBehaviour> = new Map<
  string,
  ThreeDSecureBehaviour
>([
  ...[...AUTHENTICATION_REQUIRED.keys()].map((number): [string, ThreeDSecureBehaviour] => [
    number,
    'challenge',
  ]),
  ['4000008400001280', 'lookup_error'],
  ['4000000000003097', 'lookup_error'],
  ['4242424242424242', 'not_enrolled'],
  ['378282246310005', 'not_supported'],
  // Mobile challenge flows (out of band, one-time passcode, single and multi select): a challenge.
  ['4000582600000094', 'challenge'],
  ['4000582600000045', 'challenge'],
  ['4000582600000102', 'challenge'],
  ['4000582600000110', 'challenge'],
  // Payrail's own, on numbers Stripe does not list: frictionless failures.
  ['4000009990000047', 'not_authenticated'],
  ['4000009990000054', 'rejected'],
]);

export function threeDSecureBehaviour(number: string): ThreeDSecureBehaviour {
  return THREE_D_SECURE_CARDS.get(number) ?? 'enrolled';
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
