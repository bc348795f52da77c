// The platform's bank (architecture §12): statements in, settlement credits, payout outcomes.
export {
  BankUnavailableError,
  HttpBankStatements,
  simulatorBankCredentials,
  type BankCredentials,
  type BankStatementSource,
} from './bank-client.ts';
export {
  StatementFormatError,
  parseCamt053,
  statementLimits,
  type ClosingBalance,
  type Statement,
  type StatementEntry,
} from './camt053.ts';
export { recordClosingBalances } from './balances.ts';
export type { PayoutBankEventResult, PayoutBankEvents } from './payout-events.ts';
export { bankSettlementTransfer } from './postings.ts';
export {
  StatementIngestion,
  defaultStatementIngestionOptions,
  type IngestThroughResult,
  type StatementCounts,
  type StatementIngestionOptions,
} from './statements.ts';
