// The ledger postings of settlements on the bank statement (architecture §12):
//   bank credit   bank:<ccy> ← psp:<c>:receivable   bank_credit:<statement entry reference>
//   bank debit    psp:<c>:receivable ← bank:<ccy>   bank_debit:<statement entry reference>
//                 (a negative batch: the PSP took back what refunds exceeded captures by)
import crypto from 'node:crypto';
import type { TransferRequest } from '../ledger/index.ts';
import { accountIds } from '../accounts/index.ts';

const safeReference = /^[A-Za-z0-9_:.-]{1,160}$/;

/** The entry reference in a ledger id: as is when it fits the id alphabet, else its digest. */
export function ledgerSafeReference(entryReference: string): string {
  if (safeReference.test(entryReference)) return entryReference;
  return `h_${crypto.createHash('sha256').update(entryReference).digest('hex').slice(0, 48)}`;
}

export function bankSettlementTransfer(
  entry: { readonly entryReference: string; readonly direction: 'credit' | 'debit' },
  connector: string,
  currency: string,
  amount: bigint,
  batchId: string,
): TransferRequest {
  const bank = accountIds.bank(currency);
  const receivable = accountIds.pspReceivable(connector, currency);
  const [from, to] = entry.direction === 'credit' ? [bank, receivable] : [receivable, bank];
  const entryReference = entry.entryReference;
  return {
    kind: 'posted',
    id: `bank_${entry.direction}:${ledgerSafeReference(entryReference)}`,
    legs: [
      { accountId: from, direction: 'debit', amount, currency },
      { accountId: to, direction: 'credit', amount, currency },
    ],
    description: `bank ${entry.direction} of settlement batch ${batchId}`,
    metadata: { batch_id: batchId, entry_reference: entryReference.slice(0, 500) },
  };
}
