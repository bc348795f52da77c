import type { AccountSpec, Leg } from '../../src/ledger/index.ts';

export const usd = 'usd';

export function move(from: string, to: string, amount: bigint, currency = usd): Leg[] {
  return [
    { accountId: from, direction: 'debit', amount, currency },
    { accountId: to, direction: 'credit', amount, currency },
  ];
}

/** A funding source with no limit, and liability accounts that may not go negative. */
export function standardAccounts(currency = usd): AccountSpec[] {
  return [
    { id: `bank:${currency}`, type: 'asset', currency, owner: 'platform' },
    {
      id: `merchant:a:available:${currency}`,
      type: 'liability',
      currency,
      owner: 'a',
      limit: 'debits_must_not_exceed_credits',
    },
    {
      id: `merchant:b:available:${currency}`,
      type: 'liability',
      currency,
      owner: 'b',
      limit: 'debits_must_not_exceed_credits',
    },
    {
      id: `platform:fees:${currency}`,
      type: 'revenue',
      currency,
      owner: 'platform',
      limit: 'debits_must_not_exceed_credits',
    },
  ];
}
