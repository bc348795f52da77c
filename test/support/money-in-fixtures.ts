// Rows that money-in tests start from, written straight to the tables of migrations 019 and 025
// the way settlement and payouts leave them: a merchant, captured payments and refunds as
// balance transactions of an acknowledged settlement batch (accepted ones stay 'batched' in it,
// rejected ones are back to 'unbatched' for the next batch), each with the PSP reference clearing
// presented, and payouts in transit.
import type { Queryable } from '../../src/storage/database.ts';

export const testMerchant = 'mch_moneyin0001';

export type SeedItem = {
  readonly key: string;
  readonly type: 'charge' | 'refund';
  readonly pspReference: string;
  /** Positive: the captured or refunded amount. */
  readonly amount: bigint;
  readonly accepted?: boolean;
};

export type SeedBatch = {
  readonly id: string;
  readonly connector: string;
  readonly currency: string;
  readonly settlementReference: string;
  readonly items: readonly SeedItem[];
  readonly cutoffAt?: Date;
};

const at = new Date('2026-12-07T18:00:00Z');

export async function seedMerchant(db: Queryable): Promise<void> {
  await db.query(
    `INSERT INTO merchants (id, name) VALUES ($1, 'Money in shop') ON CONFLICT (id) DO NOTHING`,
    [testMerchant],
  );
}

async function seedPayment(
  db: Queryable,
  batch: SeedBatch,
  key: string,
  pspReference: string,
  amount: bigint,
) {
  await db.query(
    `INSERT INTO payment_intents (id, merchant_id, amount, currency, status, capture_method,
       connector, amount_received, client_secret)
     VALUES ($1, $2, $3, $4, 'succeeded', 'automatic', $5, $3, $1 || '_secret_fixture')`,
    [`pi_${key}`, testMerchant, amount, batch.currency, batch.connector],
  );
  await db.query(
    `INSERT INTO payment_attempts (id, payment_intent_id, merchant_id, connector, status, amount,
       currency, capture_method, psp_idempotency_key, psp_reference, amount_authorized, amount_captured)
     VALUES ($1, $2, $3, $4, 'captured', $5, $6, 'automatic', $1, $7, $5, $5)`,
    [
      `att_${key}`,
      `pi_${key}`,
      testMerchant,
      batch.connector,
      amount,
      batch.currency,
      pspReference,
    ],
  );
}

/** The batch, acknowledged with its settlement reference, and its items. */
export async function seedBatch(db: Queryable, batch: SeedBatch): Promise<void> {
  await seedMerchant(db);
  const accepted = batch.items.filter((item) => item.accepted !== false);
  const signed = (item: SeedItem) => (item.type === 'charge' ? item.amount : -item.amount);
  const acceptedAmount = accepted.reduce((total, item) => total + signed(item), 0n);
  const netAmount = batch.items.reduce((total, item) => total + signed(item), 0n);
  await db.query(
    `INSERT INTO settlement_batches (id, connector, currency, cutoff_at, status, item_count,
       net_amount, accepted_count, rejected_count, accepted_amount, acquirer_reference,
       settlement_reference, closed_at, submitted_at, acknowledged_at, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $4, $4, $4, $4)`,
    [
      batch.id,
      batch.connector,
      batch.currency,
      batch.cutoffAt ?? at,
      accepted.length === batch.items.length ? 'acknowledged' : 'partially_acknowledged',
      batch.items.length,
      netAmount,
      accepted.length,
      batch.items.length - accepted.length,
      acceptedAmount,
      `acq_${batch.id}`,
      batch.settlementReference,
    ],
  );
  for (const item of batch.items) {
    const paymentKey = item.type === 'charge' ? item.key : `${item.key}p`;
    if (item.type === 'charge')
      await seedPayment(db, batch, item.key, item.pspReference, item.amount);
    else {
      await seedPayment(db, batch, paymentKey, `${item.pspReference}_payment`, item.amount);
      await db.query(
        `INSERT INTO refunds (id, merchant_id, payment_intent_id, attempt_id, amount, currency,
           status, psp_idempotency_key, psp_reference)
         VALUES ($1, $2, $3, $4, $5, $6, 'succeeded', $1, $7)`,
        [
          `re_${item.key}`,
          testMerchant,
          `pi_${paymentKey}`,
          `att_${paymentKey}`,
          item.amount,
          batch.currency,
          item.pspReference,
        ],
      );
    }
    await db.query(
      `INSERT INTO balance_transactions (id, merchant_id, currency, type, source, amount, fee, net,
         ledger_transaction_id, created_at, available_on, connector, attempt_id, clearing_status,
         batch_id, rejections, psp_reference, authorized_at)
       VALUES ($1, $2, $3, $4, $5, $6, 0, $6, $7, $8, $8, $9, $10, $11, $12, 0, $13, $14)`,
      [
        `txn_${item.key}`,
        testMerchant,
        batch.currency,
        item.type,
        item.type === 'charge' ? `pi_${item.key}` : `re_${item.key}`,
        signed(item),
        item.type === 'charge' ? `capture:att_${item.key}` : `refund:re_${item.key}`,
        at,
        batch.connector,
        `att_${paymentKey}`,
        item.accepted === false ? 'unbatched' : 'batched',
        item.accepted === false ? null : batch.id,
        item.pspReference,
        item.type === 'charge' ? at : null,
      ],
    );
  }
}

