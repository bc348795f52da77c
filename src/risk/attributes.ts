// The attributes a risk rule may read (`:name:` in a rule), with their types. A rule naming any
// other attribute is refused when saved. Metadata values are read as `::key::` (Radar's form)
// and are strings. No attribute ever holds a card number: the card is known by brand, country,
// BIN (first six digits) and fingerprint only.

export type AttributeType = 'number' | 'string' | 'boolean';

/** A value a rule compares; a missing attribute is absent (undefined), never a default. */
export type AttributeValue = number | string | boolean;

/** The attributes of one decision, by name; metadata under `metadata:<key>`. */
export type Attributes = Readonly<Record<string, AttributeValue | undefined>>;

/** The entities velocity is counted per, by their name in an attribute. */
export const velocityEntities = ['card_number', 'email', 'ip_address', 'customer'] as const;
export type VelocityEntity = (typeof velocityEntities)[number];

export const velocityWindows = ['hourly', 'daily', 'weekly'] as const;
export type VelocityWindow = (typeof velocityWindows)[number];

/** Window lengths: sliding, ending at the decision's time. */
export const velocityWindowMs: Readonly<Record<VelocityWindow, number>> = {
  hourly: 3_600_000,
  daily: 86_400_000,
  weekly: 7 * 86_400_000,
};

/**
 * What is counted per entity and window (Radar's velocity family):
 * - total_charges: every authorization attempt that got an outcome (authorized, declined or blocked);
 * - authorized_charges / declined_charges (a block counts as declined);
 * - total_amount_in_usd: the sum of authorized amounts, in US dollars (a number with cents).
 * And distinct cards per IP address and per email (`cards_per_ip_address_daily` …).
 */
export const velocityMeasures = [
  'total_charges',
  'authorized_charges',
  'declined_charges',
  'total_amount_in_usd',
] as const;
export type VelocityMeasure = (typeof velocityMeasures)[number];

export const distinctCardEntities = [
  'ip_address',
  'email',
] as const satisfies readonly VelocityEntity[];

export function velocityAttribute(
  measure: VelocityMeasure,
  entity: VelocityEntity,
  window: VelocityWindow,
): string {
  return `${measure}_per_${entity}_${window}`;
}

export function distinctCardsAttribute(
  entity: (typeof distinctCardEntities)[number],
  window: VelocityWindow,
): string {
  return `cards_per_${entity}_${window}`;
}

/** Every velocity attribute's name. */
export const velocityAttributes: readonly string[] = [
  ...velocityMeasures.flatMap((measure) =>
    velocityEntities.flatMap((entity) =>
      velocityWindows.map((window) => velocityAttribute(measure, entity, window)),
    ),
  ),
  ...distinctCardEntities.flatMap((entity) =>
    velocityWindows.map((window) => distinctCardsAttribute(entity, window)),
  ),
];

/** The attributes of the payment itself and of the decision (score, 3-D Secure). */
export const paymentAttributes = {
  /** In minor units of the payment's currency. */
  amount: 'number',
  /** The amount in US dollars (a number with cents), at the reference rates; missing without one. */
  amount_in_usd: 'number',
  /** Lowercase ISO-4217. */
  currency: 'string',
  /** visa, mastercard, amex … (the vault's brand). */
  card_brand: 'string',
  /** The issuing country, ISO 3166-1 alpha-2 uppercase. */
  card_country: 'string',
  /** The first six digits of the card number. */
  card_bin: 'string',
  card_fingerprint: 'string',
  /** The customer's IP address and its country, when the payment gives them. */
  ip_address: 'string',
  ip_country: 'string',
  /** The receipt email, else the card's billing email, else the customer's; lowercase. */
  email: 'string',
  email_domain: 'string',
  /** The customer id (cus_…). */
  customer: 'string',
  /** The score of this decision's signals, 0–100, and its level (normal, elevated, highest). */
  risk_score: 'number',
  risk_level: 'string',
  /** 3-D Secure, once the card holder authenticated (missing before). */
  is_3d_secure_authenticated: 'boolean',
  has_liability_shift: 'boolean',
  /** The Electronic Commerce Indicator of the authentication ('05', '02', '06' …). */
  three_d_secure_eci: 'string',
  /** Whether this is a live-mode payment. */
  livemode: 'boolean',
} as const satisfies Record<string, AttributeType>;

export type PaymentAttribute = keyof typeof paymentAttributes;

const catalogue: ReadonlyMap<string, AttributeType> = new Map<string, AttributeType>([
  ...(Object.entries(paymentAttributes) as [string, AttributeType][]),
  ...velocityAttributes.map((name) => [name, 'number'] as [string, AttributeType]),
]);

/** The type of a named attribute, or undefined when no such attribute exists. */
export function attributeType(name: string): AttributeType | undefined {
  return catalogue.get(name);
}

/** The attribute name under which the metadata value `key` is found. */
export function metadataAttribute(key: string): string {
  return `metadata:${key}`;
}
