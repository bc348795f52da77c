// Balance transactions made directly (item creation is settlement's work): each charge or refund
// is posted through the Ledger as payments posts it (capture + fee, or refund) and itemized as
// settlement itemizes it, so balances and items agree as they do in production. An accepted item
// is presented in an acknowledged batch, and the batch's accepted items are aggregated into its
// clearing groups (migration 025) as the acknowledgement aggregates them.
import { randomBase62, newSortableId } from '../../src/ids.ts';
import type { Ledger, TransferRequest } from '../../src/ledger/index.ts';
import { paymentAccounts } from '../../src/accounts/index.ts';
import { directCapture, feeTransfer, refundTransfer } from '../../src/payments/postings.ts';
import { balanceTransactions, type BalanceTransaction } from '../../src/balances/index.ts';
import type { Database, Queryable } from '../../src/storage/database.ts';

/**
 * Where clearing has an item: accepted (in an acknowledged batch, in its clearing group: made
 * available on its day), submitted (in a batch the acquirer has not answered yet: pending), or
 * not yet in a batch (pending).
 */
export type Clearing = 'accepted' | 'submitted' | 'unbatched';

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
  /** Accepted when not given. */
  readonly clearing?: Clearing;
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

// Batches are unique per (connector, currency, cutoff): fixture batches get cutoffs of their own,
// far from any real one.
let cutoffs = Date.UTC(2001, 0, 1) + Math.floor(Math.random() * 1e11);

/** A settlement batch of `connector` and `currency`, acknowledged (or only submitted) at `at`. */
export async function insertBatchRow(
  queryable: Queryable,
  connector: string,
  currency: string,
  at: Date,
  status: 'acknowledged' | 'submitted' = 'acknowledged',
): Promise<string> {
  const id = newSortableId('sb', at.getTime());
  await queryable.query(
    `INSERT INTO settlement_batches (id, connector, currency, cutoff_at, status, closed_at, submitted_at,
       acknowledged_at, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $6, CASE WHEN $5 = 'acknowledged' THEN $6::timestamptz END, $6)`,
    [id, connector, currency, new Date((cutoffs += 1_000)), status, at],
  );
  return id;
}

/**
 * The clearing groups of an acknowledged batch, as the acknowledgement aggregates its accepted
 * items (per merchant and available_on day); `availabilityId`, when given, makes them available
 * as if availability had named its transfer on them (and made them payout units).
 */
export async function groupAcceptedItems(
  queryable: Queryable,
  batchId: string,
  at: Date,
  availabilityId: string | null = null,
): Promise<void> {
  await queryable.query(
    `INSERT INTO clearing_groups (batch_id, merchant_id, currency, available_on, item_count, net,
       availability_id, created_at, unpaid)
     SELECT $1, merchant_id, currency, available_on, count(*)::int, sum(net), $3::text, $2,
            CASE WHEN $3::text IS NOT NULL THEN nullif(sum(net), 0) END
       FROM balance_transactions WHERE batch_id = $1 AND clearing_status = 'batched'
      GROUP BY merchant_id, currency, available_on`,
    [batchId, at, availabilityId],
  );
  await queryable.query(
    `UPDATE settlement_batches b SET item_count = s.count, accepted_count = s.count,
        net_amount = s.amount, accepted_amount = s.amount
       FROM (SELECT count(*)::int AS count, coalesce(sum(amount), 0)::bigint AS amount
               FROM balance_transactions WHERE batch_id = $1) s
      WHERE b.id = $1`,
    [batchId],
  );
}

/**
 * Posts the items' ledger transfers and inserts their rows, the accepted ones in an acknowledged
 * batch per connector and currency with its clearing groups, the submitted ones in a submitted
 * batch; returns the rows.
 */
export async function seedItems(
  database: Database,
  ledger: Ledger,
  items: readonly Item[],
): Promise<BalanceTransaction[]> {
  const specs = new Map<string, ReturnType<typeof paymentAccounts>[number]>();
  const transfers: TransferRequest[] = [];
  const rows: BalanceTransaction[] = [];
  const batches = new Map<string, { id: string; acknowledged: boolean }>();
  const createdAt = (item: Item): Date =>
    item.createdAt ?? new Date(item.availableOn.getTime() - 2 * 86_400_000);
  // Acknowledged after its last item was made.
  const latest = items.reduce((max, item) => Math.max(max, createdAt(item).getTime()), 0);
  const batchOf = async (connector: string, currency: string, clearing: Clearing) => {
    if (clearing === 'unbatched') return null;
    const key = `${connector} ${currency} ${clearing}`;
    let batch = batches.get(key);
    if (batch === undefined) {
      const status = clearing === 'accepted' ? 'acknowledged' : 'submitted';
      const id = await insertBatchRow(database, connector, currency, new Date(latest), status);
      batch = { id, acknowledged: clearing === 'accepted' };
      batches.set(key, batch);
    }
    return batch.id;
  };
  for (const item of items) {
    const currency = item.currency ?? 'usd';
    const connector = item.connector ?? 'stripe';
    const clearing = item.clearing ?? 'accepted';
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
    const created = createdAt(item);
    rows.push({
      id: newSortableId('txn', created.getTime()),
      merchantId: item.merchantId,
      currency,
      type: item.type,
      source: item.source ?? (item.type === 'charge' ? `pi_${reference}` : `re_${reference}`),
      amount,
      fee,
      net: amount - fee,
      description: null,
      ledgerTransactionId,
      createdAt: created,
      availableOn: item.availableOn,
      availabilityId: null,
      connector,
      attemptId: item.type === 'charge' ? `att_${reference}` : null,
      clearingStatus: clearing === 'unbatched' ? 'unbatched' : 'batched',
      batchId: await batchOf(connector, currency, clearing),
      rejections: 0,
      rejectReason: null,
      pspReference: null,
      authorizedAt: null,
      unpaid: null,
    });
  }
  await ledger.createAccounts([...specs.values()]);
  for (let start = 0; start < transfers.length; start += 8_000) {
    const results = await ledger.transferBatch(transfers.slice(start, start + 8_000));
    for (const result of results) if (result.status === 'rejected') throw result.error;
  }
  for (let start = 0; start < rows.length; start += 5_000)
    await database.query(insertBatch.sql, insertBatch.parameters(rows.slice(start, start + 5_000)));
  for (const batch of batches.values())
    if (batch.acknowledged) await groupAcceptedItems(database, batch.id, new Date(latest));
  return rows;
}
