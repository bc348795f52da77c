// The connector interface (DESIGN §6). One implementation per PSP under src/connectors/<name>/:
// connector.ts (this interface) and transformers.ts (pure functions between these types and the
// PSP's wire format). Amounts here are always bigint minor units with a lowercase ISO currency;
// conversion to a PSP's format happens only in that PSP's transformers.

export type CaptureMode = 'automatic' | 'manual';

/** What a connector can do. Services check it before every call. */
export type CapabilityMap = {
  readonly paymentMethods: readonly 'card'[];
  /** Lowercase ISO-4217 codes. */
  readonly currencies: readonly string[];
  readonly captureModes: readonly CaptureMode[];
  /** Capture less than authorized (the rest is released). */
  readonly partialCapture: boolean;
  readonly refunds: {
    readonly full: boolean;
    readonly partial: boolean;
    readonly multiple: boolean;
  };
  /** Cancel an authorization before capture. */
  readonly void: boolean;
  readonly threeDSecure: boolean;
  readonly webhooks: boolean;
};

/** Card data as the vault hands it to a connector, decrypted only for the call. */
export type CardData = {
  readonly number: string;
  readonly expiryMonth: number;
  readonly expiryYear: number;
  readonly cvc?: string;
  readonly holderName?: string;
};

/** How a connector reaches its PSP; per merchant, stored with the merchant's connector settings. */
export type ConnectorCredentials = {
  readonly baseUrl: string;
  readonly apiKey: string;
  /** Second secret where the PSP has one (Razorpay key secret, Paytm merchant key). */
  readonly apiSecret?: string;
  /** Merchant id at the PSP where it has one (Paytm mid). */
  readonly merchantAccount?: string;
  /** Secret the PSP signs its webhooks with (Stripe `whsec_…`); without it, webhooks are refused. */
  readonly webhookSecret?: string;
};

export type CallContext = {
  readonly credentials: ConnectorCredentials;
  /** Sent to the PSP on every call, so a retry of the same operation can never act twice. */
  readonly idempotencyKey: string;
  /** Abort the call after this long; the outcome is then unknown, never a failure. */
  readonly timeoutMs: number;
};

export type AuthorizeRequest = {
  /** Our attempt id: the reference the PSP stores (order id, metadata …) and sync looks up by. */
  readonly reference: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly captureMode: CaptureMode;
  readonly card: CardData;
  readonly description?: string;
};

export type CaptureRequest = {
  readonly pspReference: string;
  readonly reference: string;
  readonly amount: bigint;
  readonly currency: string;
};
export type VoidRequest = {
  readonly pspReference: string;
  readonly reference: string;
  readonly amount: bigint;
  readonly currency: string;
};
export type RefundRequest = {
  readonly pspReference: string;
  readonly reference: string;
  /** Our refund id, stored by the PSP with the refund. */
  readonly refundReference: string;
  readonly amount: bigint;
  readonly currency: string;
};
export type SyncRequest = {
  readonly pspReference?: string;
  readonly reference: string;
  readonly amount: bigint;
  readonly currency: string;
};

/**
 * The outcome of one PSP call. Only an explicit success or an explicit failure is final;
 * everything else (timeouts, 5xx, unparseable or mismatching answers, PSP 'pending' states)
 * is 'pending' or 'unknown' and is resolved later by sync.
 */
export type PaymentStatus = 'authorized' | 'captured' | 'voided' | 'failed' | 'pending' | 'unknown';

export type DeclineCode =
  | 'insufficient_funds'
  | 'lost_card'
  | 'stolen_card'
  | 'do_not_honor'
  | 'expired_card'
  | 'incorrect_cvc'
  | 'generic_decline';

export type PaymentOutcome = {
  readonly status: PaymentStatus;
  readonly pspReference?: string;
  /** What the PSP says was authorized / captured / refunded, in minor units (checked against the request). */
  readonly amountAuthorized?: bigint;
  readonly amountCaptured?: bigint;
  readonly amountRefunded?: bigint;
  readonly declineCode?: DeclineCode;
  /** The PSP's own code and message, for the attempt record (never card data). */
  readonly pspCode?: string;
  readonly message?: string;
};

export type RefundStatus = 'succeeded' | 'failed' | 'pending' | 'unknown';
export type RefundOutcome = {
  readonly status: RefundStatus;
  readonly pspRefundReference?: string;
  readonly amount?: bigint;
  readonly pspCode?: string;
  readonly message?: string;
};

export interface Connector {
  readonly name: string;
  readonly capabilities: CapabilityMap;
  authorize(request: AuthorizeRequest, context: CallContext): Promise<PaymentOutcome>;
  capture(request: CaptureRequest, context: CallContext): Promise<PaymentOutcome>;
  void(request: VoidRequest, context: CallContext): Promise<PaymentOutcome>;
  refund(request: RefundRequest, context: CallContext): Promise<RefundOutcome>;
  /** Asks the PSP for the current state of a payment (by pspReference, or by our reference). */
  sync(request: SyncRequest, context: CallContext): Promise<PaymentOutcome>;
}
