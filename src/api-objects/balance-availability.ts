// What a `balance.available` event carries (architecture §12): one group of a merchant's balance
// transactions made available together (one currency, one due day, one ledger transfer), and the
// balance the merchant can draw after it. Stripe sends its balance object; the group says what
// changed and why, and `available` is that balance in the group's currency.
import { Type, type Static } from 'typebox';
import { Int64, testMode } from './json.ts';

export const BalanceAvailabilitySchema = Type.Object({
  /** The ledger transfer that made the group available (names the group if it netted to zero). */
  id: Type.String(),
  object: Type.Literal('balance_availability'),
  currency: Type.String(),
  /** The day the group's items were due, Unix seconds (00:00 UTC). */
  available_on: Type.Integer(),
  /** How many balance transactions became available. */
  balance_transactions: Type.Integer({ minimum: 1 }),
  /** Their net sum: negative on a day whose refunds exceeded its captures. */
  net: Int64,
  /** Held back by the rolling reserve. */
  reserved: Int64,
  /** The balance the merchant can draw after this group (negative while it owes the platform). */
  available: Int64,
  livemode: Type.Boolean(),
});

export type BalanceAvailability = {
  readonly transferId: string;
  readonly currency: string;
  readonly dueDay: Date;
  readonly items: number;
  readonly net: bigint;
  readonly reserved: bigint;
  readonly available: bigint;
};

export function presentBalanceAvailability(
  group: BalanceAvailability,
  livemode = testMode,
): Static<typeof BalanceAvailabilitySchema> {
  return {
    id: group.transferId,
    object: 'balance_availability',
    currency: group.currency,
    available_on: Math.floor(group.dueDay.getTime() / 1000),
    balance_transactions: group.items,
    net: group.net,
    reserved: group.reserved,
    available: group.available,
    livemode,
  };
}
