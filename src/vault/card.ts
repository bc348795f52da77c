// Card validation: pure functions, no I/O. Everything a card must satisfy before the vault
// encrypts it, with Stripe's error codes and parameter names. Messages are fixed text and never
// contain the number (architecture §1 rule 8).
import { VaultError, redactDigits } from './errors.ts';

export { VaultError, VaultDecryptionError, type VaultErrorCode, type CardParam } from './errors.ts';

export type CardBrand =
  'visa' | 'mastercard' | 'amex' | 'discover' | 'diners' | 'jcb' | 'unionpay' | 'unknown';

export const holderNameLengthMax = 100;
export const expiryYearsAheadMax = 20;
import { metadataKeysMax } from '../metadata.ts';
export { metadataKeysMax };
export const metadataKeyLengthMax = 40;
export const metadataValueLengthMax = 500;
/** Longest number string accepted before separators are stripped (19 digits plus separators). */
const rawNumberLengthMax = 40;

type BrandRule = {
  readonly brand: Exclude<CardBrand, 'unknown'>;
  readonly matches: (digits: string) => boolean;
  readonly lengths: readonly number[];
};

function prefixInRange(digits: string, width: number, low: number, high: number): boolean {
  const prefix = Number(digits.slice(0, width));
  return digits.length >= width && prefix >= low && prefix <= high;
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, index) => from + index);

// Order matters only where ranges would overlap; they do not here. 622126–622925 is co-branded
// Discover/UnionPay and reported as unionpay, as Stripe does for its 62… test cards.
const brandRules: readonly BrandRule[] = [
  { brand: 'amex', matches: (d) => /^3[47]/.test(d), lengths: [15] },
  { brand: 'diners', matches: (d) => /^3(?:0[0-5]|095|[689])/.test(d), lengths: range(14, 19) },
  { brand: 'jcb', matches: (d) => prefixInRange(d, 4, 3528, 3589), lengths: range(16, 19) },
  { brand: 'visa', matches: (d) => d.startsWith('4'), lengths: [13, 16, 19] },
  {
    brand: 'mastercard',
    matches: (d) => prefixInRange(d, 2, 51, 55) || prefixInRange(d, 4, 2221, 2720),
    lengths: [16],
  },
  { brand: 'discover', matches: (d) => /^(?:6011|64[4-9]|65)/.test(d), lengths: range(16, 19) },
  { brand: 'unionpay', matches: (d) => /^(?:62|81)/.test(d), lengths: range(16, 19) },
];
const unknownBrandLengths = range(12, 19);

/** The brand a number (digits only) belongs to, from its leading digits alone. */
export function brandOf(digits: string): CardBrand {
  return brandRules.find((rule) => rule.matches(digits))?.brand ?? 'unknown';
}

export function validLengths(brand: CardBrand): readonly number[] {
  return brandRules.find((rule) => rule.brand === brand)?.lengths ?? unknownBrandLengths;
}

export function cvcLength(brand: CardBrand): number {
  return brand === 'amex' ? 4 : 3;
}

