// Test-mode payment method ids, like Stripe's `pm_card_visa`: fixed cards that every merchant can
// use without creating them. They live only in this table, never in the payment_methods table
// (stored ids are `pm_` + base62, so the two can never collide), and they all expire 12/2034.
// The numbers are the simulator's test cards (sim/CONTRACT.md), so each id picks an outcome:
//
// | id                                       | number           | brand      | simulator outcome              |
// |------------------------------------------|------------------|------------|--------------------------------|
// | pm_card_visa                             | 4242424242424242 | visa       | approved                       |
// | pm_card_mastercard                       | 5555555555554444 | mastercard | approved                       |
// | pm_card_amex                             | 378282246310005  | amex       | approved                       |
// | pm_card_visa_debit                       | 4000056655665556 | visa       | approved                       |
// | pm_card_chargeDeclined                   | 4000000000000002 | visa       | declined: do not honour        |
// | pm_card_chargeDeclinedInsufficientFunds  | 4000000000009995 | visa       | declined: insufficient funds   |
// | pm_card_chargeDeclinedLostCard           | 4000000000009987 | visa       | declined: lost card            |
// | pm_card_chargeDeclinedStolenCard         | 4000000000009979 | visa       | declined: stolen card          |
// | pm_card_chargeDeclinedExpiredCard        | 4000000000000069 | visa       | declined: expired card         |
// | pm_card_pspError       (Payrail only)    | 4000000000000119 | visa       | PSP error 500, nothing charged |
// | pm_card_pspTimeout     (Payrail only)    | 4000000000000259 | visa       | charged, answer after a delay  |
// | pm_card_pspLostResponse (Payrail only)   | 4000000000000341 | visa       | charged, answer lost           |
//
// `reveal` returns them without a CVC, like stored cards.
import type { CardBrand } from './card.ts';
import { brandOf } from './card.ts';

export const testCardExpiryMonth = 12;
export const testCardExpiryYear = 2034;
/** A fixed creation time, so that a test card looks the same on every call. */
export const testCardCreatedAt = new Date('2024-01-01T00:00:00.000Z');

const numbers = {
  pm_card_visa: '4242424242424242',
  pm_card_mastercard: '5555555555554444',
  pm_card_amex: '378282246310005',
  pm_card_visa_debit: '4000056655665556',
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

export type TestCard = { readonly id: TestPaymentMethodId; readonly number: string; readonly brand: CardBrand };

export const testPaymentMethodIds = Object.keys(numbers) as TestPaymentMethodId[];

function isTestPaymentMethodId(id: string): id is TestPaymentMethodId {
  return Object.hasOwn(numbers, id);
}

export function testCard(id: string): TestCard | undefined {
  if (!isTestPaymentMethodId(id)) return undefined;
  const number = numbers[id];
  return { id, number, brand: brandOf(number) };
}