/**
 * `count` accepted items of an acknowledged batch written set-based (large-report tests): charge k
 * (1-based) has PSP reference `${prefix}k` and amount 1,000 + k; every fifth item is a refund of
 * 100 + k (reference `${prefix}rk`). Only the rows report ingestion reads.
 */
export async function seedLargeBatch(
  db: Queryable,
  batch: Omit<SeedBatch, 'items'> & { readonly count: number; readonly prefix: string },
): Promise<void> {
  await seedMerchant(db);
  await db.query(
    `WITH items AS (
       SELECT k, k % 5 = 0 AS refund FROM generate_series(1, $6::int) AS k
     ),
     totals AS (
       SELECT sum(CASE WHEN refund THEN -(100 + k) ELSE 1000 + k END)::bigint AS amount FROM items
     )
     INSERT INTO settlement_batches (id, connector, currency, cutoff_at, status, item_count,
       net_amount, accepted_count, rejected_count, accepted_amount, acquirer_reference,
       settlement_reference, closed_at, submitted_at, acknowledged_at, created_at)
     SELECT $1, $2, $3, $4, 'acknowledged', $6, amount, $6, 0, amount, 'acq_' || $1, $5,
            $4, $4, $4, $4
       FROM totals`,
    [
      batch.id,
      batch.connector,
      batch.currency,
      batch.cutoffAt ?? at,
      batch.settlementReference,
      batch.count,
    ],
  );
  await db.query(
    `INSERT INTO balance_transactions (id, merchant_id, currency, type, source, amount, fee, net,
       ledger_transaction_id, created_at, available_on, connector, clearing_status, batch_id,
       rejections, psp_reference)
     SELECT 'txn_' || $6 || k, $2, $3, CASE WHEN refund THEN 'refund' ELSE 'charge' END,
            $6 || k, amount, 0, amount, 'large:' || $6 || k, $4, $4, $5, 'batched', $1, 0,
            $6 || CASE WHEN refund THEN 'r' ELSE '' END || k
       FROM (SELECT k, k % 5 = 0 AS refund,
                    CASE WHEN k % 5 = 0 THEN -(100 + k) ELSE 1000 + k END AS amount
               FROM generate_series(1, $7::int) AS k) AS items`,
    [batch.id, testMerchant, batch.currency, at, batch.connector, batch.prefix, batch.count],
  );
}

/** A payout in transit with its trace id (what the payouts module leaves after sending). */
export async function seedPayout(
  db: Queryable,
  payout: {
    readonly id: string;
    readonly amount: bigint;
    readonly currency: string;
    readonly traceId: string;
  },
): Promise<void> {
  await seedMerchant(db);
  const bankAccount = `ba_${payout.id.slice(3)}`;
  await db.query(
    `INSERT INTO merchant_bank_accounts (id, merchant_id, currency, country, account_holder_name,
       sealed_account_number, last4, fingerprint, created_at)
     VALUES ($1, $2, $3, 'US', 'Jane Doe', '\\x00'::bytea, '6789', $1, $4)`,
    [bankAccount, testMerchant, payout.currency, at],
  );
  await db.query(
    `INSERT INTO payouts (id, merchant_id, currency, amount, method, status, bank_account_id,
       trace_id, arrival_date, created_at, updated_at)
     VALUES ($1, $2, $3, $4, 'manual', 'in_transit', $5, $6, $7, $7, $7)`,
    [payout.id, testMerchant, payout.currency, payout.amount, bankAccount, payout.traceId, at],
  );
}
