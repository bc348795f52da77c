// Balance transactions made directly (item creation is settlement's work): each charge or refund
// is posted through the Ledger as payments posts it (capture + fee, or refund) and itemized as
// settlement itemizes it, so balances and items agree as they do in production.
import { randomBase62, newSortableId } from '../../src/ids.ts';
import type { Ledger, TransferRequest } from '../../src/ledger/index.ts';
import { paymentAccounts } from '../../src/accounts/index.ts';
import { directCapture, feeTransfer, refundTransfer } from '../../src/payments/postings.ts';
import {
  balanceTransactions,
  type BalanceTransaction,
  type ClearingStatus,
} from '../../src/balances/index.ts';
import type { Database } from '../../src/storage/database.ts';

export type Item = {
  readonly merchantId: string;
  readonly type: 'charge' | 'refund';
  /** Positive: the captured or refunded amount. */
  readonly amount: bigint;
  readonly fee?: bigint;
  readonly availableOn: Date;
  readonly createdAt?: Date;
  readonly currency?: string;
  readonly connector?: string;
  readonly clearingStatus?: ClearingStatus;
  readonly source?: string;
};

export async function createMerchants(database: Database, ids: readonly string[]): Promise<void> {
  await database.query(
    `INSERT INTO merchants (id, name) SELECT id, 'Shop ' || id FROM unnest($1::text[]) AS m (id)`,
    [ids],
  );
}

export function newMerchantId(): string {
  return `mch_${randomBase62(14)}`;
}

const insertBatch = balanceTransactions.insertBatch(1);

/** Posts the items' ledger transfers and inserts their rows; returns the rows. */
export async function seedItems(
  database: Database,
  ledger: Ledger,
  items: readonly Item[],
): Promise<BalanceTransaction[]> {
  const specs = new Map<string, ReturnType<typeof paymentAccounts>[number]>();
  const transfers: TransferRequest[] = [];
  const rows: BalanceTransaction[] = [];
  for (const item of items) {
    const currency = item.currency ?? 'usd';
    const connector = item.connector ?? 'stripe';
    for (const spec of paymentAccounts(item.merchantId, connector, currency))
      specs.set(spec.id, spec);
    const movement = { merchantId: item.merchantId, connector, currency };
    const reference = randomBase62(16);
    const fee = item.type === 'charge' ? (item.fee ?? 0n) : 0n;
    let ledgerTransactionId: string;
    if (item.type === 'charge') {
      const capture = directCapture(`att_${reference}`, movement, item.amount);
      transfers.push(capture);
      const feeRequest = feeTransfer(`att_${reference}`, movement, fee);
      if (feeRequest !== undefined) transfers.push(feeRequest);
      ledgerTransactionId = capture.id;
    } else {
      const refund = refundTransfer(`re_${reference}`, movement, item.amount);
      transfers.push(refund);
      ledgerTransactionId = refund.id;
    }
    const amount = item.type === 'charge' ? item.amount : -item.amount;
    const createdAt = item.createdAt ?? new Date(item.availableOn.getTime() - 2 * 86_400_000);
    rows.push({
      id: newSortableId('txn', createdAt.getTime()),
      merchantId: item.merchantId,
      currency,
      type: item.type,
      source: item.source ?? (item.type === 'charge' ? `pi_${reference}` : `re_${reference}`),
      amount,
      fee,
      net: amount - fee,
      description: null,
      ledgerTransactionId,
      createdAt,
      availableOn: item.availableOn,
      availabilityId: null,
      connector,
      attemptId: item.type === 'charge' ? `att_${reference}` : null,
      clearingStatus: item.clearingStatus ?? 'batched',
      batchId: null,
      submissions: 0,
      rejectReason: null,
      pspReference: null,
      authorizedAt: null,
    });
  }
  await ledger.createAccounts([...specs.values()]);
  for (let start = 0; start < transfers.length; start += 8_000) {
    const results = await ledger.transferBatch(transfers.slice(start, start + 8_000));
    for (const result of results) if (result.status === 'rejected') throw result.error;
  }
  for (let start = 0; start < rows.length; start += 5_000)
    await database.query(insertBatch.sql, insertBatch.parameters(rows.slice(start, start + 5_000)));
  return rows;
}
