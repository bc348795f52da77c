// Kept apart from money.ts so that currencies.ts can throw it without an import cycle.
import { DomainError } from '../errors.ts';

export type MoneyErrorCode =
  'unknown_currency' | 'invalid_amount' | 'amount_too_large' | 'amount_not_positive';

export class MoneyError extends DomainError<MoneyErrorCode> {
  constructor(code: MoneyErrorCode, message: string, param?: string) {
    super(code, 'invalid', message, param);
    this.name = 'MoneyError';
  }
}
