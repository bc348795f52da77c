// Expected payout failures; the HTTP layer maps the codes (src/http/errors.ts).
import { DomainError, type ErrorCategory } from '../errors.ts';

export type PayoutErrorCode =
  | 'resource_missing'
  | 'parameter_invalid'
  | 'balance_insufficient'
  | 'no_external_account'
  | 'payout_not_cancelable'
  | 'bank_account_exists'
  | 'bank_account_in_use';

const categories: Record<PayoutErrorCode, ErrorCategory> = {
  resource_missing: 'not_found',
  parameter_invalid: 'invalid',
  balance_insufficient: 'invalid',
  no_external_account: 'invalid',
  payout_not_cancelable: 'conflict',
  bank_account_exists: 'invalid',
  bank_account_in_use: 'conflict',
};

/** Never carries an account number: messages name accounts by id and last4 only. */
export class PayoutError extends DomainError<PayoutErrorCode> {
  constructor(code: PayoutErrorCode, message: string, param?: string) {
    super(code, categories[code], message, param);
    this.name = 'PayoutError';
  }
}
