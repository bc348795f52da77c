// Expected payment failures. The HTTP layer maps codes to statuses (src/http/errors.ts).
import type { DeclineCode } from '../connectors/types.ts';
import type { IntentWithAttempts } from './types.ts';

export type PaymentErrorCode =
  | 'resource_missing'
  | 'payment_intent_unexpected_state'
  | 'card_declined'
  | 'expired_card'
  | 'capability_not_supported'
  | 'no_connector_available'
  | 'amount_too_large'
  | 'charge_already_refunded'
  | 'capture_failed'
  | 'refund_failed'
  | 'cancel_failed'
  | 'outcome_unknown'
  | 'connector_unavailable'
  | 'parameter_invalid';

export class PaymentError extends Error {
  readonly code: PaymentErrorCode;
  readonly param: string | undefined;
  readonly declineCode: DeclineCode | undefined;
  /** The payment intent as it stands after the failure (Stripe returns it with card errors). */
  readonly paymentIntentId: string | undefined;
  /** For a card error: the intent as the decline left it (Stripe's `error.payment_intent`). */
  readonly paymentIntent: IntentWithAttempts | undefined;
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
      retryAfterSeconds?: number;
    } = {},
  ) {
    super(message);
    this.name = 'PaymentError';
    this.code = code;
    this.param = details.param;
    this.declineCode = details.declineCode;
    this.paymentIntentId = details.paymentIntentId;
    this.paymentIntent = details.paymentIntent;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}
