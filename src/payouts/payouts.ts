// Payouts (architecture §12): money from a merchant's available balance to its bank account.
//
//   created    merchant:<m>:available → platform:payouts_in_transit   payout:<po>
//   paid       platform:payouts_in_transit → bank:<ccy>                payout_paid:<po>
//   failed     platform:payouts_in_transit → merchant:<m>:available    payout_failed:<po>
//   canceled   platform:payouts_in_transit → merchant:<m>:available    payout_cancel:<po>
//   returned   bank:<ccy> → merchant:<m>:available                     payout_returned:<po>
//
// A payout is created in one transaction with its ledger transfer, its balance transaction, its
// allocations (which available clearing groups and balance transactions it pays, FIFO, the last
// one possibly in part) and its event. Sending follows the rule "persist intent, call, record": a short transaction
// counts the send attempt (from then on the payout cannot be canceled), the bank is called with
// the payout id as its idempotency key, a second short transaction records the answer. A crash
// anywhere leaves the payout pending, and the next run sends it again under the same id: the bank
// executes it once.
import type { PayoutBankEventResult, PayoutBankEvents } from '../banking/payout-events.ts';
import { timeFor, type Clock, type ClockReading, clockSql } from '../clock.ts';
import { insertEvents, type EventType } from '../events/events.ts';
import type { FaultInjector } from '../fault-points.ts';
import { newSortableId } from '../ids.ts';
import type { IdempotentRequest } from '../idempotency/request.ts';
import { resumedResourceId } from '../idempotency/request.ts';
import type { Ledger } from '../ledger/index.ts';
import { assertPositiveAmount, isCurrency } from '../money/index.ts';
import { accountIds, merchantMoneyOutAccounts } from '../accounts/index.ts';
import { allocate } from './allocation.ts';
import type { Database, Queryable } from '../storage/database.ts';
import { keysetPage, type PageRequest } from '../storage/pagination.ts';
import type { SecretBox } from '../vault/secret-box.ts';
import {
  bankAccountDetails,
  defaultBankAccount,
  deleteBankAccount,
  findBankAccount,
  insertBankAccount,
  listBankAccounts,
  missing as missingBankAccount,
  type BankAccountKeys,
  type NewBankAccount,
} from './bank-accounts.ts';
import type { BankClient } from './bank-client.ts';
import { PayoutError } from './errors.ts';
import {
  readPayoutSettings,
  writePayoutSettings,
  type MerchantSettingsChange,
  type OperatorSettingsChange,
} from './settings.ts';
import type { BankAccount, Payout, PayoutSettings, PayoutStatus } from './types.ts';
import { createDueWithin } from './automatic.ts';
import {
  availableAccount,
  insertBalanceTransaction,
  isAutomaticDayConflict,
  move,
  payoutColumns,
  payoutEvent,
  payoutFromRow,
  selectPayout,
  type Due,
  type PayoutRow,
} from './records.ts';

export type PayoutsDependencies = {
  readonly database: Database;
  readonly ledger: Ledger;
  readonly clock: Clock;
  /** Seals bank account numbers; the fingerprint key finds duplicates. */
  readonly bankAccountKeys: BankAccountKeys;
  /** The bank; sending refuses to run without one. */
  readonly bank?: BankClient;
  readonly faults?: FaultInjector;
  /** Wakes the event bus after a commit that wrote events. */
  readonly events?: { notify(): void };
};

export type CreatePayoutInput = {
  readonly currency: string;
  /** The whole payable balance when not given (minor units; a number from the API). */
  readonly amount?: bigint | number;
  readonly description?: string;
  readonly metadata?: Readonly<Record<string, string>>;
};

export type PayoutListOptions = PageRequest & {
  readonly status?: PayoutStatus;
  readonly created?: DateRange;
  readonly arrivalDate?: DateRange;
};

export type DateRange = {
  readonly gt?: Date;
  readonly gte?: Date;
  readonly lt?: Date;
  readonly lte?: Date;
};

export type Payable = {
  /** The available account's available balance (net of reserve holds). */
  readonly available: bigint;
  readonly receivable: bigint;
  readonly minimum: bigint;
  /** available − receivable − minimum, never below 0. */
  readonly payable: bigint;
};

