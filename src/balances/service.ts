// What a merchant reads of its balance (architecture §12): Stripe's balance object and its balance
// transactions. The balance is read from the ledger; balance transactions are its itemization.
import { DomainError } from '../errors.ts';
import { balanceOf, type AccountType } from '../ledger/index.ts';
import type { Database } from '../storage/database.ts';
import { keysetPage, type PageRequest } from '../storage/pagination.ts';
import { balanceAccountIds, totalsOf } from './accounts.ts';
import {
  availabilityIdSql,
  balanceTransactions,
  type BalanceTransaction,
  type BalanceTransactionType,
} from './balance-transactions.ts';

export type Amount = { readonly amount: bigint; readonly currency: string };

export type MerchantBalance = {
  /** Available (net of reserve holds) minus what the merchant owes: negative after a bad day. */
  readonly available: Amount[];
  readonly pending: Amount[];
  /** Held by rolling reserves. */
  readonly reserved: Amount[];
};

/** A time range as Stripe's list filters give it (`created[gte]=…`); bounds are inclusive or not. */
export type TimeRange = {
  readonly gt?: Date;
  readonly gte?: Date;
  readonly lt?: Date;
  readonly lte?: Date;
};

export type BalanceTransactionFilters = {
  readonly type?: BalanceTransactionType;
  /** One currency (the dashboard's filter; the API has none). */
  readonly currency?: string;
  readonly source?: string;
  /**
   * What a payout paid out: the items of the clearing groups it took (all of a group's items, also
   * when it took the group in part), the balance transactions it took, and its own row.
   */
  readonly payout?: string;
  readonly availableOn?: TimeRange;
  readonly created?: TimeRange;
};

export class BalanceError extends DomainError<'resource_missing'> {
  constructor(message: string, param: string) {
    super('resource_missing', 'not_found', message, param);
    this.name = 'BalanceError';
  }
}

type AccountRow = {
  id: string;
  type: AccountType;
  currency: string;
  posted_debits: bigint;
  posted_credits: bigint;
  pending_debits: bigint;
  pending_credits: bigint;
};

const byCurrency = (a: Amount, b: Amount): number => (a.currency < b.currency ? -1 : 1);

const operators = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

// Whole rows, a settlement item's availability read through its clearing group.
const rowColumns = balanceTransactions.shape
  .map((column) =>
    column.name === 'availability_id'
      ? `${availabilityIdSql('bt')} AS availability_id`
      : `bt.${column.name}`,
  )
  .join(', ');

export class BalancesService {
  readonly #database: Database;

  constructor(dependencies: { readonly database: Database }) {
    this.#database = dependencies.database;
  }

  /** The balance per currency, from the merchant's ledger accounts. */
  async balance(merchantId: string): Promise<MerchantBalance> {
    const result = await this.#database.query<AccountRow>(
      `SELECT id, type, currency, posted_debits, posted_credits, pending_debits, pending_credits
         FROM ledger_accounts WHERE owner = $1`,
      [merchantId],
    );
    const balances = new Map(
      result.rows.map((row) => [row.id, balanceOf(row.type, totalsOf(row))] as const),
    );
    const currencies = [...new Set(result.rows.map((row) => row.currency))];
    const available: Amount[] = [];
    const pending: Amount[] = [];
    const reserved: Amount[] = [];
    for (const currency of currencies) {
      const ids = balanceAccountIds(merchantId, currency);
      const ofAvailable = balances.get(ids.available);
      const ofReceivable = balances.get(ids.receivable);
      if (ofAvailable !== undefined || ofReceivable !== undefined)
        available.push({
          amount: (ofAvailable?.available ?? 0n) - (ofReceivable?.posted ?? 0n),
          currency,
        });
      const ofPending = balances.get(ids.pending);
      if (ofPending !== undefined) pending.push({ amount: ofPending.posted, currency });
      const ofReserve = balances.get(ids.reserve);
      if (ofReserve !== undefined) reserved.push({ amount: ofReserve.pending, currency });
    }
    return {
      available: available.sort(byCurrency),
      pending: pending.sort(byCurrency),
      reserved: reserved.sort(byCurrency),
    };
  }

  async retrieveBalanceTransaction(merchantId: string, id: string): Promise<BalanceTransaction> {
    const result = await this.#database.query(
      `SELECT ${rowColumns} FROM balance_transactions bt WHERE bt.id = $1 AND bt.merchant_id = $2`,
      [id, merchantId],
    );
    const row = result.rows[0];
    if (row === undefined) throw new BalanceError(`No such balance_transaction: '${id}'`, 'id');
    return balanceTransactions.fromRow(row);
  }

  /** Newest first (ids are sortable by creation), narrowed by Stripe's filters. */
  async listBalanceTransactions(
    merchantId: string,
    options: PageRequest & BalanceTransactionFilters,
  ): Promise<{ balanceTransactions: BalanceTransaction[]; hasMore: boolean }> {
    const { filter, parameters } = filtersSql(options, 2);
    const { rows, hasMore } = await keysetPage(
      this.#database,
      {
        select: rowColumns,
        from: 'balance_transactions bt',
        scope: 'bt.merchant_id = $1',
        scopeParameters: [merchantId],
        ...(filter === undefined ? {} : { filter, filterParameters: parameters }),
        key: 'bt.id',
        keyType: 'text',
        order: 'newest_first',
        noun: 'balance_transaction',
      },
      options,
    );
    return { balanceTransactions: rows.map(balanceTransactions.fromRow), hasMore };
  }
}

function filtersSql(
  filters: BalanceTransactionFilters,
  first: number,
): { filter: string | undefined; parameters: unknown[] } {
  const conditions: string[] = [];
  const parameters: unknown[] = [];
  const bind = (value: unknown): string => {
    parameters.push(value);
    return `$${first + parameters.length - 1}`;
  };
  if (filters.type !== undefined) conditions.push(`bt.type = ${bind(filters.type)}`);
  if (filters.currency !== undefined) conditions.push(`bt.currency = ${bind(filters.currency)}`);
  if (filters.source !== undefined) conditions.push(`bt.source = ${bind(filters.source)}`);
  if (filters.payout !== undefined) {
    const payout = bind(filters.payout);
    conditions.push(
      `(bt.id IN (SELECT a.balance_transaction_id FROM payout_allocations a WHERE a.payout_id = ${payout})
        OR (bt.type = 'payout' AND bt.source = ${payout})
        OR (bt.clearing_status = 'batched' AND bt.availability_id IS NULL
            AND (bt.batch_id, bt.merchant_id, bt.available_on) IN
              (SELECT ga.batch_id, ga.merchant_id, ga.available_on FROM payout_group_allocations ga
                WHERE ga.payout_id = ${payout})))`,
    );
  }
  for (const [column, range] of [
    ['available_on', filters.availableOn],
    ['created_at', filters.created],
  ] as const) {
    for (const [bound, operator] of Object.entries(operators) as [keyof TimeRange, string][]) {
      const value = range?.[bound];
      if (value !== undefined)
        conditions.push(`bt.${column} ${operator} ${bind(value)}::timestamptz`);
    }
  }
  return {
    filter: conditions.length === 0 ? undefined : conditions.join(' AND '),
    parameters,
  };
}
