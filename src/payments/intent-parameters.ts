// Stripe's rules for the parameters of a payment intent that are not about money movement:
// currency codes, charge amount limits, payment method types, statement descriptors, the receipt
// email, the return URL, and the client secret. Pure functions; each refusal names its parameter
// (architecture §4). The route schemas bound the raw input; these decide what Stripe decides.
import crypto from 'node:crypto';
import net from 'node:net';
import { formatDecimal, isCurrency, MoneyError } from '../money/index.ts';
import { randomBase62 } from '../ids.ts';
import { PaymentError } from './errors.ts';
import type {
  AutomaticPaymentMethods,
  PaymentMethodType,
  RadarOptions,
  RequestThreeDSecure,
} from './types.ts';

/**
 * Stripe's minimum charge amounts, in minor units as its API writes them (docs.stripe.com/currencies,
 * "Minimum and maximum charge amounts"). Stripe's minimum is set by the settlement currency and
 * converted for others; Payrail converts nothing, so a presentment currency not listed here only
 * has to be positive (docs/decisions.md, decision 183).
 */
export const minimumChargeAmounts: Readonly<Record<string, bigint>> = {
  usd: 50n,
  aed: 200n,
  aud: 50n,
  brl: 50n,
  cad: 50n,
  chf: 50n,
  czk: 1500n,
  dkk: 250n,
  eur: 50n,
  gbp: 30n,
  hkd: 400n,
  huf: 17500n,
  inr: 50n,
  jpy: 50n,
  mxn: 1000n,
  myr: 200n,
  nok: 300n,
  nzd: 50n,
  pln: 200n,
  ron: 200n,
  sek: 300n,
  sgd: 50n,
  thb: 1000n,
};

/** Stripe's maximum amount: eight digits of minor units in every currency (99999999). */
export const maximumChargeAmount = 99_999_999n;

/** A currency code in any case, as Stripe accepts it, lowercased; unknown codes are refused. */
export function normalizeCurrency(code: string): string {
  const lowercase = code.toLowerCase();
  if (!isCurrency(lowercase))
    throw new MoneyError(
      'unknown_currency',
      `Invalid currency: ${code.slice(0, 10)}. Use an ISO-4217 code such as "usd".`,
      'currency',
    );
  return lowercase;
}

/** Stripe's limits on a charge's amount, as Stripe's messages put them. */
export function checkChargeAmount(amount: bigint, currency: string): void {
  const minimum = minimumChargeAmounts[currency] ?? 1n;
  if (amount < minimum)
    throw new PaymentError(
      'amount_too_small',
      `Amount must be at least ${formatDecimal(minimum, currency)} ${currency}`,
      { param: 'amount' },
    );
  if (amount > maximumChargeAmount)
    throw new PaymentError(
      'amount_too_large',
      `Amount must be no more than ${formatDecimal(maximumChargeAmount, currency)} ${currency}`,
      { param: 'amount' },
    );
}

export type PaymentMethodChoice = {
  readonly paymentMethodTypes: readonly PaymentMethodType[];
  readonly automaticPaymentMethods: AutomaticPaymentMethods | null;
};

/**
 * `payment_method_types` or `automatic_payment_methods` (Stripe takes one or the other). Without
 * either, automatic payment methods are on, as on Stripe's API versions since 2023-08-16. Payrail
 * has cards only: any other type is refused by name.
 */
