export { Ledger } from './ledger.ts';
export type { TransferOptions, TransferResult } from './ledger.ts';
export { LedgerError } from './errors.ts';
export type { LedgerErrorCode } from './errors.ts';
export { verifyLedger } from './verify.ts';
export type { VerifyReport } from './verify.ts';
export { balanceOf } from './balances.ts';
export * from './types.ts';
export type { BatcherLimits } from '../storage/batcher.ts';
