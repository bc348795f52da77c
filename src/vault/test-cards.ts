// Test-mode payment method ids, like Stripe's `pm_card_visa`: fixed cards that every merchant can
// use without creating them. They live only in this table, never in the payment_methods table
// (stored ids are `pm_` + base62, so the two can never collide), and they all expire 12/2034.
// The numbers are the simulator's test cards (sim/CONTRACT.md), so each id picks an outcome; the
// simulator approves every Luhn-valid number it has no rule for, which covers the country cards.
//
// | id                                       | number           | brand      | country | simulator outcome              |
// |------------------------------------------|------------------|------------|---------|--------------------------------|
// | pm_card_visa, pm_card_us                 | 4242424242424242 | visa       | US      | approved                       |
// | pm_card_mastercard                       | 5555555555554444 | mastercard | US      | approved                       |
// | pm_card_amex                             | 378282246310005  | amex       | US      | approved                       |
// | pm_card_visa_debit                       | 4000056655665556 | visa       | US      | approved                       |
// | pm_card_br                               | 4000000760000002 | visa       | BR      | approved                       |
// | pm_card_ca                               | 4000001240000000 | visa       | CA      | approved                       |
// | pm_card_mx                               | 4000004840008001 | visa       | MX      | approved                       |
// | pm_card_gb                               | 4000008260000000 | visa       | GB      | approved                       |
// | pm_card_de                               | 4000002760000016 | visa       | DE      | approved                       |
// | pm_card_fr                               | 4000002500000003 | visa       | FR      | approved                       |
// | pm_card_in                               | 4000003560000008 | visa       | IN      | approved                       |
// | pm_card_jp                               | 4000003920000003 | visa       | JP      | approved                       |
// | pm_card_sg                               | 4000007020000003 | visa       | SG      | approved                       |
// | pm_card_au                               | 4000000360000006 | visa       | AU      | approved                       |
// | pm_card_chargeDeclined                   | 4000000000000002 | visa       | US      | declined: do not honour        |
// | pm_card_chargeDeclinedInsufficientFunds  | 4000000000009995 | visa       | US      | declined: insufficient funds   |
// | pm_card_chargeDeclinedLostCard           | 4000000000009987 | visa       | US      | declined: lost card            |
// | pm_card_chargeDeclinedStolenCard         | 4000000000009979 | visa       | US      | declined: stolen card          |
// | pm_card_chargeDeclinedExpiredCard        | 4000000000000069 | visa       | US      | declined: expired card         |
// | pm_card_pspError       (Payrail only)    | 4000000000000119 | visa       | US      | PSP error 500, nothing charged |
// | pm_card_pspTimeout     (Payrail only)    | 4000000000000259 | visa       | US      | charged, answer after a delay  |
// | pm_card_pspLostResponse (Payrail only)   | 4000000000000341 | visa       | US      | charged, answer lost           |
//
// The country comes from the test issuer table (issuers.ts), like a stored card's. `reveal`
// returns them without a CVC, like stored cards.
import type { CardBrand } from './card.ts';
import { brandOf } from './card.ts';
import { issuerCountryOf, testIssuerCountry } from './issuers.ts';

export const testCardExpiryMonth = 12;
export const testCardExpiryYear = 2034;
/** A fixed creation time, so that a test card looks the same on every call. */
export const testCardCreatedAt = new Date('2024-01-01T00:00:00.000Z');

const numbers = {
  pm_card_visa: '4242424242424242',
  pm_card_mastercard: '5555555555554444',
  pm_card_amex: '378282246310005',
  pm_card_visa_debit: '4000056655665556',
  pm_card_us: '4242424242424242',
  pm_card_br: '4000000760000002',
  pm_card_ca: '4000001240000000',
  pm_card_mx: '4000004840008001',
  pm_card_gb: '4000008260000000',
  pm_card_de: '4000002760000016',
  pm_card_fr: '4000002500000003',
  pm_card_in: '4000003560000008',
  pm_card_jp: '4000003920000003',
  pm_card_sg: '4000007020000003',
  pm_card_au: '4000000360000006',
  pm_card_chargeDeclined: '4000000000000002',
  pm_card_chargeDeclinedInsufficientFunds: '4000000000009995',
  pm_card_chargeDeclinedLostCard: '4000000000009987',
  pm_card_chargeDeclinedStolenCard: '4000000000009979',
  pm_card_chargeDeclinedExpiredCard: '4000000000000069',
  pm_card_pspError: '4000000000000119',
  pm_card_pspTimeout: '4000000000000259',
  pm_card_pspLostResponse: '4000000000000341',
} as const;

export type TestPaymentMethodId = keyof typeof numbers;

export type TestCard = {
  readonly id: TestPaymentMethodId;
  readonly number: string;
  readonly brand: CardBrand;
  /** ISO 3166-1 alpha-2, from the test issuer table; null if the table does not know the number. */
  readonly country: string | null;
};

export const testPaymentMethodIds = Object.keys(numbers) as TestPaymentMethodId[];

function isTestPaymentMethodId(id: string): id is TestPaymentMethodId {
  return Object.hasOwn(numbers, id);
}

export function testCard(id: string): TestCard | undefined {
  if (!isTestPaymentMethodId(id)) return undefined;
  const number = numbers[id];
  return {
    id,
    number,
    brand: brandOf(number),
    country: issuerCountryOf(number, testIssuerCountry),
  };
}
