// The vault's two kinds of failure. A VaultError is an expected, caller-caused failure (bad card
// data, unknown payment method) named the way Stripe names it. A VaultDecryptionError means stored
// card data could not be authenticated: a wrong master key, or rows altered or moved in the
// database. That is never the caller's fault and maps to a 500.
//
// Rule: no message built here or by callers ever contains a card number, not even partially
// beyond the last four digits. Messages are fixed text; user input is echoed only after
// `redactDigits` has removed long digit runs.
import { DomainError, type ErrorCategory } from '../errors.ts';

export type VaultErrorCode =
  | 'invalid_number'
  | 'incorrect_number'
  | 'invalid_expiry_month'
  | 'invalid_expiry_year'
  | 'expired_card'
  | 'invalid_cvc'
  | 'invalid_request'
  | 'parameter_invalid'
  | 'payment_method_unexpected_state'
  | 'resource_missing';

/** The API parameter a card field is reported under (Stripe's names). */
export type CardParam =
  'card[number]' | 'card[exp_month]' | 'card[exp_year]' | 'card[cvc]' | 'billing_details[name]';

// Card data refusals are declines (Stripe answers them as card errors, 402).
const vaultCategories: Record<VaultErrorCode, ErrorCategory> = {
  invalid_number: 'declined',
  incorrect_number: 'declined',
  invalid_expiry_month: 'declined',
  invalid_expiry_year: 'declined',
  expired_card: 'declined',
  invalid_cvc: 'declined',
  invalid_request: 'invalid',
  parameter_invalid: 'invalid',
  payment_method_unexpected_state: 'invalid',
  resource_missing: 'not_found',
};

/** `param` is the API parameter the error is about: `card[number]`, `payment_method` … */
export class VaultError extends DomainError<VaultErrorCode> {
  constructor(code: VaultErrorCode, message: string, param?: string) {
    super(code, vaultCategories[code], message, param);
    this.name = 'VaultError';
  }
}

export type DecryptionFailure =
  /** The data key was wrapped under another master key than the one this process has. */
  | 'wrong_master_key'
  /** The wrapped data key failed authentication (altered in the database). */
  | 'data_key_corrupt'
  /** The row points at a data key that does not exist. */
  | 'data_key_missing'
  /** The card ciphertext failed authentication: altered, or moved to another row or merchant. */
  | 'card_data_corrupt';

export class VaultDecryptionError extends Error {
  readonly reason: DecryptionFailure;

  constructor(reason: DecryptionFailure, message: string) {
    super(message);
    this.name = 'VaultDecryptionError';
    this.reason = reason;
  }
}

/** Replaces every run of 12 or more digits (spaces and dashes between them allowed) with "[redacted]". */
export function redactDigits(text: string): string {
  return text.replace(/\d(?:[ -]?\d){11,}/g, '[redacted]');
}