/** Luhn (mod 10) checksum over a string of digits. */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let index = 0; index < digits.length; index++) {
    let digit = digits.charCodeAt(digits.length - 1 - index) - 48;
    if (index % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** The digit that makes `payload + digit` pass the Luhn check. */
export function luhnCheckDigit(payload: string): string {
  for (let digit = 0; digit <= 9; digit++) {
    if (luhnValid(`${payload}${digit}`)) return String(digit);
  }
  throw new Error('luhnCheckDigit: payload must be digits');
}

/** Strips spaces and dashes; anything else that is not a digit makes the number invalid. */
export function normalizeNumber(raw: unknown): string {
  if (typeof raw !== 'string' || raw.length > rawNumberLengthMax) {
    throw new VaultError(
      'invalid_number',
      'The card number is not a valid credit card number.',
      'card[number]',
    );
  }
  const digits = raw.replace(/[ -]/g, '');
  if (!/^\d+$/.test(digits)) {
    throw new VaultError(
      'invalid_number',
      'The card number is not a valid credit card number.',
      'card[number]',
    );
  }
  return digits;
}

/** A normalized, brand-checked, Luhn-checked number. */
export function validateNumber(raw: unknown): { number: string; brand: CardBrand; last4: string } {
  const number = normalizeNumber(raw);
  const brand = brandOf(number);
  if (!validLengths(brand).includes(number.length)) {
    throw new VaultError(
      'invalid_number',
      'The card number has the wrong number of digits for its card brand.',
      'card[number]',
    );
  }
  if (!luhnValid(number)) {
    throw new VaultError('incorrect_number', 'The card number is incorrect.', 'card[number]');
  }
  return { number, brand, last4: number.slice(-4) };
}

/**
 * True when the text holds what may be a card number: a run of 12 or more digits, spaces or
 * dashes between them allowed (the shape `redactDigits` removes).
 */
export function looksLikeCardNumber(text: string): boolean {
  return redactDigits(text) !== text;
}

/**
 * The message for a payment method id that names nothing. An id that looks like a card number
 * is not echoed: the message reaches the client, stored idempotent replies and logs.
 */
export function noSuchPaymentMethodMessage(id: string): string {
  if (looksLikeCardNumber(id)) {
    return 'No such PaymentMethod: the id looks like a card number. Create a PaymentMethod with it first (POST /v1/payment_methods) and pass its id.';
  }
  return `No such PaymentMethod: '${id}'`;
}

export const cardNumberMask = '[redacted card number]';
const cardNumberLengthMin = 13;
const cardNumberLengthMax = 19;
/** A run of at least 13 digits, single spaces or dashes between them allowed. */
const digitRun = /\d(?:[ -]?\d){12,}/g;
const digitRunPresent = /\d(?:[ -]?\d){12}/;

/**
 * Replaces every Luhn-valid run of 13 to 19 digits (single spaces or dashes between groups of
 * digits allowed) with `cardNumberMask`. A longer run is searched group by group, so a card
 * number written after other digits ("order 12 4242 4242 4242 4242") is still found; one
 * unbroken run of more than 19 digits is not a card number as written and is left alone.
 * Returns the same string when there is nothing to mask.
 */
export function maskCardNumbers(text: string): string {
  if (!digitRunPresent.test(text)) return text;
  return text.replace(digitRun, maskRun);
}

function maskRun(run: string): string {
  const groups = run.split(/[ -]/);
  const separators = run.match(/[ -]/g) ?? [];
  let masked = '';
  let index = 0;
  while (index < groups.length) {
    const end = cardNumberEnd(groups, index);
    masked += end === undefined ? (groups[index] ?? '') : cardNumberMask;
    index = end ?? index;
    masked += separators[index] ?? '';
    index += 1;
  }
  return masked;
}

/**
 * The last group of the longest Luhn-valid 13–19 digit number that starts at group `start`, if
 * there is one (the longest, so that a 19-digit number whose first 16 digits happen to pass
 * Luhn is masked whole).
 */
function cardNumberEnd(groups: readonly string[], start: number): number | undefined {
  let digits = '';
  let found: number | undefined;
  for (let end = start; end < groups.length; end++) {
    digits += groups[end] ?? '';
    if (digits.length > cardNumberLengthMax) break;
    if (digits.length >= cardNumberLengthMin && luhnValid(digits)) found = end;
  }
  return found;
}

/** Cards are valid through the last day of their expiry month; `now` is read in UTC. */
export function validateExpiry(
  expMonth: unknown,
  expYear: unknown,
  now: Date,
): { expMonth: number; expYear: number } {
  if (
    typeof expMonth !== 'number' ||
    !Number.isInteger(expMonth) ||
    expMonth < 1 ||
    expMonth > 12
  ) {
    throw new VaultError(
      'invalid_expiry_month',
      "The card's expiration month is invalid (1 to 12).",
      'card[exp_month]',
    );
  }
  const currentYear = now.getUTCFullYear();
  const currentMonth = now.getUTCMonth() + 1;
  if (
    typeof expYear !== 'number' ||
    !Number.isInteger(expYear) ||
    expYear < 1000 ||
    expYear > 9999
  ) {
    throw new VaultError(
      'invalid_expiry_year',
      "The card's expiration year is invalid (four digits).",
      'card[exp_year]',
    );
  }
  if (expYear > currentYear + expiryYearsAheadMax) {
    throw new VaultError(
      'invalid_expiry_year',
      `The card's expiration year is more than ${expiryYearsAheadMax} years ahead.`,
      'card[exp_year]',
    );
  }
  if (expYear < currentYear)
    throw new VaultError('expired_card', 'The card has expired.', 'card[exp_year]');
  if (expYear === currentYear && expMonth < currentMonth)
    throw new VaultError('expired_card', 'The card has expired.', 'card[exp_month]');
  return { expMonth, expYear };
}

/** The CVC is checked and then dropped: the vault never stores it. */
export function validateCvc(cvc: unknown, brand: CardBrand): void {
  if (cvc === undefined || cvc === null) return;
  const length = cvcLength(brand);
  if (typeof cvc !== 'string' || cvc.length !== length || !/^\d+$/.test(cvc)) {
    throw new VaultError(
      'invalid_cvc',
      `The card's security code must be ${length} digits.`,
      'card[cvc]',
    );
  }
}

/** Undefined, null and '' mean "no name". */
export function validateHolderName(name: unknown, number: string): string | null {
  if (name === undefined || name === null || name === '') return null;
  if (typeof name !== 'string')
    throw new VaultError(
      'parameter_invalid',
      'The cardholder name (billing_details[name]) must be a string.',
      'billing_details[name]',
    );
  if (name.length > holderNameLengthMax) {
    throw new VaultError(
      'parameter_invalid',
      `The cardholder name (billing_details[name]) must be at most ${holderNameLengthMax} characters.`,
      'billing_details[name]',
    );
  }
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    throw new VaultError(
      'parameter_invalid',
      'The cardholder name (billing_details[name]) must not contain control characters.',
      'billing_details[name]',
    );
  }
  // holder_name is a plaintext column: a card number pasted into it would be stored in the clear.
  if (redactDigits(name) !== name || containsNumber(name, number)) {
    throw new VaultError(
      'parameter_invalid',
      'The cardholder name (billing_details[name]) must not contain a card number.',
      'billing_details[name]',
    );
  }
  return name;
}

function containsNumber(text: string, number: string): boolean {
  return text.replace(/\D/g, '').includes(number);
}

function metadataParam(key: string): string {
  const safe = redactDigits(key);
  return safe === key ? `metadata[${key}]` : 'metadata';
}

/** Stripe's limits: 50 keys, keys up to 40 characters without brackets, string values up to 500. */
export function validateMetadata(metadata: unknown, number: string): Record<string, string> {
  if (metadata === undefined || metadata === null) return {};
  if (typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new VaultError(
      'invalid_request',
      'Metadata must be an object of string values.',
      'metadata',
    );
  }
  const entries = Object.entries(metadata);
  if (entries.length > metadataKeysMax) {
    throw new VaultError(
      'invalid_request',
      `Metadata can have at most ${metadataKeysMax} keys.`,
      'metadata',
    );
  }
  const result: Record<string, string> = {};
  for (const [key, value] of entries) {
    const param = metadataParam(key);
    if (key.length === 0 || key.length > metadataKeyLengthMax || /[[\]]/.test(key)) {
      throw new VaultError(
        'invalid_request',
        `Metadata keys must be 1 to ${metadataKeyLengthMax} characters without "[" or "]".`,
        param,
      );
    }
    if (typeof value !== 'string' || value.length > metadataValueLengthMax) {
      throw new VaultError(
        'invalid_request',
        `Metadata values must be strings of at most ${metadataValueLengthMax} characters.`,
        param,
      );
    }
    // Metadata is stored in the clear; refuse the card's own number in it (a common slip).
    if (containsNumber(key, number) || containsNumber(value, number)) {
      throw new VaultError('invalid_request', 'Metadata must not contain the card number.', param);
    }
    result[key] = value;
  }
  return result;
}

export type CardInput = {
  readonly number: string;
  readonly expMonth: number;
  readonly expYear: number;
  readonly cvc?: string;
  readonly name?: string | null;
  readonly metadata?: Record<string, string>;
};

/** A card that passed every check. It has no CVC: that is validated and dropped. */
export type ValidatedCard = {
  readonly number: string;
  readonly brand: CardBrand;
  readonly last4: string;
  readonly expMonth: number;
  readonly expYear: number;
  readonly holderName: string | null;
  readonly metadata: Record<string, string>;
};

/** Checks every field, in the order Stripe reports them; throws the first VaultError found. */
export function validateCard(input: CardInput, now: Date): ValidatedCard {
  if (typeof input !== 'object' || input === null)
    throw new VaultError('invalid_request', 'A card object is required.', 'card');
  const { number, brand, last4 } = validateNumber(input.number);
  const { expMonth, expYear } = validateExpiry(input.expMonth, input.expYear, now);
  validateCvc(input.cvc, brand);
  const holderName = validateHolderName(input.name, number);
  const metadata = validateMetadata(input.metadata, number);
  return { number, brand, last4, expMonth, expYear, holderName, metadata };
}
