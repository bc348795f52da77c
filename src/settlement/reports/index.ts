// PSP settlement reports (architecture §12): what workers, the CLI and reconciliation use.
export { adyenSettlementPages, parseAdyenSettlementCsv } from './adyen.ts';
export {
  HttpSettlementReports,
  reportStyleOf,
  simulatorReportCredentials,
  type SettlementReportSource,
} from './client.ts';
export {
  SettlementReportIngestion,
  defaultReportIngestionOptions,
  type BatchReportResult,
  type IngestDueResult,
  type ReportIngestionOptions,
} from './ingestion.ts';
export { pspFeeTransfer } from './postings.ts';
export { parseRazorpayRecon } from './razorpay.ts';
export { parseStripePage } from './stripe.ts';
export {
  ReportFormatError,
  ReportUnavailableError,
  reportLimits,
  type ReportItem,
  type ReportPage,
} from './types.ts';
