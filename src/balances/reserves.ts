// Rolling-reserve releases (architecture §12): every hold whose release day has come, by its
// merchant's time, is voided in the ledger (void_pending, id derived from the hold's: a release is
// never made twice), and its reserve_release balance transaction and released_by are written in
// the same database transaction. Holds are taken with SKIP LOCKED, so workers share the work.
import { clockSql, timeFor, type ClockReading } from '../clock.ts';
import { newSortableId } from '../ids.ts';
import type { Ledger, TransferRequest } from '../ledger/index.ts';
import { textArrayLiteral } from '../storage/arrays.ts';
import type { Database } from '../storage/database.ts';
import { availableAtOnce, balanceTransactions } from './balance-transactions.ts';

export type ReleaseResult = { readonly released: number; readonly amount: bigint };

/** The ledger id of a hold's release. */
export function releaseIdOf(holdId: string): string {
  return `reserve_release:${holdId.replace(/^reserve:/, '')}`;
}

const insertRows = balanceTransactions.insertBatch(1);

export class Reserves {
  readonly #database: Database;
  readonly #ledger: Ledger;

  constructor(dependencies: { readonly database: Database; readonly ledger: Ledger }) {
    this.#database = dependencies.database;
    this.#ledger = dependencies.ledger;
  }

  /** Releases due holds, at most `limit` per call (one database transaction). */
  async releaseDue(
    reading: ClockReading,
    options: { readonly limit?: number } = {},
  ): Promise<ReleaseResult> {
    const limit = Math.min(Math.max(1, options.limit ?? 1_000), 8_192);
    const clock = clockSql(reading, 'merchant_id', 1);
    return this.#database.transaction(async (tx) => {
      const due = await tx.query<{
        ledger_transaction_id: string;
        merchant_id: string;
        currency: string;
        amount: bigint;
      }>(
        `SELECT ledger_transaction_id, merchant_id, currency, amount FROM reserve_holds
          WHERE released_by IS NULL AND release_on <= ${clock.bound} AND release_on <= ${clock.now}
          ORDER BY release_on, ledger_transaction_id LIMIT $${clock.values.length + 1}
          FOR UPDATE SKIP LOCKED`,
        [...clock.values, limit],
      );
      if (due.rows.length === 0) return { released: 0, amount: 0n };
      const voids = due.rows.map((hold): TransferRequest => ({
        kind: 'void_pending',
        id: releaseIdOf(hold.ledger_transaction_id),
        pendingId: hold.ledger_transaction_id,
        description: 'rolling reserve released',
      }));
      const results = await this.#ledger.transferBatchWithin(tx, voids);
      for (const result of results) if (result.status === 'rejected') throw result.error;
      const rows = due.rows.map((hold) => {
        const at = timeFor(reading, hold.merchant_id);
        return availableAtOnce({
          id: newSortableId('txn', at.getTime()),
          merchantId: hold.merchant_id,
          currency: hold.currency,
          type: 'reserve_release',
          source: hold.ledger_transaction_id,
          amount: hold.amount,
          description: 'rolling reserve released',
          ledgerTransactionId: releaseIdOf(hold.ledger_transaction_id),
          at,
        });
      });
      await tx.query(insertRows.sql, insertRows.parameters(rows));
      await tx.query(
        `UPDATE reserve_holds AS h SET released_by = input.released_by
           FROM unnest($1::text[], $2::text[]) AS input (hold_id, released_by)
          WHERE h.ledger_transaction_id = input.hold_id`,
        [
          textArrayLiteral(due.rows.map((hold) => hold.ledger_transaction_id)),
          textArrayLiteral(due.rows.map((hold) => releaseIdOf(hold.ledger_transaction_id))),
        ],
      );
      return {
        released: due.rows.length,
        amount: due.rows.reduce((sum, hold) => sum + hold.amount, 0n),
      };
    });
  }
}
