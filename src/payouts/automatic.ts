// Automatic payouts made set-based (architecture §12.4): the due payouts of many merchants in one
// database transaction.
import { accountIds, merchantMoneyOutAccounts } from '../accounts/index.ts';
import { availableAtOnce } from '../balances/balance-transactions.ts';
import { insertEvents } from '../events/events.ts';
import { newSortableId } from '../ids.ts';
import { ledgerLimits, type AccountSpec, type Ledger } from '../ledger/index.ts';
import { integerArrayLiteral, textArrayLiteral } from '../storage/arrays.ts';
import type { Queryable } from '../storage/database.ts';
import { allocate } from './allocation.ts';
import {
  availableAccount,
  insertBalanceTransactions,
  move,
  payoutEvent,
  selectPayouts,
  type Due,
} from './records.ts';
import type { Payout } from './types.ts';

/**
 * The due payouts of a chunk of merchants (one time) in the caller's transaction, set-based: their
 * available accounts locked in id order and their payable balances read, the payouts, their
 * balance transactions and allocations inserted, their ledger transfers posted in one batch and
 * their events written.
 */
export async function createDueWithin(
  tx: Queryable,
  ledger: Ledger,
  chunk: readonly Due[],
): Promise<{ created: Payout[]; skipped: number }> {
  const now = (chunk[0] as Due).now;
  const day = now.toISOString().slice(0, 10);
  const specs = new Map<string, AccountSpec>();
  for (const { merchantId, currency } of chunk)
    for (const spec of [
      availableAccount(merchantId, currency),
      ...merchantMoneyOutAccounts(merchantId, currency),
    ])
      specs.set(spec.id, spec);
  await ledger.ensureAccountsWithin(tx, [...specs.values()]);
  // The available accounts' row locks serialize each merchant's payouts (as #createWithin's).
  const availableIds = chunk.map(({ merchantId, currency }) =>
    accountIds.merchantAvailable(merchantId, currency),
  );
  const locked = await tx.query<{ id: string; available: bigint }>(
    `SELECT id, posted_credits - posted_debits - pending_debits AS available FROM ledger_accounts
      WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
    [textArrayLiteral([...availableIds].sort())],
  );
  const availableOf = new Map(locked.rows.map((row) => [row.id, BigInt(row.available)]));
  const others = await tx.query<{
    position: number;
    receivable: bigint | null;
    minimum: bigint | null;
    bank_account_id: string | null;
    bank_account_status: string | null;
  }>(
    `SELECT w.position::int, r.posted_debits - r.posted_credits AS receivable, m.amount AS minimum,
            b.id AS bank_account_id, b.status AS bank_account_status
       FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY
         AS w (merchant_id, currency, receivable_id, position)
       LEFT JOIN ledger_accounts r ON r.id = w.receivable_id
       LEFT JOIN merchant_minimum_balances m ON m.merchant_id = w.merchant_id AND m.currency = w.currency
       LEFT JOIN merchant_bank_accounts b ON b.merchant_id = w.merchant_id AND b.currency = w.currency
             AND b.default_for_currency AND b.deleted_at IS NULL`,
    [
      textArrayLiteral(chunk.map((one) => one.merchantId)),
      textArrayLiteral(chunk.map((one) => one.currency)),
      textArrayLiteral(
        chunk.map(({ merchantId, currency }) =>
          accountIds.merchantReceivable(merchantId, currency),
        ),
      ),
    ],
  );
  const payable: (Due & { id: string; amount: bigint; bankAccountId: string })[] = [];
  for (const row of others.rows) {
    const one = chunk[row.position - 1] as Due;
    const available = availableOf.get(availableIds[row.position - 1] as string) ?? 0n;
    const amount = available - BigInt(row.receivable ?? 0n) - BigInt(row.minimum ?? 0n);
    // Nothing payable, no default account, or an errored one: no automatic payout.
    if (amount <= 0n || row.bank_account_id === null || row.bank_account_status === 'errored')
      continue;
    payable.push({
      ...one,
      id: newSortableId('po', now.getTime()),
      amount,
      bankAccountId: row.bank_account_id,
    });
  }
  // At most one automatic payout per merchant, currency and day: one another process made first
  // is kept, and this chunk makes none for it.
  const inserted = await tx.query<{ id: string }>(
    `INSERT INTO payouts (id, merchant_id, currency, amount, method, status, bank_account_id, description,
        arrival_date, created_at, updated_at, payout_day)
     SELECT w.id, w.merchant_id, w.currency, w.amount, 'automatic', 'pending', w.bank_account_id,
            'automatic payout', payrail_business_days_after($5, 1), $5, $5, $6::date
       FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $7::text[])
         AS w (id, merchant_id, currency, amount, bank_account_id)
     ON CONFLICT (merchant_id, currency, payout_day) WHERE method = 'automatic' DO NOTHING
     RETURNING id`,
    [
      textArrayLiteral(payable.map((one) => one.id)),
      textArrayLiteral(payable.map((one) => one.merchantId)),
      textArrayLiteral(payable.map((one) => one.currency)),
      integerArrayLiteral(payable.map((one) => one.amount)),
      now,
      day,
      textArrayLiteral(payable.map((one) => one.bankAccountId)),
    ],
  );
  const made = new Set(inserted.rows.map((row) => row.id));
  const payouts = payable.filter((one) => made.has(one.id));
  const skipped = chunk.length - payouts.length;
  if (payouts.length === 0) return { created: [], skipped };
  const rows = payouts.map((one) =>
    availableAtOnce({
      id: newSortableId('txn', now.getTime()),
      merchantId: one.merchantId,
      currency: one.currency,
      type: 'payout',
      source: one.id,
      amount: -one.amount,
      description: 'automatic payout',
      ledgerTransactionId: `payout:${one.id}`,
      at: now,
    }),
  );
  await tx.query(insertBalanceTransactions.sql, insertBalanceTransactions.parameters(rows));
  await allocate(
    tx,
    payouts.map((one) => ({
      payoutId: one.id,
      merchantId: one.merchantId,
      currency: one.currency,
      amount: one.amount,
    })),
  );
  // Last: the transfers lock platform:payouts_in_transit, which every payout in the currency
  // shares, so it is held only for the end of the transaction (once for the whole chunk).
  const transfers = payouts.map((one) =>
    move(
      `payout:${one.id}`,
      accountIds.merchantAvailable(one.merchantId, one.currency),
      accountIds.payoutsInTransit(one.currency),
      one.amount,
      one.currency,
      `payout ${one.id}`,
    ),
  );
  for (let start = 0; start < transfers.length; start += ledgerLimits.transfersPerBatchMax) {
    const results = await ledger.transferBatchWithin(
      tx,
      transfers.slice(start, start + ledgerLimits.transfersPerBatchMax),
      { now },
    );
    for (const result of results) if (result.status === 'rejected') throw result.error;
  }
  const created = await selectPayouts(
    tx,
    payouts.map((one) => one.id),
  );
  await insertEvents(
    tx,
    created.map((payout) => payoutEvent('payout.created', payout)),
    now,
  );
  return { created, skipped };
}
