// Balances (architecture §12): availability with netting and the receivable, rolling reserves,
// and what a merchant reads (the balance, balance transactions).
import type { Ledger } from '../ledger/index.ts';
import type { Database } from '../storage/database.ts';
import { Availability } from './availability.ts';
import { Reserves } from './reserves.ts';
import { BalancesService } from './service.ts';

export { Availability } from './availability.ts';
export type { AvailabilityOptions, AvailabilityResult } from './availability.ts';
export { Reserves, releaseIdOf } from './reserves.ts';
export type { ReleaseResult } from './reserves.ts';
export { BalancesService, BalanceError } from './service.ts';
export type { Amount, BalanceTransactionFilters, MerchantBalance, TimeRange } from './service.ts';
export {
  availabilityIdSql,
  availableAtOnce,
  balanceTransactions,
  inClearingGroupSql,
} from './balance-transactions.ts';
export type {
  BalanceTransaction,
  BalanceTransactionType,
  ClearingStatus,
} from './balance-transactions.ts';
export { balanceAccountIds, balanceAccountSpecs } from './accounts.ts';

export type Balances = {
  readonly availability: Availability;
  readonly reserves: Reserves;
  readonly service: BalancesService;
};

export function createBalances(dependencies: {
  readonly database: Database;
  readonly ledger: Ledger;
}): Balances {
  return {
    availability: new Availability(dependencies),
    reserves: new Reserves(dependencies),
    service: new BalancesService(dependencies),
  };
}
