// The ledger postings of bank credits (architecture §12): the bank credited what a PSP owed us.
//   bank credit   bank:<ccy> ← psp:<c>:receivable   bank_credit:<statement entry reference>
import crypto from 'node:crypto';
import type { TransferRequest } from '../ledger/index.ts';
import { accountIds } from '../payments/postings.ts';

const safeReference = /^[A-Za-z0-9_:.-]{1,160}$/;

/** The entry reference in a ledger id: as is when it fits the id alphabet, else its digest. */
export function ledgerSafeReference(entryReference: string): string {
  if (safeReference.test(entryReference)) return entryReference;
  return `h_${crypto.createHash('sha256').update(entryReference).digest('hex').slice(0, 48)}`;
}

export function bankCreditTransfer(
  entryReference: string,
  connector: string,
  currency: string,
  amount: bigint,
  batchId: string,
): TransferRequest {
  return {
    kind: 'posted',
    id: `bank_credit:${ledgerSafeReference(entryReference)}`,
    legs: [
      { accountId: accountIds.bank(currency), direction: 'debit', amount, currency },
      {
        accountId: accountIds.pspReceivable(connector, currency),
        direction: 'credit',
        amount,
        currency,
      },
    ],
    description: `bank credit of settlement batch ${batchId}`,
    metadata: { batch_id: batchId, entry_reference: entryReference.slice(0, 500) },
  };
}
