// Expected ledger failures are values of this type (returned per transfer by a batch, thrown by
// single calls). `param` names the offending field the way the API spells it.
import { DomainError, type ErrorCategory } from '../errors.ts';

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

// A conflict is a refusal that depends on what is stored (an id taken, a hold already resolved).
const conflicts: ReadonlySet<LedgerErrorCode> = new Set<LedgerErrorCode>([
  'account_conflict',
  'id_conflict',
  'pending_already_resolved',
  'hold_expired',
  'hold_not_expired',
]);

export function ledgerErrorCategory(code: LedgerErrorCode): ErrorCategory {
  return conflicts.has(code) ? 'conflict' : 'invalid';
}

export class LedgerError extends DomainError<LedgerErrorCode> {
  constructor(code: LedgerErrorCode, message: string, param?: string) {
    super(code, ledgerErrorCategory(code), message, param);
    this.name = 'LedgerError';
  }
}
