// The stored entities of banking (migration 021), one definition each (storage/table.ts).
import {
  bigint,
  boolean,
  defineTable,
  integer,
  nullable,
  text,
  timestamptz,
} from '../storage/table.ts';
import type { StatementEntryKind } from '../observability/money-in-metrics.ts';

/** A booked statement entry seen, and what it was applied as. */
export type SeenEntry = {
  readonly entryReference: string;
  readonly direction: 'credit' | 'debit';
  /** YYYY-MM-DD */
  readonly bookingDate: string;
  readonly currency: string;
  readonly amount: bigint;
  readonly kind: StatementEntryKind;
  readonly endToEndId: string | null;
  readonly remittance: string | null;
  readonly returnReason: string | null;
  /** The batch or payout it was matched to. */
  readonly matchedId: string | null;
  readonly ledgerTransactionId: string | null;
  readonly seenAt: Date;
};

export const bankStatementEntries = defineTable<SeenEntry>({
  name: 'bank_statement_entries',
  columns: {
    entryReference: text('entry_reference'),
    direction: text<'credit' | 'debit'>('direction'),
    bookingDate: text('booking_date'),
    currency: text('currency'),
    amount: bigint('amount'),
    kind: text<StatementEntryKind>('kind'),
    endToEndId: nullable(text('end_to_end_id')),
    remittance: nullable(text('remittance')),
    returnReason: nullable(text('return_reason')),
    matchedId: nullable(text('matched_id')),
    ledgerTransactionId: nullable(text('ledger_transaction_id')),
    seenAt: timestamptz('seen_at'),
  },
});

/** A statement day fetched; the cursor is the latest complete one. */
export type StatementDay = {
  readonly bookingDate: string;
  readonly complete: boolean;
  readonly entryCount: number;
  readonly fetchedAt: Date;
};

export const bankStatementDays = defineTable<StatementDay>({
  name: 'bank_statement_days',
  columns: {
    bookingDate: text('booking_date'),
    complete: boolean('complete'),
    entryCount: integer('entry_count'),
    fetchedAt: timestamptz('fetched_at'),
  },
});
