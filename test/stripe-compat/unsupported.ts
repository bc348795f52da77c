// The one place that lists how Payrail's objects differ from the stripe SDK's types (compared by
// shape.ts). `unsupported`: fields Stripe's object has that Payrail does not return yet, per object
// type, field path → short reason; a reason starting `mismatch:` marks a field Payrail returns in a
// shape Stripe's type does not admit (a bug to fix). This list only shrinks: the comparison fails
// when a listed field is returned (or a listed mismatch matches), so fixing one means deleting its
// line. `extensions`: fields Payrail returns that Stripe's object does not have.

/** The Stripe objects the suite compares (names in the SDK's `Stripe` namespace). */
export const stripeObjects = [
  'PaymentIntent',
  'Charge',
  'Refund',
  'PaymentMethod',
  'Customer',
  'SetupIntent',
  'Event',
  'Balance',
  'BalanceTransaction',
  'WebhookEndpoint',
  'DeletedWebhookEndpoint',
  'DeletedCustomer',
  'StripeRawError',
  'CheckoutSession',
  'LineItem',
  'PaymentLink',
] as const;

export type StripeObjectName = (typeof stripeObjects)[number];

type Fields = Readonly<Record<string, string>>;

/** Where an object's type is in the SDK when not at `Stripe.<name>`. */
export const sdkPaths: Readonly<Partial<Record<StripeObjectName, string>>> = {
  CheckoutSession: 'Checkout.Session',
};

const connect = 'Connect is out of scope';

export const unsupported: Readonly<Partial<Record<StripeObjectName, Fields>>> = {
  PaymentIntent: {
    allowed_payment_method_types: 'no payment method configurations (cards only)',
    application: connect,
    application_fee_amount: connect,
    customer_account: 'Accounts v2 is out of scope',
    excluded_payment_method_types: 'no payment method configurations (cards only)',
    managed_payments: 'Managed Payments is out of scope',
    on_behalf_of: connect,
    payment_method_configuration_details: 'no payment method configurations (cards only)',
    payment_record: 'Payment Records are out of scope',
    processing: 'no asynchronous payment methods (cards only)',
    shipping: 'no shipping details',
    source: 'legacy Sources are out of scope',
    transfer_group: connect,
  },
  PaymentMethod: {
    customer_account: 'Accounts v2 is out of scope',
    'billing_details.tax_id': 'no tax ids on billing details',
    'card.checks': 'no CVC and address check results from connectors yet',
    'card.display_brand': 'not returned yet',
    'card.funding': 'no funding type (credit, debit, prepaid) per card range yet',
    'card.generated_from': 'no card-present payments',
    'card.networks': 'no co-badged network choice',
    'card.regulated_status': 'no issuer regulation data',
    'card.three_d_secure_usage': 'no 3-D Secure yet',
    'card.wallet': 'no wallets (Apple Pay, Google Pay)',
  },
  Refund: {
    customer: "a refund does not name its payment's customer yet",
    customer_account: 'Accounts v2 is out of scope',
    payment_method: 'not returned yet',
  },
  BalanceTransaction: {
    balance_type: 'one balance type (payments)',
    'fee_details[].application': connect,
  },
  CheckoutSession: {
    allowed_payment_method_types: 'no payment method configurations (cards only)',
    customer_account: 'Accounts v2 is out of scope',
    integration_identifier: 'no integration identifiers',
    managed_payments: 'Managed Payments is out of scope',
  },
  PaymentLink: {
    managed_payments: 'Managed Payments is out of scope',
  },
  LineItem: {
    'price.currency_options': 'no multi-currency prices',
    'price.unit_amount_decimal': 'not returned yet (unit_amount is exact)',
  },
  SetupIntent: {
    allowed_payment_method_types: 'no payment method configurations (cards only)',
    excluded_payment_method_types: 'no payment method configurations (cards only)',
    payment_method_configuration_details: 'no payment method configurations (cards only)',
    payment_method_options: 'no per-method options yet',
  },
};

export const extensions: Readonly<Partial<Record<StripeObjectName, Fields>>> = {
  LineItem: {
    product_data: "the item's inline product (Payrail has no Products API)",
  },
  SetupIntent: {
    connector: 'the connector that verified the card',
  },
  PaymentIntent: {
    amount_refunded: 'the amount refunded so far (Stripe has it on the charge only)',
    attempts: 'every try at a connector, retries and failovers included',
    connector: 'the connector that holds the payment',
  },
  Charge: {
    connector: 'the connector that made the authorization',
    'outcome.rules': 'every risk rule that matched (shadow ones too), with the values it saw',
  },
  Refund: {
    livemode: 'every Payrail object names its mode',
  },
  WebhookEndpoint: {
    disabled_reason: 'why Payrail disabled the endpoint (deliveries failing for days)',
    signature_scheme: 'standard_webhooks or stripe (Stripe-Signature)',
  },
  StripeRawError: {
    request_id: 'the request id in the body too (Stripe: the Request-Id header only)',
  },
  Balance: {
    reserved: 'amounts held back from payouts (reserves)',
  },
};