export type SendSummary = {
  readonly attempted: number;
  readonly inTransit: number;
  readonly failed: number;
  /** The bank's answer was not learned; sent again on the next run. */
  readonly unknown: number;
};

export function failureCodeOf(bankCode: string): string {
  const iso: Record<string, string> = {
    AC01: 'invalid_account_number',
    AC03: 'invalid_account_number',
    AC04: 'account_closed',
    AC06: 'account_frozen',
    AG01: 'bank_account_restricted',
    AM04: 'insufficient_funds',
    MD07: 'account_closed',
  };
  const code = iso[bankCode.toUpperCase()] ?? bankCode.toLowerCase();
  return /^[a-z_]{1,50}$/.test(code) ? code : 'declined';
}

/**
 * Failure codes that say the account itself cannot take money (closed, invalid, frozen,
 * restricted): the account becomes `errored` and automatic payouts stop going there, instead of
 * sending the money back to it every day. Other failures (the bank's lack of funds) are not the
 * account's.
 */
const accountFailureCodes: ReadonlySet<string> = new Set([
  'invalid_account_number',
  'account_closed',
  'account_frozen',
  'bank_account_restricted',
]);

async function markAccountErrored(
  q: Queryable,
  payout: Payout,
  failureCode: string,
): Promise<void> {
  if (!accountFailureCodes.has(failureCode)) return;
  await q.query(`UPDATE merchant_bank_accounts SET status = 'errored' WHERE id = $1`, [
    payout.bankAccountId,
  ]);
}

const failureMessages: Record<string, string> = {
  invalid_account_number: 'The bank account number is not valid.',
  account_closed: 'The bank account has been closed.',
  account_frozen: 'The bank account has been frozen.',
  bank_account_restricted: 'The bank account has restrictions on payouts.',
  insufficient_funds: 'The payout could not be made for lack of funds.',
  could_not_process: 'The bank could not process the payout instruction.',
};

export class PayoutsService implements PayoutBankEvents {
  readonly #database: Database;
  readonly #ledger: Ledger;
  readonly #clock: Clock;
  readonly #keys: BankAccountKeys;
  readonly #bank: BankClient | undefined;
  readonly #faults: FaultInjector | undefined;
  readonly #events: { notify(): void } | undefined;

  constructor(dependencies: PayoutsDependencies) {
    this.#database = dependencies.database;
    this.#ledger = dependencies.ledger;
    this.#clock = dependencies.clock;
    this.#keys = dependencies.bankAccountKeys;
    this.#bank = dependencies.bank;
    this.#faults = dependencies.faults;
    this.#events = dependencies.events;
  }

