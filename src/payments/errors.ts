// Expected payment failures. The HTTP layer maps codes to statuses (src/http/errors.ts).
import { DomainError, type ErrorCategory } from '../errors.ts';
import type { CardErrorCode, DeclineCode } from '../connectors/types.ts';
import type { PaymentMethod } from '../vault/index.ts';
import type { IntentWithAttempts } from './types.ts';

export type PaymentErrorCode =
  | 'resource_missing'
  | 'payment_intent_unexpected_state'
  | CardErrorCode
  | 'capability_not_supported'
  | 'no_connector_available'
  | 'amount_too_large'
  | 'amount_too_small'
  | 'email_invalid'
  | 'parameters_exclusive'
  | 'payment_method_unsupported_type'
  | 'charge_already_refunded'
  | 'capture_failed'
  | 'refund_failed'
  | 'cancel_failed'
  | 'outcome_unknown'
  | 'connector_unavailable'
  | 'parameter_invalid'
  | 'parameter_missing'
  | 'refund_not_cancelable'
  | 'payment_intent_authentication_failure'
  | 'review_not_open';

const paymentCategories: Record<PaymentErrorCode, ErrorCategory> = {
  resource_missing: 'not_found',
  payment_intent_unexpected_state: 'invalid',
  card_declined: 'declined',
  expired_card: 'declined',
  incorrect_cvc: 'declined',
  processing_error: 'declined',
  authentication_required: 'declined',
  capability_not_supported: 'invalid',
  no_connector_available: 'invalid',
  amount_too_large: 'invalid',
  amount_too_small: 'invalid',
  email_invalid: 'invalid',
  parameters_exclusive: 'invalid',
  payment_method_unsupported_type: 'invalid',
  charge_already_refunded: 'invalid',
  capture_failed: 'declined',
  refund_failed: 'declined',
  cancel_failed: 'declined',
  outcome_unknown: 'conflict',
  connector_unavailable: 'unavailable',
  parameter_invalid: 'invalid',
  parameter_missing: 'invalid',
  refund_not_cancelable: 'invalid',
  payment_intent_authentication_failure: 'invalid',
  review_not_open: 'invalid',
};

export class PaymentError extends DomainError<PaymentErrorCode> {
  readonly declineCode: DeclineCode | undefined;
  /** The payment intent as it stands after the failure (Stripe returns it with card errors). */
  readonly paymentIntentId: string | undefined;
  /** For a card error: the intent as the decline left it (Stripe's `error.payment_intent`). */
  readonly paymentIntent: IntentWithAttempts | undefined;
  /** For a card error: the payment method declined (Stripe's `error.payment_method`). */
  readonly paymentMethod: PaymentMethod | undefined;
  /** For 503s: when a retry may succeed (HTTP Retry-After). */
  readonly retryAfterSeconds: number | undefined;
  constructor(
    code: PaymentErrorCode,
    message: string,
    details: {
      param?: string;
      declineCode?: DeclineCode;
      paymentIntentId?: string;
      paymentIntent?: IntentWithAttempts;
      paymentMethod?: PaymentMethod;
      retryAfterSeconds?: number;
    } = {},
  ) {
    super(code, paymentCategories[code], message, details.param);
    this.name = 'PaymentError';
    this.declineCode = details.declineCode;
    this.paymentIntentId = details.paymentIntentId;
    this.paymentIntent = details.paymentIntent;
    this.paymentMethod = details.paymentMethod;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}
