// Checkout Sessions and Payment Links as the domain knows them (Stripe's objects; src/api-objects
// shows them). Amounts are bigint minor units; a session's line items live in its row.

export type Metadata = Readonly<Record<string, string>>;

export type CheckoutSessionStatus = 'open' | 'complete' | 'expired';
export type CheckoutPaymentStatus = 'unpaid' | 'paid';

/** One line of what the buyer pays for (Stripe's LineItem with its inline price_data). */
export type LineItem = {
  /** `li_…`, stable for the session (or link) it belongs to. */
  readonly id: string;
  readonly name: string;
  readonly description: string | null;
  /** The price of one unit, minor units, as a decimal string (jsonb keeps no bigint). */
  readonly unitAmount: string;
  readonly quantity: number;
  /** unitAmount × quantity, minor units, as a decimal string. */
  readonly amountTotal: string;
};

/** What the session's PaymentIntent is created with (Stripe's payment_intent_data). */
export type PaymentIntentData = {
  readonly captureMethod?: 'automatic' | 'manual';
  readonly description?: string;
  readonly metadata?: Metadata;
  readonly receiptEmail?: string;
};

/** What the buyer typed on the hosted page. */
export type CustomerDetails = {
  readonly email: string | null;
  readonly name: string | null;
};

export type CheckoutSession = {
  readonly id: string;
  readonly merchantId: string;
  readonly mode: 'payment';
  readonly status: CheckoutSessionStatus;
  readonly paymentStatus: CheckoutPaymentStatus;
  readonly currency: string;
  readonly amountSubtotal: bigint;
  readonly amountTotal: bigint;
  readonly lineItems: readonly LineItem[];
  /** Null only for a payment link's session that shows Payrail's own confirmation. */
  readonly successUrl: string | null;
  readonly cancelUrl: string | null;
  /** The hosted page, `<origin>/pay/<id>`. */
  readonly url: string;
  readonly expiresAt: Date;
  readonly customerId: string | null;
  readonly customerEmail: string | null;
  readonly customerDetails: CustomerDetails | null;
  readonly clientReferenceId: string | null;
  readonly metadata: Metadata;
  readonly paymentIntentData: PaymentIntentData;
  readonly paymentIntentId: string | null;
  readonly paymentLinkId: string | null;
  readonly formToken: string;
  readonly completedAt: Date | null;
  readonly expiredAt: Date | null;
  readonly createdAt: Date;
};

export type AfterCompletion =
  | { readonly type: 'redirect'; readonly url: string }
  | { readonly type: 'hosted_confirmation'; readonly customMessage: string | null };

export type PaymentLink = {
  readonly id: string;
  readonly merchantId: string;
  readonly active: boolean;
  readonly currency: string;
  readonly amountTotal: bigint;
  readonly lineItems: readonly LineItem[];
  readonly afterCompletion: AfterCompletion;
  readonly paymentIntentData: PaymentIntentData;
  readonly metadata: Metadata;
  readonly inactiveMessage: string | null;
  /** `<origin>/pay/link/<id>`. */
  readonly url: string;
  readonly createdAt: Date;
};
