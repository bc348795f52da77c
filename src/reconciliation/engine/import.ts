// The import step of a run: the pipeline's own fetched PSP reports (settlement_report_lines of an
// ingested batch) and bank statements (bank_statement_entries) become records with the row keys
// an uploaded copy of the same report or statement gets (RECON-SPEC.md), so the two are one
// record (ON CONFLICT DO NOTHING). Set-based and incremental: report lines by batch, marked in
// recon_batch_progress; statement entries by an anti-join on the records' primary key.
import type { Queryable } from '../../storage/database.ts';
import { acknowledgedStatusesSql } from '../../settlement/tables.ts';
import { settlementDaySql } from './dates.ts';
import { recordKeys } from '../tables.ts';

export type ImportCounts = { readonly pspLines: number; readonly bankEntries: number };

const recordColumns = `source, row_key, file_id, line, kind, connector, our_reference,
  psp_reference, batch_reference, trace_id, currency, amount, fee, value_date, seen_on`;

// $1 now. Batches whose report was ingested (psp_fee set) and whose lines were not imported yet.
const newReportBatches = `
  SELECT b.id, b.connector, b.settlement_reference, ${settlementDaySql('b.cutoff_at')} AS day
    FROM settlement_batches b
   WHERE b.psp_fee IS NOT NULL AND b.settlement_reference IS NOT NULL
     AND b.status IN ${acknowledgedStatusesSql}
     AND NOT EXISTS (SELECT 1 FROM recon_batch_progress p
                      WHERE p.batch_id = b.id AND p.lines_imported_at IS NOT NULL)`;

const importReportLines = `
  WITH batches AS MATERIALIZED (${newReportBatches}),
  inserted AS (
    INSERT INTO recon_records (${recordColumns})
    SELECT 'psp_report', ${recordKeys.pspLineSql('b.connector', 'b.settlement_reference', 'l.line')}, NULL,
           l.line, l.type, b.connector, NULL, l.psp_reference, b.settlement_reference, NULL,
           l.currency, l.amount, l.fee, b.day, b.day
      FROM batches b JOIN settlement_report_lines l ON l.batch_id = b.id
    ON CONFLICT (source, row_key) DO NOTHING
    RETURNING 1
  ),
  marked AS (
    INSERT INTO recon_batch_progress (batch_id, lines_imported_at)
    SELECT id, $1::timestamptz FROM batches
    ON CONFLICT (batch_id) DO UPDATE SET lines_imported_at = excluded.lines_imported_at
  )
  SELECT count(*)::int AS count FROM inserted`;

// A statement entry as a record: a credit that returns a payout (RtrInf) is a return; the
// end-to-end id names our payout (po_…) or a settlement reference; the remittance a settlement
// reference. Only the statement's own content is used, as an uploaded camt.053 would give it.
const importStatementEntries = `
  WITH inserted AS (
    INSERT INTO recon_records (${recordColumns})
    SELECT 'bank_statement', ${recordKeys.bankEntrySql('e.entry_reference', 'e.direction')}, NULL, 1,
           CASE WHEN e.direction = 'debit' THEN 'debit'
                WHEN e.return_reason IS NOT NULL OR e.kind = 'payout_return' THEN 'return'
                ELSE 'credit' END,
           NULL,
           CASE WHEN e.end_to_end_id LIKE 'po\\_%' THEN e.end_to_end_id END,
           NULL,
           coalesce(e.remittance,
                    CASE WHEN e.end_to_end_id NOT LIKE 'po\\_%' THEN e.end_to_end_id END),
           e.end_to_end_id, e.currency, e.amount, NULL, e.booking_date, e.booking_date
      FROM bank_statement_entries e
     WHERE NOT EXISTS (SELECT 1 FROM recon_records r
                        WHERE r.source = 'bank_statement'
                          AND r.row_key = ${recordKeys.bankEntrySql('e.entry_reference', 'e.direction')})
    ON CONFLICT (source, row_key) DO NOTHING
    RETURNING 1
  )
  SELECT count(*)::int AS count FROM inserted`;

export async function importPipelineRecords(tx: Queryable, now: Date): Promise<ImportCounts> {
  const lines = await tx.query<{ count: number }>(importReportLines, [now]);
  const entries = await tx.query<{ count: number }>(importStatementEntries);
  return {
    pspLines: lines.rows[0]?.count ?? 0,
    bankEntries: entries.rows[0]?.count ?? 0,
  };
}
