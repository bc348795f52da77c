// What the bank statement says of a payout, told to the payouts module (src/payouts/ implements
// it; banking only defines the interface, so banking never imports payouts). Each call gets the
// statement ingestion's database transaction: the payout's change, its ledger transfer and the
// statement entry marked as seen commit together, so a statement fetched again changes nothing.
//
// An expected refusal (unknown payout, a state the payout cannot leave that way) is a DomainError:
// the entry is then kept as a discrepancy for reconciliation. Any other error stops the ingestion
// of the statement; the entry is tried again on the next run.
import type { Queryable } from '../storage/database.ts';

export interface PayoutBankEvents {
  /** The statement shows the payout's debit: it reached the merchant's bank (→ paid). */
  paid(
    payoutId: string,
    traceId: string,
    bookedAt: Date,
    tx?: Queryable,
  ): Promise<PayoutBankEventResult>;
  /** The payout came back (→ failed, money back to available); `reasonCode` is ISO (AC04 …). */
  returned(
    payoutId: string,
    reasonCode: string,
    bookedAt: Date,
    tx?: Queryable,
  ): Promise<PayoutBankEventResult>;
}

/** What the payouts module did with the news; an unknown payout is kept as a discrepancy. */
export type PayoutBankEventResult = 'applied' | 'already_applied' | 'unknown_payout';