export function paymentMethodChoice(
  types: readonly string[] | undefined,
  automatic: AutomaticPaymentMethods | undefined,
): PaymentMethodChoice {
  if (types !== undefined && automatic !== undefined)
    throw new PaymentError(
      'parameters_exclusive',
      'You may only specify one of these parameters: automatic_payment_methods, payment_method_types.',
      { param: 'payment_method_types' },
    );
  if (types !== undefined) {
    if (types.length === 0)
      throw new PaymentError('parameter_invalid', 'payment_method_types must not be empty.', {
        param: 'payment_method_types',
      });
    const index = types.findIndex((type) => type !== 'card');
    if (index !== -1)
      throw new PaymentError(
        'payment_method_unsupported_type',
        `The payment method type ${JSON.stringify(types[index])} is not supported: Payrail ` +
          'accepts card only.',
        { param: `payment_method_types[${index}]` },
      );
    return { paymentMethodTypes: ['card'], automaticPaymentMethods: null };
  }
  if (automatic !== undefined && !automatic.enabled && automatic.allow_redirects !== undefined)
    throw new PaymentError(
      'parameter_invalid',
      'automatic_payment_methods[allow_redirects] can only be set when automatic_payment_methods[enabled] is true.',
      { param: 'automatic_payment_methods[allow_redirects]' },
    );
  return { paymentMethodTypes: ['card'], automaticPaymentMethods: automatic ?? { enabled: true } };
}

const descriptorForbidden = /[<>\\'"*]/;
const latinOnly = /^[\x20-\x7e]+$/;
const hasLetter = /[A-Za-z]/;

/**
 * Stripe refuses `statement_descriptor` for card charges (its API reference: "Setting this value
 * for a card charge returns an error"); every Payrail payment is a card payment.
 */
export function refuseStatementDescriptor(value: string | undefined): void {
  if (value === undefined) return;
  throw new PaymentError(
    'parameter_invalid',
    'The statement_descriptor parameter is not supported for card charges. Use ' +
      'statement_descriptor_suffix instead.',
    { param: 'statement_descriptor' },
  );
}

/**
 * Stripe's rules for the dynamic suffix of a card statement descriptor: Latin characters only, at
 * least one letter, none of < > \ ' " *, at most 22 characters (Payrail has no account prefix to
 * count with it).
 */
export function checkStatementDescriptorSuffix(value: string | undefined): string | null {
  if (value === undefined) return null;
  const param = 'statement_descriptor_suffix';
  const refuse = (why: string) =>
    new PaymentError('parameter_invalid', `Invalid statement_descriptor_suffix: ${why}.`, {
      param,
    });
  if (value.length === 0 || value.length > 22) throw refuse('it must be 1 to 22 characters');
  if (!latinOnly.test(value)) throw refuse('it may contain only Latin characters');
  if (descriptorForbidden.test(value))
    throw refuse('it may not contain any of the characters < > \\ \' " *');
  if (!hasLetter.test(value)) throw refuse('it must contain at least one letter');
  return value;
}

// An address as the HTML form `type=email` accepts it (WHATWG), bounded; Stripe's own check.
const emailPattern =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** The email the receipt goes to; an empty string clears it (Stripe's way to unset). */
export function checkReceiptEmail(value: string | undefined): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === '') return null;
  if (value.length > 800 || !emailPattern.test(value))
    throw new PaymentError('email_invalid', `Invalid email address: ${value.slice(0, 80)}`, {
      param: 'receipt_email',
    });
  return value;
}

