// Expected failures of customers, saved cards and SetupIntents (HTTP mapping: src/http/errors.ts).
import { DomainError, type ErrorCategory } from '../errors.ts';
import type { SetupIntent } from './types.ts';

export type CustomerErrorCode =
  | 'resource_missing'
  | 'parameter_invalid'
  | 'payment_method_unexpected_state'
  | 'setup_intent_unexpected_state'
  | 'capability_not_supported'
  | 'card_declined'
  | 'expired_card'
  | 'connector_unavailable';

const categories: Record<CustomerErrorCode, ErrorCategory> = {
  resource_missing: 'not_found',
  parameter_invalid: 'invalid',
  payment_method_unexpected_state: 'invalid',
  setup_intent_unexpected_state: 'invalid',
  capability_not_supported: 'invalid',
  card_declined: 'declined',
  expired_card: 'declined',
  connector_unavailable: 'unavailable',
};

export class CustomerError extends DomainError<CustomerErrorCode> {
  /** For a declined verification: Stripe's `decline_code`. */
  readonly declineCode: string | undefined;
  /** For a declined verification: the SetupIntent as the decline left it (`error.setup_intent`). */
  readonly setupIntent: SetupIntent | undefined;
  constructor(
    code: CustomerErrorCode,
    message: string,
    param?: string,
    details: { declineCode?: string; setupIntent?: SetupIntent } = {},
  ) {
    super(code, categories[code], message, param);
    this.name = 'CustomerError';
    this.declineCode = details.declineCode;
    this.setupIntent = details.setupIntent;
  }
}

export function noSuchCustomer(id: string, param = 'id'): CustomerError {
  return new CustomerError('resource_missing', `No such customer: '${id}'`, param);
}

export function noSuchSetupIntent(id: string): CustomerError {
  return new CustomerError('resource_missing', `No such setupintent: '${id}'`, 'id');
}
