// Expected ledger failures are values of this type (returned per transfer by a batch, thrown by
// single calls). `param` names the offending field the way the API spells it.
export type LedgerErrorCode =
  | 'invalid_request'
  | 'invalid_id'
  | 'unknown_currency'
  | 'invalid_amount'
  | 'amount_too_large'
  | 'too_few_legs'
  | 'too_many_legs'
  | 'unbalanced'
  | 'currency_mismatch'
  | 'account_not_found'
  | 'account_conflict'
  | 'limit_exceeded'
  | 'balance_overflow'
  | 'id_conflict'
  | 'pending_not_found'
  | 'pending_already_resolved'
  | 'hold_expired'
  | 'hold_not_expired'
  | 'post_exceeds_pending'
  | 'batch_too_large';

export class LedgerError extends Error {
  readonly code: LedgerErrorCode;
  readonly param: string | undefined;
  constructor(code: LedgerErrorCode, message: string, param?: string) {
    super(message);
    this.name = 'LedgerError';
    this.code = code;
    this.param = param;
  }
}