/** A return URL: absolute http(s), at most 2048 characters, and only when confirming. */
export function checkReturnUrl(value: string | undefined, confirming: boolean): string | null {
  if (value === undefined) return null;
  if (!confirming)
    throw new PaymentError(
      'parameter_invalid',
      'return_url can only be set when confirming the PaymentIntent (confirm=true).',
      { param: 'return_url' },
    );
  let url: URL | undefined;
  try {
    url = value.length <= 2048 ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:'))
    throw new PaymentError(
      'parameter_invalid',
      'Invalid return_url: it must be an absolute http or https URL of at most 2048 characters.',
      { param: 'return_url' },
    );
  return value;
}

/**
 * What the caller tells of its customer for risk (Payrail's radar_options): an IP address (v4 or
 * v6, stored as written by Node's parser would accept it) and its country (two letters,
 * uppercased). Nothing given is null.
 */
export function checkRadarOptions(value: RadarOptions | undefined): RadarOptions | null {
  if (value === undefined) return null;
  const options: { ip_address?: string; ip_country?: string } = {};
  if (value.ip_address !== undefined) {
    if (net.isIP(value.ip_address) === 0)
      throw new PaymentError(
        'parameter_invalid',
        `Invalid radar_options[ip_address]: ${value.ip_address.slice(0, 60)} is not an IPv4 or IPv6 address.`,
        { param: 'radar_options[ip_address]' },
      );
    options.ip_address = canonicalAddress(value.ip_address);
  }
  if (value.ip_country !== undefined) {
    if (!/^[A-Za-z]{2}$/.test(value.ip_country))
      throw new PaymentError(
        'parameter_invalid',
        'Invalid radar_options[ip_country]: it must be a two-letter ISO 3166-1 country code.',
        { param: 'radar_options[ip_country]' },
      );
    options.ip_country = value.ip_country.toUpperCase();
  }
  return Object.keys(options).length === 0 ? null : options;
}

/**
 * One spelling per address, so that velocity counts it once: an IPv4 address mapped into IPv6
 * (`::ffff:203.0.113.9`, as a dual-stack socket reports it) is the IPv4 address; IPv6 in
 * lowercase, compressed as the URL parser writes it.
 */
export function canonicalAddress(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address)?.[1];
  if (mapped !== undefined && net.isIPv4(mapped)) return mapped;
  if (!net.isIPv6(address)) return address;
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

/** Stripe's payment_method_options[card][request_three_d_secure] (the route bounds the values). */
export type PaymentMethodOptionsInput = {
  readonly card?: { readonly request_three_d_secure?: RequestThreeDSecure };
};

/** A new intent's client secret, in Stripe's shape: `<intent id>_secret_<25 random characters>`. */
export function newClientSecret(intentId: string): string {
  return `${intentId}_secret_${randomBase62(25)}`;
}

/** Whether `given` is the intent's client secret (compared in constant time). */
export function clientSecretMatches(clientSecret: string, given: string): boolean {
  const expected = Buffer.from(clientSecret);
  const actual = Buffer.from(given);
  return expected.length === actual.length && crypto.timingSafeEqual(expected, actual);
}

/** Stripe's parameters of a new intent, as given (the route has bounded them). */
export type IntentParametersInput = {
  readonly paymentMethodTypes?: readonly string[];
  readonly automaticPaymentMethods?: AutomaticPaymentMethods;
  readonly receiptEmail?: string;
  readonly statementDescriptor?: string;
  readonly statementDescriptorSuffix?: string;
  readonly returnUrl?: string;
  readonly radarOptions?: RadarOptions;
  readonly paymentMethodOptions?: PaymentMethodOptionsInput;
};

export type IntentParameters = PaymentMethodChoice & {
  readonly receiptEmail: string | null;
  readonly statementDescriptorSuffix: string | null;
  readonly returnUrl: string | null;
  readonly radarOptions: RadarOptions | null;
  readonly requestThreeDSecure: RequestThreeDSecure;
};

/** Every rule above for a new intent, before anything is written. */
export function intentParameters(
  input: IntentParametersInput,
  confirming: boolean,
): IntentParameters {
  refuseStatementDescriptor(input.statementDescriptor);
  return {
    ...paymentMethodChoice(input.paymentMethodTypes, input.automaticPaymentMethods),
    receiptEmail: checkReceiptEmail(input.receiptEmail) ?? null,
    statementDescriptorSuffix: checkStatementDescriptorSuffix(input.statementDescriptorSuffix),
    returnUrl: checkReturnUrl(input.returnUrl, confirming),
    radarOptions: checkRadarOptions(input.radarOptions),
    requestThreeDSecure: input.paymentMethodOptions?.card?.request_three_d_secure ?? 'automatic',
  };
}
