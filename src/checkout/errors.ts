// Expected failures of Checkout Sessions and Payment Links (HTTP mapping: src/http/errors.ts).
import { DomainError, type ErrorCategory } from '../errors.ts';

export type CheckoutErrorCode =
  | 'resource_missing'
  | 'parameter_invalid'
  | 'parameter_missing'
  | 'checkout_session_unexpected_state';

const categories: Record<CheckoutErrorCode, ErrorCategory> = {
  resource_missing: 'not_found',
  parameter_invalid: 'invalid',
  parameter_missing: 'invalid',
  checkout_session_unexpected_state: 'invalid',
};

export class CheckoutError extends DomainError<CheckoutErrorCode> {
  constructor(code: CheckoutErrorCode, message: string, param?: string) {
    super(code, categories[code], message, param);
    this.name = 'CheckoutError';
  }
}

export function noSuchSession(id: string): CheckoutError {
  return new CheckoutError('resource_missing', `No such checkout.session: '${id}'`, 'id');
}

export function noSuchLink(id: string): CheckoutError {
  return new CheckoutError('resource_missing', `No such payment_link: '${id}'`, 'id');
}

export const invalid = (message: string, param: string): CheckoutError =>
  new CheckoutError('parameter_invalid', message, param);
