// Expected reconciliation failures; the HTTP layer maps the codes (src/http/errors.ts).
import { DomainError, type ErrorCategory } from '../../errors.ts';

export type ReconciliationErrorCode =
  'resource_missing' | 'parameter_invalid' | 'exception_already_resolved' | 'match_not_possible';

const categories: Record<ReconciliationErrorCode, ErrorCategory> = {
  resource_missing: 'not_found',
  parameter_invalid: 'invalid',
  exception_already_resolved: 'conflict',
  match_not_possible: 'conflict',
};

export class ReconciliationError extends DomainError<ReconciliationErrorCode> {
  constructor(code: ReconciliationErrorCode, message: string, param?: string) {
    super(code, categories[code], message, param);
    this.name = 'ReconciliationError';
  }
}
