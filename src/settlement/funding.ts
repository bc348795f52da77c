// A settlement batch is funded once the bank credited what the PSP owes for it: its accepted
// amount less the PSP's fee (a split settlement arrives as several credits). A negative batch
// (refunds over captures) is settled by a debit: funded once the bank debited what we owe. A
// batch whose net is exactly zero is funded when its report gives the fee. Until the PSP's report
// gave the fee, a batch cannot be judged funded; report ingestion judges it again. Becoming funded
// sends each merchant of the batch a settlement_batch.funded event (src/settlement/events.ts).
import { insertSettlementEvents } from './events.ts';
import type { Queryable } from '../storage/database.ts';

export type FundingState = {
  readonly batchId: string;
  readonly status: string;
  readonly acceptedAmount: bigint;
  readonly pspFee: bigint | null;
  readonly fundedAmount: bigint;
};

/** The batch row, locked for the caller's transaction; undefined when it does not exist. */
export async function lockBatchFunding(
  tx: Queryable,
  batchId: string,
): Promise<FundingState | undefined> {
  const result = await tx.query<{
    id: string;
    status: string;
    accepted_amount: bigint;
    psp_fee: bigint | null;
    funded_amount: bigint;
  }>(
    `SELECT id, status, accepted_amount, psp_fee, funded_amount FROM settlement_batches
      WHERE id = $1 FOR UPDATE`,
    [batchId],
  );
  const row = result.rows[0];
  if (row === undefined) return undefined;
  return {
    batchId: row.id,
    status: row.status,
    acceptedAmount: BigInt(row.accepted_amount),
    pspFee: row.psp_fee === null ? null : BigInt(row.psp_fee),
    fundedAmount: BigInt(row.funded_amount),
  };
}

/** What the bank should credit for the batch, once the fee is known. */
export function expectedFunding(state: FundingState): bigint | undefined {
  return state.pspFee === null ? undefined : state.acceptedAmount - state.pspFee;
}

/**
 * Marks the batch funded when the credits reached what is expected; returns true when it became
 * funded now. The caller holds the batch's lock (lockBatchFunding).
 */
export async function markFundedIfComplete(
  tx: Queryable,
  state: FundingState,
  now: Date,
): Promise<boolean> {
  const expected = expectedFunding(state);
  if (state.status === 'funded' || expected === undefined) return false;
  if (state.status !== 'acknowledged' && state.status !== 'partially_acknowledged') return false;
  if (!reached(state.fundedAmount, expected)) return false;
  await tx.query(`UPDATE settlement_batches SET status = 'funded', funded_at = $2 WHERE id = $1`, [
    state.batchId,
    now,
  ]);
  await insertSettlementEvents(tx, state.batchId, 'settlement_batch.funded', now);
  return true;
}

/** Whether the bank's movements reached what is expected, in the direction expected. */
export function reached(funded: bigint, expected: bigint): boolean {
  return expected >= 0n ? funded >= expected : funded <= expected;
}

/** Whether the bank moved more than expected (a discrepancy). */
export function overshot(funded: bigint, expected: bigint): boolean {
  return expected >= 0n ? funded > expected : funded < expected;
}
