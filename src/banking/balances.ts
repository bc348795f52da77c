// The closing booked balances of bank statements (camt.053 `Bal` CLBD), kept per currency and
// booking date in recon_statement_balances (migration 029) for reconciliation's balance-drift
// check. Written by whoever reads a statement: the pipeline's statement ingestion and the upload
// of a statement file. Banking writes the row itself (reconciliation reads it) so that banking
// does not depend on reconciliation.
//
// Idempotent per (currency, day): the pipeline's copy of a day wins (a day fetched again before it
// is complete may have changed, and the ledger moves by the pipeline's entries); an uploaded copy
// only fills a day nothing wrote yet, so uploading a file twice, or in another order, changes
// nothing once the pipeline has read the day.
import type { Queryable } from '../storage/database.ts';
import type { ClosingBalance } from './camt053.ts';

/** Stores `balances` in one statement; `fileId` null: the pipeline's own copy. */
export async function recordClosingBalances(
  tx: Queryable,
  balances: readonly ClosingBalance[],
  fileId: string | null,
  now: Date,
): Promise<void> {
  if (balances.length === 0) return;
  const conflict =
    fileId === null
      ? `DO UPDATE SET closing_balance = excluded.closing_balance, file_id = NULL,
                       created_at = excluded.created_at
          WHERE recon_statement_balances.closing_balance <> excluded.closing_balance
             OR recon_statement_balances.file_id IS NOT NULL`
      : 'DO NOTHING';
  await tx.query(
    `INSERT INTO recon_statement_balances (currency, booking_date, closing_balance, file_id,
       created_at)
     SELECT currency, booking_date, closing_balance, $4::text, $5::timestamptz
       FROM unnest($1::text[], $2::text[], $3::bigint[])
         AS input (currency, booking_date, closing_balance)
     ON CONFLICT (currency, booking_date) ${conflict}`,
    [
      balances.map((balance) => balance.currency),
      balances.map((balance) => balance.date),
      balances.map((balance) => balance.amount.toString()),
      fileId,
      now,
    ],
  );
}
