// The ledger posting of a PSP's fee for one settlement batch, as its report says (architecture §12):
//   psp fee   psp:<c>:fees (expense) ← psp:<c>:receivable    psp_fee:<batch id>, one per batch
// A negative total (the PSP gave fees back) moves the other way.
import type { TransferRequest } from '../../ledger/index.ts';
import { accountIds } from '../../accounts/index.ts';

export function pspFeeTransfer(
  batchId: string,
  connector: string,
  currency: string,
  fee: bigint,
): TransferRequest | undefined {
  if (fee === 0n) return undefined;
  const fees = accountIds.pspFees(connector, currency);
  const receivable = accountIds.pspReceivable(connector, currency);
  const amount = fee > 0n ? fee : -fee;
  const [from, to] = fee > 0n ? [fees, receivable] : [receivable, fees];
  return {
    kind: 'posted',
    id: `psp_fee:${batchId}`,
    legs: [
      { accountId: from, direction: 'debit', amount, currency },
      { accountId: to, direction: 'credit', amount, currency },
    ],
    description: `${connector} fees of settlement batch ${batchId}, as its report says`,
  };
}
