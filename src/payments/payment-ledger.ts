// Writes payment postings inside the payment's own database transaction, so the state change
// and the money movement commit together or not at all.
import type { Ledger, TransferRequest } from '../ledger/index.ts';
import type { Queryable } from '../storage/database.ts';
import { paymentAccounts } from './postings.ts';

export type Movement = { readonly merchantId: string; readonly connector: string; readonly currency: string };

export class PaymentLedger {
  readonly #ledger: Ledger;
  readonly #database: Queryable;
  /** Account sets known to be committed; bounded, since it only saves an idempotent insert. */
  readonly #ensured = new Set<string>();
  static readonly #ensuredMax = 100_000;

  constructor(ledger: Ledger, database: Queryable) {
    this.#ledger = ledger;
    this.#database = database;
  }

  /**
   * Creates the accounts of a movement in their own committed statement, before the transaction
   * that posts to them: a cache entry made inside a transaction could outlive its rollback, or be
   * seen by another request before the commit.
   */
  async prepare(movement: Movement): Promise<void> {
    const key = `${movement.merchantId}|${movement.connector}|${movement.currency}`;
    if (this.#ensured.has(key)) return;
    await this.#ledger.ensureAccountsWithin(this.#database, paymentAccounts(movement.merchantId, movement.connector, movement.currency));
    if (this.#ensured.size >= PaymentLedger.#ensuredMax) this.#ensured.clear();
    this.#ensured.add(key);
  }

  async post(tx: Queryable, movement: Movement, transfers: readonly (TransferRequest | undefined)[]): Promise<void> {
    const requests = transfers.filter((transfer): transfer is TransferRequest => transfer !== undefined);
    if (requests.length === 0) return;
    const key = `${movement.merchantId}|${movement.connector}|${movement.currency}`;
    if (!this.#ensured.has(key)) await this.#ledger.ensureAccountsWithin(tx, paymentAccounts(movement.merchantId, movement.connector, movement.currency));
    const results = await this.#ledger.transferBatchWithin(tx, requests);
    for (const result of results) {
      // Payment postings have no limits to break and ids of their own: a rejection is a bug,
      // and the whole state change rolls back with it.
      if (result.status === 'rejected') throw new Error(`ledger refused a payment posting: ${result.error.code}: ${result.error.message}`);
    }
  }
}
