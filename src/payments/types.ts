import type { CaptureMode, DeclineCode } from '../connectors/types.ts';
import type { RiskRecord } from '../risk/types.ts';

// The statuses; their transitions are the state machine's (state-machine.ts).
export type IntentStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'requires_capture'
  | 'succeeded'
  | 'canceled';

export type AttemptStatus =
  'pending' | 'authorized' | 'captured' | 'voided' | 'failed' | 'unknown' | 'refunded';

/**
 * A capture or cancel sent to the PSP and not yet resolved, kept on the intent
 * (`pending_operation`) so that a retry, a crash or an unknown answer resumes it.
 */
export type PendingOperation =
  { readonly kind: 'capture'; readonly amount: bigint } | { readonly kind: 'cancel' };

export type Metadata = Readonly<Record<string, string>>;

/** Stripe's `automatic_payment_methods`: Payrail has cards only, which never redirect. */
export type AutomaticPaymentMethods = {
  readonly enabled: boolean;
  readonly allow_redirects?: 'always' | 'never';
};

/** The payment method types an intent accepts: Payrail has cards only (intent-parameters.ts). */
export type PaymentMethodType = 'card';

export type PaymentIntent = {
  readonly id: string;
  readonly merchantId: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly status: IntentStatus;
  readonly captureMethod: CaptureMode;
  readonly paymentMethodId: string | null;
  readonly connector: string | null;
  readonly amountCapturable: bigint;
  readonly amountReceived: bigint;
  readonly amountRefunded: bigint;
  readonly amountRefunding: bigint;
  /** A capture or cancel in flight at the PSP. */
  readonly pendingOperation: PendingOperation | null;
  readonly description: string | null;
  readonly metadata: Metadata;
  readonly lastPaymentError: { code: string; decline_code?: DeclineCode; message: string } | null;
  readonly cancellationReason: string | null;
  readonly canceledAt: Date | null;
  /** The customer (an id only: erasing the customer leaves the payment intact). */
  readonly customerId: string | null;
  /** Save the card to the customer once the payment succeeds (Stripe's `setup_future_usage`). */
  readonly setupFutureUsage: SetupFutureUsage | null;
  /** `<id>_secret_<random>`: lets a browser with the publishable key retrieve and confirm this intent. */
  readonly clientSecret: string;
  readonly paymentMethodTypes: readonly PaymentMethodType[];
  readonly automaticPaymentMethods: AutomaticPaymentMethods | null;
  readonly receiptEmail: string | null;
  readonly statementDescriptorSuffix: string | null;
  /** Where a redirecting payment method would send the customer back (given with confirm). */
  readonly returnUrl: string | null;
  /** What the caller told of the customer for risk: IP address and its country. */
  readonly radarOptions: RadarOptions | null;
  /** Stripe's payment_method_options.card.request_three_d_secure. */
  readonly requestThreeDSecure: RequestThreeDSecure;
  /** What the card holder must do while the intent requires_action (Stripe's next_action). */
  readonly nextAction: NextAction | null;
  readonly createdAt: Date;
};

/** Payrail's extension of Stripe's radar_options: the customer's IP address and its country. */
export type RadarOptions = {
  readonly ip_address?: string;
  /** ISO 3166-1 alpha-2, uppercase. */
  readonly ip_country?: string;
};

/** 'automatic': when a rule or the issuer asks; 'any' and 'challenge': always (Stripe's). */
export type RequestThreeDSecure = 'automatic' | 'any' | 'challenge';

/** Stripe's next_action of type redirect_to_url: the card holder authenticates at `url`. */
export type NextAction = {
  readonly type: 'redirect_to_url';
  readonly redirect_to_url: { readonly url: string; readonly return_url: string | null };
};

export type SetupFutureUsage = 'on_session' | 'off_session';

export type Attempt = {
  readonly id: string;
  readonly paymentIntentId: string;
  readonly merchantId: string;
  readonly connector: string;
  readonly status: AttemptStatus;
  readonly amount: bigint;
  readonly currency: string;
  readonly captureMethod: CaptureMode;
  readonly pspIdempotencyKey: string;
  readonly pspReference: string | null;
  readonly amountAuthorized: bigint;
  readonly amountCaptured: bigint;
  readonly declineCode: string | null;
  readonly pspCode: string | null;
  readonly failureMessage: string | null;
  readonly syncCount: number;
  /** Left with an unknown outcome when Payrail failed over to another connector (voided or refunded if it turns out charged). */
  readonly abandoned: boolean;
  /** The risk decision made before it was sent; null where risk was off. */
  readonly risk: RiskRecord | null;
  /** The 3-D Secure authentication it was sent with. */
  readonly threeDSecureId: string | null;
  /** How long its authorization call to the PSP took (real time, ms); null until it answered. */
  readonly pspLatencyMs: number | null;
  readonly createdAt: Date;
};

export type RefundStatus = 'pending' | 'succeeded' | 'failed' | 'canceled';
export type RefundReason = 'duplicate' | 'fraudulent' | 'requested_by_customer';

export type Refund = {
  readonly id: string;
  readonly merchantId: string;
  readonly paymentIntentId: string;
  readonly attemptId: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly status: RefundStatus;
  readonly reason: RefundReason | null;
  readonly pspIdempotencyKey: string;
  readonly pspReference: string | null;
  readonly failureReason: string | null;
  readonly metadata: Metadata;
  /**
   * When the refund was claimed for sending to the PSP (null: never sent, so it may still be
   * canceled). A refund of an uncaptured payment is sent as the cancel of its payment intent.
   */
  readonly sentAt: Date | null;
  /**
   * A refund of an uncaptured payment: sent as the cancel of its intent (the authorization is
   * released); nothing was captured, so nothing is reserved on the intent or posted to the ledger.
   */
  readonly releasesAuthorization: boolean;
  readonly createdAt: Date;
};

export type IntentWithAttempts = {
  readonly intent: PaymentIntent;
  readonly attempts: readonly Attempt[];
};

/** What the vault tells of the card a charge was made with (what it knows; never the number). */
export type ChargeCard = {
  readonly brand?: string;
  readonly last4?: string;
  readonly country?: string | null;
  readonly expMonth?: number;
  readonly expYear?: number;
  readonly fingerprint?: string | null;
  readonly funding?: string | null;
  readonly holderName?: string | null;
};

/**
 * A charge (Stripe's): the view of one attempt of an intent, with the refunds of that attempt,
 * the card, and the balance transaction of its capture once the ledger posted it. Nothing of it is
 * stored apart from the attempt.
 */
export type ChargeView = {
  readonly intent: PaymentIntent;
  readonly attempt: Attempt;
  readonly refunds: readonly Refund[];
  readonly card: ChargeCard | undefined;
  readonly balanceTransactionId: string | null;
};

/** Why a review was closed (Stripe's closed_reason). */
export type ReviewClosedReason =
  'approved' | 'refunded' | 'refunded_as_fraud' | 'disputed' | 'redacted' | 'canceled';

/** A payment a review rule held, authorized and not captured (src/payments/reviews.ts). */
export type Review = {
  readonly id: string;
  readonly merchantId: string;
  readonly paymentIntentId: string;
  readonly attemptId: string;
  readonly open: boolean;
  readonly openedReason: 'rule' | 'manual';
  readonly ruleId: string | null;
  readonly closedReason: ReviewClosedReason | null;
  readonly ipAddress: string | null;
  readonly createdAt: Date;
  readonly closedAt: Date | null;
};
