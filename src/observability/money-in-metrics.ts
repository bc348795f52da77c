// Metrics of money in (architecture §12): PSP report lines and bank statement entries ingested,
// and the discrepancies they revealed. Registered on the process's registry (Metrics.registry).
import { Counter, type Registry } from 'prom-client';

const PREFIX = 'payrail_';

export type StatementEntryKind =
  | 'settlement_credit'
  | 'settlement_debit'
  | 'payout_debit'
  | 'payout_return'
  | 'unmatched'
  // Resolved by an operator's reconciliation write-off, which posted it (migration 029).
  | 'written_off';

export class MoneyInMetrics {
  private readonly reportItems: Counter<'connector'>;
  private readonly reportFailures: Counter<'connector'>;
  private readonly statementEntries: Counter<'kind'>;
  private readonly discrepancies: Counter<'source'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.reportItems = new Counter({
      name: `${PREFIX}settlement_report_items_total`,
      help: 'Items of PSP settlement reports ingested',
      labelNames: ['connector'],
      registers,
    });
    this.reportFailures = new Counter({
      name: `${PREFIX}settlement_report_failures_total`,
      help: 'PSP settlement reports that could not be fetched or parsed (retried later)',
      labelNames: ['connector'],
      registers,
    });
    this.statementEntries = new Counter({
      name: `${PREFIX}bank_statement_entries_total`,
      help: 'New booked bank statement entries ingested, by what they were matched to',
      labelNames: ['kind'],
      registers,
    });
    this.discrepancies = new Counter({
      name: `${PREFIX}money_in_discrepancies_total`,
      help: 'Discrepancies found between PSP reports or bank statements and Payrail records',
      labelNames: ['source'],
      registers,
    });
  }

  recordReportItems(connector: string, count: number): void {
    this.reportItems.inc({ connector }, count);
  }

  recordReportFailure(connector: string): void {
    this.reportFailures.inc({ connector });
  }

  recordStatementEntry(kind: StatementEntryKind): void {
    this.statementEntries.inc({ kind });
  }

  recordDiscrepancies(source: 'psp_report' | 'bank_statement', count: number): void {
    if (count > 0) this.discrepancies.inc({ source }, count);
  }
}
