// Differences between what the outside says about money (a PSP's settlement report, the bank's
// statement) and Payrail's records (architecture §12). Ingestion never stops for them: each is
// kept here, once (its key is deterministic), for reconciliation to explain or resolve (issue 12).
import type { Queryable } from '../storage/database.ts';
import { bigint, defineTable, jsonb, nullable, text, timestamptz } from '../storage/table.ts';

export type DiscrepancySource = 'psp_report' | 'bank_statement';

export type DiscrepancyKind =
  // A PSP report
  | 'report_unknown_item'
  | 'report_missing_item'
  | 'report_amount_mismatch'
  | 'report_currency_mismatch'
  | 'report_duplicate_item'
  // The bank statement
  | 'bank_unmatched_credit'
  | 'bank_unmatched_debit'
  | 'bank_unmatched_return'
  | 'bank_amount_mismatch'
  | 'bank_overfunded'
  | 'bank_payout_event_refused';

export type Discrepancy = {
  readonly key: string;
  readonly source: DiscrepancySource;
  readonly kind: DiscrepancyKind;
  readonly connector: string | null;
  readonly batchId: string | null;
  /** What it is about: a PSP reference, a bank entry reference, a payout id. */
  readonly reference: string;
  readonly currency: string | null;
  readonly amount: bigint | null;
  readonly details: Readonly<Record<string, unknown>>;
  readonly resolvedAt: Date | null;
  readonly createdAt: Date;
};

export const discrepancies = defineTable<Discrepancy>({
  name: 'money_in_discrepancies',
  columns: {
    key: text('key'),
    source: text<DiscrepancySource>('source'),
    kind: text<DiscrepancyKind>('kind'),
    connector: nullable(text('connector')),
    batchId: nullable(text('batch_id')),
    reference: text('reference'),
    currency: nullable(text('currency')),
    amount: nullable(bigint('amount')),
    details: jsonb('details'),
    resolvedAt: nullable(timestamptz('resolved_at')),
    createdAt: timestamptz('created_at'),
  },
});

const insertDiscrepancies = discrepancies.insertBatch(1);
const insertNew = `${insertDiscrepancies.sql} ON CONFLICT (key) DO NOTHING`;

export type NewDiscrepancy = Omit<Discrepancy, 'resolvedAt' | 'createdAt'>;

/** Records discrepancies not yet recorded; returns how many were new. */
export async function recordDiscrepancies(
  tx: Queryable,
  found: readonly NewDiscrepancy[],
  now: Date,
): Promise<number> {
  if (found.length === 0) return 0;
  const rows = found.map((item) => ({ ...item, resolvedAt: null, createdAt: now }));
  const result = await tx.query(insertNew, insertDiscrepancies.parameters(rows));
  return result.rowCount;
}

/** Open discrepancies, oldest first (bounded). */
export async function listOpenDiscrepancies(
  queryable: Queryable,
  limit: number,
): Promise<Discrepancy[]> {
  const result = await queryable.query(
    `SELECT * FROM money_in_discrepancies WHERE resolved_at IS NULL
      ORDER BY created_at, key LIMIT $1`,
    [Math.min(Math.max(limit, 1), 1000)],
  );
  return result.rows.map(discrepancies.fromRow);
}
