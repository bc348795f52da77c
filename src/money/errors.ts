// Kept apart from money.ts so that currencies.ts can throw it without an import cycle.

export type MoneyErrorCode =
  | 'unknown_currency'
  | 'invalid_amount'
  | 'amount_too_large'
  | 'amount_not_positive'
  | 'currency_mismatch'
  | 'overflow'
  | 'invalid_ratios';

export class MoneyError extends Error {
  readonly code: MoneyErrorCode;
  /** The API parameter the error is about, when the caller named one. */
  readonly param?: string;

  constructor(code: MoneyErrorCode, message: string, param?: string) {
    super(message);
    this.name = 'MoneyError';
    this.code = code;
    if (param !== undefined) this.param = param;
  }
}