  get #secretBox(): SecretBox {
    return this.#keys.secretBox;
  }

  // ---- settings -------------------------------------------------------------------------------

  async settings(merchantId: string): Promise<PayoutSettings> {
    return readPayoutSettings(this.#database, merchantId);
  }

  /** The merchant's own change: schedule, weekly anchor, minimum balances. */
  async updateSettings(
    merchantId: string,
    change: MerchantSettingsChange,
  ): Promise<PayoutSettings> {
    const { schedule, weeklyAnchor, minimumBalances } = change;
    return this.#writeSettings(merchantId, { schedule, weeklyAnchor, minimumBalances });
  }

  /** The operator's change: also the availability delay and the rolling reserve. */
  async updateSettingsAsOperator(
    merchantId: string,
    change: OperatorSettingsChange,
  ): Promise<PayoutSettings> {
    return this.#writeSettings(merchantId, change);
  }

  async #writeSettings(
    merchantId: string,
    change: OperatorSettingsChange,
  ): Promise<PayoutSettings> {
    const now = this.#clock.now(merchantId);
    return this.#database.transaction(async (tx) => {
      await writePayoutSettings(tx, merchantId, change, now);
      return readPayoutSettings(tx, merchantId);
    });
  }

  // ---- bank accounts --------------------------------------------------------------------------

  async createBankAccount(
    merchantId: string,
    input: NewBankAccount,
    idempotency: IdempotentRequest = {},
  ): Promise<BankAccount> {
    const resumed = resumedResourceId(idempotency);
    if (resumed !== undefined) {
      const found = await findBankAccount(this.#database, merchantId, resumed);
      if (found !== undefined) return found;
    }
    const now = this.#clock.now(merchantId);
    return this.#database.transaction(async (tx) => {
      const account = await insertBankAccount(tx, merchantId, input, this.#keys, now);
      await idempotency.bind?.(tx, account.id);
      return account;
    });
  }

  async retrieveBankAccount(merchantId: string, id: string): Promise<BankAccount> {
    const found = await findBankAccount(this.#database, merchantId, id);
    if (found === undefined) throw missingBankAccount(id);
    return found;
  }

  async listBankAccounts(
    merchantId: string,
    options: PageRequest & { readonly currency?: string },
  ): Promise<{ bankAccounts: BankAccount[]; hasMore: boolean }> {
    return listBankAccounts(this.#database, merchantId, options);
  }

  async deleteBankAccount(merchantId: string, id: string): Promise<BankAccount> {
    const now = this.#clock.now(merchantId);
    return this.#database.transaction((tx) => deleteBankAccount(tx, merchantId, id, now));
  }

  // ---- payable balance ------------------------------------------------------------------------

  /** What a payout could take now (read without locks; creation re-reads it under lock). */
  async payable(merchantId: string, currency: string): Promise<Payable> {
    return this.#payableWithin(this.#database, merchantId, currency, false);
  }

  async #payableWithin(
    queryable: Queryable,
    merchantId: string,
    currency: string,
    lock: boolean,
  ): Promise<Payable> {
    const available = accountIds.merchantAvailable(merchantId, currency);
    const result = await queryable.query<{ available: bigint | null }>(
      `SELECT posted_credits - posted_debits - pending_debits AS available FROM ledger_accounts WHERE id = $1
       ${lock ? 'FOR UPDATE' : ''}`,
      [available],
    );
    const other = await queryable.query<{ receivable: bigint | null; minimum: bigint | null }>(
      `SELECT (SELECT posted_debits - posted_credits FROM ledger_accounts WHERE id = $1) AS receivable,
              (SELECT amount FROM merchant_minimum_balances WHERE merchant_id = $2 AND currency = $3) AS minimum`,
      [accountIds.merchantReceivable(merchantId, currency), merchantId, currency],
    );
    const availableAmount = BigInt(result.rows[0]?.available ?? 0n);
    const receivable = BigInt(other.rows[0]?.receivable ?? 0n);
    const minimum = BigInt(other.rows[0]?.minimum ?? 0n);
    const payable = availableAmount - receivable - minimum;
    return {
      available: availableAmount,
      receivable,
      minimum,
      payable: payable > 0n ? payable : 0n,
    };
  }

  // ---- payouts --------------------------------------------------------------------------------

  /** A manual payout: of `amount`, or of the whole payable balance. */
  async create(
    merchantId: string,
    input: CreatePayoutInput,
    idempotency: IdempotentRequest = {},
  ): Promise<Payout> {
    if (!isCurrency(input.currency))
      throw new PayoutError(
        'parameter_invalid',
        `Unknown currency '${input.currency}'.`,
        'currency',
      );
    const amount =
      input.amount === undefined
        ? undefined
        : assertPositiveAmount(input.amount, 'amount', input.currency);
    const resumed = resumedResourceId(idempotency);
    if (resumed !== undefined) {
      const found = await selectPayout(this.#database, resumed, { merchantId });
      if (found !== undefined) return found;
    }
    const now = this.#clock.now(merchantId);
    const payout = await this.#database.transaction(async (tx) => {
      const created = await this.#createWithin(
        tx,
        merchantId,
        { ...input, amount },
        now,
        undefined,
      );
      if (created === undefined) throw new Error('a manual payout is created or refused');
      await idempotency.bind?.(tx, created.id);
      return created;
    });
    this.#events?.notify();
    return payout;
  }

  /**
   * Creates the payout, its ledger transfer, balance transaction, allocations and event in the
   * caller's transaction. An automatic payout (`payoutDay` set) of nothing payable is not made
   * (undefined); a manual one is refused.
   */
  async #createWithin(
    tx: Queryable,
    merchantId: string,
    input: CreatePayoutInput,
    now: Date,
    payoutDay: string | undefined,
  ): Promise<Payout | undefined> {
    const { currency } = input;
    await this.#ledger.ensureAccountsWithin(tx, [
      availableAccount(merchantId, currency),
      ...merchantMoneyOutAccounts(merchantId, currency),
    ]);
    // The available account's row lock serializes the payouts of one merchant and currency: the
    // payable balance and the unallocated items read below cannot change before this commits.
    const payable = await this.#payableWithin(tx, merchantId, currency, true);
    const automatic = payoutDay !== undefined;
    const amount = input.amount === undefined ? payable.payable : BigInt(input.amount);
    if (amount <= 0n || amount > payable.payable) {
      if (automatic) return undefined;
      throw new PayoutError(
        'balance_insufficient',
        input.amount === undefined
          ? `There is nothing to pay out in ${currency}: the payable balance is 0.`
          : `The payout amount exceeds the payable balance (${payable.payable} ${currency}: available ${payable.available}` +
              `${payable.receivable > 0n ? `, minus ${payable.receivable} owed` : ''}` +
              `${payable.minimum > 0n ? `, minus the minimum balance ${payable.minimum}` : ''}).`,
        'amount',
      );
    }
    const account = await defaultBankAccount(tx, merchantId, currency);
    // An errored account (a payout to it failed for the account's sake) gets no automatic payout.
    if (automatic && account?.status === 'errored') return undefined;
    if (account === undefined) {
      if (automatic) return undefined;
      throw new PayoutError(
        'no_external_account',
        `There is no default bank account for ${currency}; add one with POST /v1/bank_accounts.`,
        'currency',
      );
    }
    const id = newSortableId('po', now.getTime());
    await tx.query(
      `INSERT INTO payouts (id, merchant_id, currency, amount, method, status, bank_account_id, description,
          metadata, arrival_date, created_at, updated_at, payout_day)
       VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8::jsonb, payrail_business_days_after($9, 1), $9, $9, $10::date)`,
      [
        id,
        merchantId,
        currency,
        amount,
        automatic ? 'automatic' : 'manual',
        account.id,
        input.description ?? null,
        JSON.stringify(input.metadata ?? {}),
        now,
        payoutDay ?? null,
      ],
    );
    await insertBalanceTransaction(tx, {
      merchantId,
      currency,
      type: 'payout',
      source: id,
      amount: -amount,
      ledgerTransactionId: `payout:${id}`,
      description: input.description ?? null,
      now,
    });
    await allocate(tx, [{ payoutId: id, merchantId, currency, amount }]);
    // Last: the transfer locks platform:payouts_in_transit, which every payout in the currency
    // shares, so it is held only for the end of the transaction.
    const ledgerId = `payout:${id}`;
    const [result] = await this.#ledger.transferBatchWithin(
      tx,
      [
        move(
          ledgerId,
          accountIds.merchantAvailable(merchantId, currency),
          accountIds.payoutsInTransit(currency),
          amount,
          currency,
          `payout ${id}`,
        ),
      ],
      { now },
    );
    if (result?.status === 'rejected') {
      if (result.error.code === 'limit_exceeded')
        throw new PayoutError(
          'balance_insufficient',
          'The payout amount exceeds the available balance.',
          'amount',
        );
      throw result.error;
    }
    const payout = (await selectPayout(tx, id)) as Payout;
    await insertEvents(tx, [payoutEvent('payout.created', payout)], now);
    return payout;
  }

  async retrieve(merchantId: string, id: string): Promise<Payout> {
    const found = await selectPayout(this.#database, id, { merchantId });
    if (found === undefined) throw missingPayout(id);
    return found;
  }

  async list(
    merchantId: string,
    options: PayoutListOptions,
  ): Promise<{ payouts: Payout[]; hasMore: boolean }> {
    const range = (column: string, first: number, value: DateRange | undefined) => ({
      sql: `($${first}::timestamptz IS NULL OR ${column} > $${first}) AND ($${first + 1}::timestamptz IS NULL OR ${column} >= $${first + 1})
        AND ($${first + 2}::timestamptz IS NULL OR ${column} < $${first + 2}) AND ($${first + 3}::timestamptz IS NULL OR ${column} <= $${first + 3})`,
      parameters: [value?.gt ?? null, value?.gte ?? null, value?.lt ?? null, value?.lte ?? null],
    });
    const created = range('p.created_at', 3, options.created);
    const arrival = range('p.arrival_date', 7, options.arrivalDate);
    const { rows, hasMore } = await keysetPage<PayoutRow, string>(
      this.#database,
      {
        select: payoutColumns,
        from: 'payouts p',
        scope: 'p.merchant_id = $1',
        scopeParameters: [merchantId],
        filter: `($2::text IS NULL OR p.status = $2) AND ${created.sql} AND ${arrival.sql}`,
        filterParameters: [options.status ?? null, ...created.parameters, ...arrival.parameters],
        key: 'p.id',
        keyType: 'text',
        order: 'newest_first',
        noun: 'payout',
      },
      options,
    );
    return { payouts: rows.map(payoutFromRow), hasMore };
  }

  /** Cancels a payout that is pending and was never handed to the bank. */
  /**
   * Cancels a payout not yet sent. `within` runs in the cancel's own transaction with the payout
   * as canceled (the dashboard's audit entry: both or neither).
   */
  async cancel(
    merchantId: string,
    id: string,
    within?: (tx: Queryable, canceled: Payout) => Promise<void>,
  ): Promise<Payout> {
    const now = this.#clock.now(merchantId);
    const payout = await this.#database.transaction(async (tx) => {
      const found = await selectPayout(tx, id, { merchantId, lock: true });
      if (found === undefined) throw missingPayout(id);
      if (found.status !== 'pending' || found.sendAttempts > 0)
        throw new PayoutError(
          'payout_not_cancelable',
          found.status === 'pending'
            ? `Payout ${id} has already been sent to the bank and can no longer be canceled.`
            : `Payout ${id} is ${found.status} and can no longer be canceled.`,
        );
      const canceled = await this.#reverse(tx, found, {
        status: 'canceled',
        ledgerId: `payout_cancel:${id}`,
        from: accountIds.payoutsInTransit(found.currency),
        type: 'payout_cancel',
        failureCode: null,
        failureMessage: null,
        event: 'payout.canceled',
        now,
      });
      await within?.(tx, canceled);
      return canceled;
    });
    this.#events?.notify();
    return payout;
  }

  /**
   * Puts a payout's money back in the merchant's available balance: the reversing ledger transfer,
   * a payout_failure or payout_cancel balance transaction (available at once, paid out again by the
   * next payout), the payout's new status and its event. `payout` is locked by the caller.
   */
  async #reverse(
    tx: Queryable,
    payout: Payout,
    change: {
      status: 'failed' | 'canceled';
      ledgerId: string;
      from: string;
      type: 'payout_failure' | 'payout_cancel';
      failureCode: string | null;
      failureMessage: string | null;
      event: EventType;
      now: Date;
    },
  ): Promise<Payout> {
    const { merchantId, currency, amount, id } = payout;
    await this.#ledger.ensureAccountsWithin(tx, [
      availableAccount(merchantId, currency),
      ...merchantMoneyOutAccounts(merchantId, currency),
    ]);
    const [result] = await this.#ledger.transferBatchWithin(
      tx,
      [
        move(
          change.ledgerId,
          change.from,
          accountIds.merchantAvailable(merchantId, currency),
          amount,
          currency,
          `${change.type === 'payout_cancel' ? 'cancel' : 'failure'} of payout ${id}`,
        ),
      ],
      { now: change.now },
    );
    if (result?.status === 'rejected') throw result.error;
    await insertBalanceTransaction(tx, {
      merchantId,
      currency,
      type: change.type,
      source: id,
      amount,
      ledgerTransactionId: change.ledgerId,
      description: null,
      now: change.now,
    });
    await tx.query(
      `UPDATE payouts SET status = $2, failure_code = $3, failure_message = $4, updated_at = $5 WHERE id = $1`,
      [id, change.status, change.failureCode, change.failureMessage, change.now],
    );
    const updated = (await selectPayout(tx, id)) as Payout;
    await insertEvents(tx, [payoutEvent(change.event, updated)], change.now);
    return updated;
  }

  // ---- automatic payouts ----------------------------------------------------------------------

  /**
   * Creates the automatic payouts due at `reading`: per merchant and currency with a positive
   * payable balance and a default bank account, on a daily schedule every day, on a weekly one on
   * its anchor day (the merchant's time, UTC day). At most one per merchant, currency and day
   * (unique index payouts_automatic_day), however often and wherever this runs. The payouts of up
   * to `merchantsPerTransaction` merchants are made in one database transaction (set-based), a
   * few transactions at once.
   */
  async createDue(
    reading: ClockReading = this.#clock.reading(),
    options: {
      readonly limit?: number;
      readonly concurrency?: number;
      readonly merchantsPerTransaction?: number;
    } = {},
  ): Promise<{ created: Payout[]; skipped: number }> {
    const clock = clockSql(reading, 'a.owner', 1);
    const today = `((${clock.now}) AT TIME ZONE 'UTC')::date`;
    const due = await this.#database.query<{ merchant_id: string; currency: string }>(
      `SELECT a.owner AS merchant_id, a.currency
         FROM ledger_accounts a
         LEFT JOIN merchant_payout_settings s ON s.merchant_id = a.owner
        WHERE a.id LIKE 'merchant:%:available:%' AND a.id = 'merchant:' || a.owner || ':available:' || a.currency
          AND a.posted_credits - a.posted_debits - a.pending_debits > 0
          AND coalesce(s.schedule, 'daily') <> 'manual'
          AND (coalesce(s.schedule, 'daily') = 'daily'
               OR extract(isodow FROM ${today}) = s.weekly_anchor)
          AND EXISTS (SELECT 1 FROM merchant_bank_accounts b WHERE b.merchant_id = a.owner
                        AND b.currency = a.currency AND b.default_for_currency AND b.deleted_at IS NULL
                        AND b.status <> 'errored')
          AND NOT EXISTS (SELECT 1 FROM payouts p WHERE p.merchant_id = a.owner AND p.currency = a.currency
                            AND p.method = 'automatic' AND p.payout_day = ${today})
        ORDER BY a.owner, a.currency
        ${options.limit === undefined ? '' : `LIMIT ${Math.max(1, Math.floor(options.limit))}`}`,
      clock.values,
    );
    // Chunks of merchants whose clocks read the same time (every live merchant: the system's),
    // each chunk's payouts made in one database transaction.
    const perTransaction = Math.max(1, options.merchantsPerTransaction ?? 100);
    const byTime = new Map<number, Due[]>();
    for (const row of due.rows) {
      const now = timeFor(reading, row.merchant_id);
      const group = byTime.get(now.getTime()) ?? [];
      group.push({ merchantId: row.merchant_id, currency: row.currency, now });
      byTime.set(now.getTime(), group);
    }
    const queue: Due[][] = [];
    for (const group of byTime.values())
      for (let start = 0; start < group.length; start += perTransaction)
        queue.push(group.slice(start, start + perTransaction));
    const created: Payout[] = [];
    let skipped = 0;
    const failures: unknown[] = [];
    const worker = async () => {
      for (let chunk = queue.shift(); chunk !== undefined; chunk = queue.shift()) {
        const outcome = await this.#createDueChunk(chunk, failures);
        created.push(...outcome.created);
        skipped += outcome.skipped;
      }
    };
    // Chunks are independent (each locks its own merchants' available accounts, in id order);
    // PGlite has one session.
    const workers = options.concurrency ?? (this.#database.kind === 'postgres' ? 4 : 1);
    await Promise.all(Array.from({ length: Math.max(1, workers) }, worker));
    created.sort((left, right) => (left.id < right.id ? -1 : 1));
    if (created.length > 0) this.#events?.notify();
    // The other payouts are committed; a merchant whose payout failed fails loudly here.
    if (failures.length > 0)
      throw new AggregateError(failures, `${failures.length} automatic payouts failed`);
    return { created, skipped };
  }

  /**
   * The due payouts of a chunk of merchants (one time) in one database transaction, set-based:
   * their available accounts locked in id order and their payable balances read, the payouts, their
   * balance transactions and allocations inserted, their ledger transfers posted in one batch and
   * their events written. If the chunk fails, each merchant alone (#createDueOne), so that one
   * merchant's failure holds back no other's payout; its failure is collected for createDue to
   * throw once the others are made.
   */
  async #createDueChunk(
    chunk: readonly Due[],
    failures: unknown[],
  ): Promise<{ created: Payout[]; skipped: number }> {
    try {
      return await this.#database.transaction((tx) => createDueWithin(tx, this.#ledger, chunk));
    } catch {
      // Each alone below: the failing one fails again, on its own.
    }
    const created: Payout[] = [];
    let skipped = 0;
    for (const one of chunk) {
      try {
        const payout = await this.#createDueOne(one);
        if (payout === undefined) skipped++;
        else created.push(payout);
      } catch (error) {
        failures.push(error);
      }
    }
    return { created, skipped };
  }

  /** One due payout in its own transaction; undefined when there is nothing to pay or it exists. */
  async #createDueOne(due: Due): Promise<Payout | undefined> {
    const day = due.now.toISOString().slice(0, 10);
    try {
      return await this.#database.transaction((tx) =>
        this.#createWithin(
          tx,
          due.merchantId,
          { currency: due.currency, description: 'automatic payout' },
          due.now,
          day,
        ),
      );
    } catch (error) {
      // Another process made today's payout first.
      if (isAutomaticDayConflict(error)) return undefined;
      throw error;
    }
  }

  /** One run of both steps (operator route, CLI): the due automatic payouts, then sending. */
  async run(
    steps: { readonly createDue?: boolean; readonly send?: boolean } = {},
  ): Promise<{ created: number; skipped: number; sent: SendSummary }> {
    const due = steps.createDue === false ? { created: [], skipped: 0 } : await this.createDue();
    const sent =
      steps.send === false
        ? { attempted: 0, inTransit: 0, failed: 0, unknown: 0 }
        : await this.sendPending();
    return { created: due.created.length, skipped: due.skipped, sent };
  }

  // ---- sending --------------------------------------------------------------------------------

  /** Sends every pending payout (oldest first, at most `limit`) to the bank and records the answers. */
  async sendPending(
    options: { readonly limit?: number; readonly concurrency?: number } = {},
  ): Promise<SendSummary> {
    const bank = this.#bank;
    if (bank === undefined) throw new Error('payouts: no bank is configured to send payouts to');
    const pending = await this.#database.query<{ id: string }>(
      "SELECT id FROM payouts WHERE status = 'pending' ORDER BY created_at, id LIMIT $1",
      [options.limit ?? 1000],
    );
    const summary = { attempted: 0, inTransit: 0, failed: 0, unknown: 0 };
    const queue = pending.rows.map((row) => row.id);
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        const outcome = await this.send(id, bank);
        if (outcome === 'skipped') continue;
        summary.attempted++;
        if (outcome === 'in_transit') summary.inTransit++;
        else if (outcome === 'failed') summary.failed++;
        else summary.unknown++;
      }
    };
    // Payouts are independent (each its own transactions and the bank's idempotency key), so a
    // few are sent at once: one after the other, a run of 1,000 waited on 1,000 round trips to
    // the bank. PGlite has one session.
    const workers = options.concurrency ?? (this.#database.kind === 'postgres' ? 4 : 1);
    await Promise.all(Array.from({ length: Math.max(1, workers) }, worker));
    return summary;
  }

  /** One payout: record the attempt, call the bank, record its answer. */
  async send(
    id: string,
    bank: BankClient | undefined = this.#bank,
  ): Promise<'in_transit' | 'failed' | 'unknown' | 'skipped'> {
    if (bank === undefined) throw new Error('payouts: no bank is configured to send payouts to');
    const attempt = await this.#database.transaction(async (tx) => {
      const updated = await tx.query<{ id: string }>(
        `UPDATE payouts SET send_attempts = least(send_attempts + 1, 32767), updated_at = $2
          WHERE id = $1 AND status = 'pending' RETURNING id`,
        [id, this.#clock.now()],
      );
      return updated.rows.length === 0 ? undefined : selectPayout(tx, id);
    });
    if (attempt === undefined) return 'skipped';
    this.#faults?.reach('payout_after_send_recorded');
    const account = await bankAccountDetails(
      this.#database,
      attempt.bankAccountId,
      this.#secretBox,
    );
    const answer = await bank.sendPayout({
      payoutId: attempt.id,
      amount: attempt.amount,
      currency: attempt.currency,
      requestedAt: this.#clock.now(),
      account,
    });
    this.#faults?.reach('payout_after_bank_call');
    if (answer.kind === 'unknown') return 'unknown';
    const now = this.#clock.now(attempt.merchantId);
    const outcome = await this.#database.transaction(async (tx) => {
      const payout = await selectPayout(tx, id, { lock: true });
      if (payout?.status !== 'pending') return 'skipped' as const;
      if (answer.kind === 'accepted') {
        await tx.query(
          `UPDATE payouts SET status = 'in_transit', trace_id = $2,
              arrival_date = coalesce(($3::date)::timestamp AT TIME ZONE 'UTC', arrival_date), updated_at = $4
            WHERE id = $1`,
          [id, answer.traceId, answer.expectedOn, now],
        );
        return 'in_transit' as const;
      }
      const failureCode = failureCodeOf(answer.failureCode);
      await markAccountErrored(tx, payout, failureCode);
      await this.#reverse(tx, payout, {
        status: 'failed',
        ledgerId: `payout_failed:${id}`,
        from: accountIds.payoutsInTransit(payout.currency),
        type: 'payout_failure',
        failureCode,
        failureMessage:
          failureMessages[failureCode] ?? `The bank refused the payout (${failureCode}).`,
        event: 'payout.failed',
        now,
      });
      return 'failed' as const;
    });
    this.#faults?.reach('payout_after_result_recorded');
    if (outcome === 'failed') this.#events?.notify();
    return outcome;
  }

  // ---- the bank statement's news (PayoutBankEvents) -------------------------------------------

  async paid(
    payoutId: string,
    traceId: string,
    bookedAt: Date,
    tx?: Queryable,
  ): Promise<PayoutBankEventResult> {
    const result = await this.#within(tx, async (q) => {
      const payout = await selectPayout(q, payoutId, { lock: true });
      if (payout === undefined) return 'unknown_payout' as const;
      if (payout.status !== 'pending' && payout.status !== 'in_transit')
        return 'already_applied' as const;
      await this.#markPaid(q, payout, traceId, bookedAt);
      return 'applied' as const;
    });
    if (result === 'applied' && tx === undefined) this.#events?.notify();
    return result;
  }

  async #markPaid(q: Queryable, payout: Payout, traceId: string, bookedAt: Date): Promise<void> {
    const now = this.#clock.now(payout.merchantId);
    const [result] = await this.#ledger.transferBatchWithin(
      q,
      [
        move(
          `payout_paid:${payout.id}`,
          accountIds.payoutsInTransit(payout.currency),
          accountIds.bank(payout.currency),
          payout.amount,
          payout.currency,
          `payout ${payout.id} paid`,
        ),
      ],
      { now },
    );
    if (result?.status === 'rejected') throw result.error;
    await q.query(
      `UPDATE payouts SET status = 'paid', trace_id = coalesce(trace_id, nullif($2, '')), arrival_date = $3, updated_at = $4
        WHERE id = $1`,
      [payout.id, traceId, bookedAt, now],
    );
    const updated = (await selectPayout(q, payout.id)) as Payout;
    await insertEvents(q, [payoutEvent('payout.paid', updated)], now);
  }

  async returned(
    payoutId: string,
    reasonCode: string,
    bookedAt: Date,
    tx?: Queryable,
  ): Promise<PayoutBankEventResult> {
    const result = await this.#within(tx, async (q) => {
      let payout = await selectPayout(q, payoutId, { lock: true });
      if (payout === undefined) return 'unknown_payout' as const;
      if (payout.status === 'failed' || payout.status === 'canceled')
        return 'already_applied' as const;
      // A return seen before the debit (a late statement line): the debit happened all the same.
      if (payout.status !== 'paid') {
        await this.#markPaid(q, payout, payout.traceId ?? '', bookedAt);
        payout = (await selectPayout(q, payoutId)) as Payout;
      }
      const failureCode = failureCodeOf(reasonCode);
      await markAccountErrored(q, payout, failureCode);
      await this.#reverse(q, payout, {
        status: 'failed',
        ledgerId: `payout_returned:${payoutId}`,
        from: accountIds.bank(payout.currency),
        type: 'payout_failure',
        failureCode,
        failureMessage: `${failureMessages[failureCode] ?? 'The bank returned the payout.'} (bank reason ${reasonCode.slice(0, 8)})`,
        event: 'payout.failed',
        now: this.#clock.now(payout.merchantId),
      });
      return 'applied' as const;
    });
    if (result === 'applied' && tx === undefined) this.#events?.notify();
    return result;
  }

  async #within<T>(tx: Queryable | undefined, work: (q: Queryable) => Promise<T>): Promise<T> {
    return tx === undefined ? this.#database.transaction(work) : work(tx);
  }
}

function missingPayout(id: string): PayoutError {
  return new PayoutError('resource_missing', `No such payout: '${id}'`, 'id');
}
