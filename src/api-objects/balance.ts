import { Type, type Static } from 'typebox';
import { Int64, testMode } from './json.ts';

type Amount = { readonly amount: bigint; readonly currency: string };

const Amounts = Type.Array(Type.Object({ amount: Int64, currency: Type.String() }));

export const BalanceSchema = Type.Object({
  object: Type.Literal('balance'),
  /** Available net of reserve holds, minus what the merchant owes (negative after a bad day). */
  available: Amounts,
  pending: Amounts,
  /** Held by a rolling reserve, released on schedule. */
  reserved: Amounts,
  livemode: Type.Boolean(),
});

export function presentBalance(
  balance: {
    readonly available: readonly Amount[];
    readonly pending: readonly Amount[];
    readonly reserved: readonly Amount[];
  },
  livemode = testMode,
): Static<typeof BalanceSchema> {
  const amounts = (list: readonly Amount[]) =>
    list.map(({ amount, currency }) => ({ amount, currency }));
  return {
    object: 'balance',
    available: amounts(balance.available),
    pending: amounts(balance.pending),
    reserved: amounts(balance.reserved),
    livemode,
  };
}
