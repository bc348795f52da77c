// Expected failures of the risk rules, value lists and settings a merchant manages (src/risk/
// service.ts). HTTP mapping: src/http/errors.ts, by code.
import { DomainError, type ErrorCategory } from '../errors.ts';
import { looksLikeCardNumber, maskCardNumbers } from '../vault/card.ts';

export type RiskErrorCode = 'parameter_invalid' | 'resource_missing';

const categories: Record<RiskErrorCode, ErrorCategory> = {
  parameter_invalid: 'invalid',
  resource_missing: 'not_found',
};

export class RiskError extends DomainError<RiskErrorCode> {
  constructor(code: RiskErrorCode, message: string, param?: string) {
    super(code, categories[code], message, param);
    this.name = 'RiskError';
  }
}

export function invalidRiskParameter(param: string, message: string): RiskError {
  return new RiskError('parameter_invalid', message, param);
}

/**
 * Rules and lists are stored, shown and named in outcomes: a card number must never be in them
 * (DESIGN §1 rule 8), not even in a description, a name or metadata.
 */
export function refuseCardNumber(param: string, text: string | null | undefined): void {
  if (text !== null && text !== undefined && looksLikeCardNumber(text))
    throw invalidRiskParameter(param, `Invalid ${param}: it must not hold a card number.`);
}

export function noSuchRiskObject(noun: string, id: string, param = 'id'): RiskError {
  // An id is at most 100 characters (the route's schema), so echoing it is bounded; one that
  // is a card number is not echoed (messages reach logs and stored answers).
  return new RiskError('resource_missing', `No such ${noun}: '${maskCardNumbers(id)}'`, param);
}
