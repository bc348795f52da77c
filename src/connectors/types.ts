// The connector interface (architecture §6). One implementation per PSP under src/connectors/<name>/:
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
  /**
   * How a card is verified without charging it (SetupIntents): 'authorize_and_void' authorizes
   * a small amount with manual capture and voids it at once (needs manual capture and void);
   * 'none' cannot verify.
   */
  readonly cardVerification: CardVerification;
};

export type CardVerification = 'authorize_and_void' | 'none';

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
  /**
   * The card holder's 3-D Secure authentication, when one succeeded (status Y) or was attempted
   * (A): passed through to the PSP as "MPI data" so the issuer sees the authentication. Only
   * connectors whose capabilities say `threeDSecure: true` send it.
   */
  readonly threeDSecure?: ThreeDSecureData;
};

/** The result of a 3-D Secure authentication as a PSP takes it with an authorization (EMV 3DS). */
export type ThreeDSecureData = {
  /** The ARes/RRes transStatus: Y authenticated, A attempted (both shift liability). */
  readonly transactionStatus: 'Y' | 'A';
  /** Electronic Commerce Indicator: '05'/'06' (Visa, Amex …), '02'/'01' (Mastercard). */
  readonly eci: string;
  /** The cryptogram (CAVV, AAV): 20 bytes, base64 (28 characters). */
  readonly authenticationValue: string;
  /** The directory server's transaction id (a UUID). */
  readonly dsTransactionId: string;
  /** The protocol version, e.g. '2.2.0'. */
  readonly version: string;
  /**
   * Whether the card holder was challenged (the ARes said C, the RReq gave the status) or not;
   * Adyen's `directoryResponse` is C after a challenge. Unknown: taken as frictionless.
   */
  readonly authenticationFlow?: 'frictionless' | 'challenge';
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

/** Payrail's normalized decline codes: Stripe's `decline_code` names (docs.stripe.com/declines/codes). */
export type DeclineCode =
  | 'insufficient_funds'
  | 'lost_card'
  | 'stolen_card'
  | 'do_not_honor'
  | 'expired_card'
  | 'incorrect_cvc'
  | 'processing_error'
  | 'card_velocity_exceeded'
  | 'fraudulent'
  | 'authentication_required'
  | 'generic_decline';

/**
 * Stripe's error `code` for a card declined with this decline code: most are `card_declined`;
 * an expired card, a wrong CVC, a processing error and a demand for authentication have codes
 * of their own (docs.stripe.com/testing "Declined payments", docs.stripe.com/error-codes).
 */
export type CardErrorCode =
  | 'card_declined'
  | 'expired_card'
  | 'incorrect_cvc'
  | 'processing_error'
  | 'authentication_required';

const ownErrorCodes: ReadonlySet<string> = new Set<CardErrorCode>([
  'expired_card',
  'incorrect_cvc',
  'processing_error',
  'authentication_required',
]);

export function cardErrorCode(declineCode: string | null | undefined): CardErrorCode {
  return typeof declineCode === 'string' && ownErrorCodes.has(declineCode)
    ? (declineCode as CardErrorCode)
    : 'card_declined';
}

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

// --- Webhooks from PSPs -----------------------------------------------------------------------
// One pure parser + verifier per connector. A parser reads the raw body and headers in its PSP's
// own format and names the event and the payment it is about WITHOUT trusting anything yet: the
// caller uses the reference to find the merchant, hence the merchant's webhook secret, and only
// then asks the parser to verify the signature.

/** Header names in lowercase, as Node gives them. */
export type WebhookHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** A webhook exactly as received: the body's text is what the PSP signed, so it is never re-serialized. */
export type RawWebhook = { readonly body: string; readonly headers: WebhookHeaders };

/** What a webhook claims. Unverified until `verify` says so: use it only to look up the secret. */
export type PspWebhookEvent = {
  /** The PSP's event id; a duplicate or a resend carries the same one. */
  readonly eventId: string;
  readonly type: string;
  /** Our attempt id, as sent to the PSP as its reference (metadata, receipt, order id). */
  readonly reference: string | undefined;
  /** Our refund id, when the event is about a refund and carries it. */
  readonly refundReference: string | undefined;
  /** The PSP's own id of the payment. */
  readonly pspPaymentId: string | undefined;
};

export type WebhookParse =
  | { readonly ok: true; readonly event: PspWebhookEvent }
  | { readonly ok: false; readonly reason: string };

export type WebhookRefusal =
  'signature_missing' | 'signature_mismatch' | 'timestamp_out_of_tolerance';
export type WebhookVerification =
  { readonly ok: true } | { readonly ok: false; readonly reason: WebhookRefusal };

/** Milliseconds since the epoch; injectable so that timestamp tolerance can be tested. */
export type Clock = () => number;

export type PspWebhookParser = {
  readonly connector: string;
  parse(webhook: RawWebhook): WebhookParse;
  verify(webhook: RawWebhook, secret: string, clock?: Clock): WebhookVerification;
};

// --- Soft declines ----------------------------------------------------------------------------

/** Whether a failed authorization may be tried on another connector (src/routing/soft-declines.ts). */
export type DeclineVerdict = 'retry_elsewhere' | 'final';

export type DeclineMap = {
  /** By the PSP's own code (`outcome.pspCode`), looked at first: it is finer than the normalized decline code. */
  readonly pspCodes?: Readonly<Record<string, DeclineVerdict>>;
  /** By Payrail's normalized decline code (`outcome.declineCode`). */
  readonly declineCodes?: Readonly<Record<string, DeclineVerdict>>;
  /** A failure with no decline code: the PSP refused (credentials, rate limit, request) before any issuer decided. */
  readonly withoutDeclineCode?: DeclineVerdict;
};

// --- The module a connector folder exports ----------------------------------------------------

/**
 * Everything Payrail knows about one PSP, exported by its folder (src/connectors/<name>/index.ts)
 * and listed once in registry.ts. Every list of connector names derives from the registry.
 */
export type ConnectorModule = {
  readonly name: string;
  readonly capabilities: CapabilityMap;
  readonly connector: Connector;
  readonly webhookParser: PspWebhookParser;
  /** This PSP's own codes, looked at before the default soft-decline map; undefined: defaults only. */
  readonly declinePolicy?: DeclineMap;
  /** How a test-mode merchant reaches this PSP in the simulator (sim/CONTRACT.md "Test credentials"). */
  testCredentials(simulatorUrl: string): ConnectorCredentials;
};
