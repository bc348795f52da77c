// The data behind the dashboard's payments pages (issue 15): the filterable list (and its CSV
// export) and one payment's timeline. Read-only; plain typed objects, never HTML.
//
// The list is paged by keyset on (created_at, id), newest first, in both directions: a page is
// one index range scan (migration 042), at any depth, and nothing ever counts the table or skips
// rows with OFFSET. Several statuses are read as one ordered range per status (each its own
// index range, LIMIT n + 1), merged and cut to n + 1: an IN list over the status index would
// have to read and sort every matching row. The search box narrows the list to the payments one
// id, one email (exact, case-insensitive) or one card's last4 names.
//
// A merchant's scope is enforced in every statement (merchant_id = $n), and a payment outside
// the scope is simply not found (the page answers 404). Nothing here returns a card number: a
// card is its brand and last4, read from the vault's clear columns or the test-card catalogue.
import { attemptIdOf, chargeIdOf } from '../../ids.ts';
import { DomainError } from '../../errors.ts';
import type { IntentStatus } from '../../payments/types.ts';
import type { RiskRecord } from '../../risk/types.ts';
import { textArrayLiteral } from '../../storage/arrays.ts';
import type { Database, Queryable, Row } from '../../storage/database.ts';
import {
  BothCursorsError,
  pageSizeMax,
  timeRangeConditions,
  UnknownCursorError,
  type TimeRange,
} from '../../storage/pagination.ts';
import { testCard, testPaymentMethodIds } from '../../vault/test-cards.ts';

// ---------------------------------------------------------------------------------------------
// Types

/**
 * Whose payments: a merchant's own (its key or one of its dashboard users), or the operator's
 * (every merchant, or one when `merchantId` is given).
 */
export type DashboardScope =
  | { readonly kind: 'merchant'; readonly merchantId: string }
  | { readonly kind: 'operator'; readonly merchantId?: string };

export const intentStatuses: readonly IntentStatus[] = [
  'requires_payment_method',
  'requires_confirmation',
  'requires_action',
  'processing',
  'requires_capture',
  'succeeded',
  'canceled',
];

/** The list's filters; every one optional, all of them AND-ed. */
export type PaymentFilter = {
  /** One or several statuses (any of them). */
  readonly statuses?: readonly IntentStatus[];
  readonly connector?: string;
  /** Lowercase ISO 4217, as stored. */
  readonly currency?: string;
  /** Minor units, inclusive. */
  readonly amountMin?: bigint;
  readonly amountMax?: bigint;
  /** On created_at (the merchant's clock time), e.g. `{ gte: from, lt: to }`. */
  readonly created?: TimeRange;
  /**
   * The search box: an exact id (pi_, ch_, pa_, re_, pm_, cus_), an email (exact, any case: the
   * receipt email or the customer's), or a card's last4 (4 digits). Anything else finds nothing.
   */
  readonly q?: string;
};

export type PaymentPageRequest = {
  /** 1 … 100; default 25. */
  readonly limit?: number;
  /** The page after this payment (older), in list order. */
  readonly startingAfter?: string;
  /** The page before this payment (newer), in list order. */
  readonly endingBefore?: string;
};

/** One line of the list (and of the CSV export). */
export type PaymentRow = {
  readonly id: string;
  readonly merchantId: string;
  /** Minor units. */
  readonly amount: bigint;
  readonly currency: string;
  readonly status: IntentStatus;
  /** The connector of its latest attempt; null before any. */
  readonly connector: string | null;
  readonly created: Date;
  /** The receipt email, else its customer's. */
  readonly customerEmail: string | null;
  readonly cardBrand: string | null;
  readonly cardLast4: string | null;
  /** The decline code of its latest declined attempt. */
  readonly declineCode: string | null;
};

/**
 * A page in list order (newest first). `hasMore`: more rows follow in the direction asked (older
 * for a first page or `startingAfter`, newer for `endingBefore`), as Stripe's lists say it.
 */
export type PaymentPage = { readonly rows: PaymentRow[]; readonly hasMore: boolean };

/** The filter or page is not valid (a bad status, a negative amount …). */
export class DashboardQueryError extends DomainError<'parameter_invalid'> {
  constructor(message: string, param: string) {
    super('parameter_invalid', 'invalid', message, param);
    this.name = 'DashboardQueryError';
  }
}

/** What the search box understood. */
export type SearchTerm =
  | { readonly kind: 'payment_intent'; readonly id: string }
  | { readonly kind: 'attempt'; readonly id: string }
  | { readonly kind: 'refund'; readonly id: string }
  | { readonly kind: 'payment_method'; readonly id: string }
  | { readonly kind: 'customer'; readonly id: string }
  | { readonly kind: 'email'; readonly email: string }
  | { readonly kind: 'last4'; readonly last4: string }
  | { readonly kind: 'nothing' };

// ---------------------------------------------------------------------------------------------
// Timeline types

export type LedgerPosting = {
  readonly accountId: string;
  readonly direction: 'debit' | 'credit';
  /** Minor units (negative only on the pending layer, when a hold is released). */
  readonly amount: bigint;
  readonly currency: string;
  readonly layer: 'posted' | 'pending';
};

type At = { readonly at: Date };

/** One thing that happened to a payment; `at` orders them. */
export type TimelineEntry =
  | (At & {
      /** An API request that changed the payment, known from the events it caused. */
      readonly kind: 'api_request';
      readonly requestId: string;
      readonly idempotencyKey: string | null;
      /** From the stored idempotency key (kept 72 h); null without one. */
      readonly method: string | null;
      readonly path: string | null;
      readonly responseStatus: number | null;
      readonly eventTypes: readonly string[];
    })
  | (At & {
      /**
       * Where the payment was routed: the connectors tried, in order (a failover adds one).
       * Which routing rule chose them is not stored.
       */
      readonly kind: 'routing';
      readonly connectors: readonly string[];
    })
  | (At & {
      readonly kind: 'risk';
      readonly attemptId: string;
      readonly action: string;
      readonly riskScore: number;
      readonly riskLevel: string;
      /** The enforced rule that decided, if any. */
      readonly ruleId: string | null;
      /** Every rule that matched (shadow ones too). */
      readonly matchedRuleIds: readonly string[];
    })
  | (At & {
      readonly kind: 'three_d_secure';
      readonly id: string;
      readonly status: string;
      readonly reason: string;
      readonly version: string | null;
      readonly liabilityShift: boolean;
      readonly completedAt: Date | null;
    })
  | (At & {
      readonly kind: 'review';
      readonly id: string;
      readonly open: boolean;
      readonly openedReason: string;
      readonly closedReason: string | null;
      readonly closedAt: Date | null;
    })
  | (At & {
      /** One authorization try at one connector, i.e. one PSP call and what came of it. */
      readonly kind: 'attempt';
      readonly attemptId: string;
      readonly chargeId: string;
      readonly connector: string;
      readonly status: string;
      readonly amount: bigint;
      readonly currency: string;
      readonly amountAuthorized: bigint;
      readonly amountCaptured: bigint;
      readonly pspReference: string | null;
      readonly declineCode: string | null;
      readonly pspCode: string | null;
      readonly failureMessage: string | null;
      /** How long the PSP took to answer the authorization; null when unknown. */
      readonly latencyMs: number | null;
      readonly abandoned: boolean;
      /** How often status sync asked the PSP about it. */
      readonly syncCount: number;
      readonly updatedAt: Date;
    })
  | (At & {
      /** A webhook from the PSP about this payment. */
      readonly kind: 'psp_webhook';
      readonly connector: string;
      readonly eventId: string;
      readonly type: string;
      readonly processedAt: Date | null;
    })
  | (At & {
      readonly kind: 'refund';
      readonly id: string;
      readonly amount: bigint;
      readonly currency: string;
      readonly status: string;
      readonly reason: string | null;
      readonly failureReason: string | null;
    })
  | (At & {
      /** One ledger transaction of the payment (authorization hold, capture, fee, refund …). */
      readonly kind: 'ledger';
      readonly transactionId: string;
      readonly transactionKind: string;
      readonly description: string | null;
      readonly postings: readonly LedgerPosting[];
    })
  | (At & {
      readonly kind: 'event';
      readonly id: string;
      readonly type: string;
      readonly objectId: string;
      readonly requestId: string | null;
    })
  | (At & {
      readonly kind: 'webhook_delivery';
      readonly id: string;
      readonly eventId: string;
      readonly eventType: string;
      readonly endpointId: string;
      readonly url: string;
      readonly status: string;
      readonly attemptCount: number;
      readonly lastHttpStatus: number | null;
      readonly lastError: string | null;
      readonly lastAttemptAt: Date | null;
      readonly lastDurationMs: number | null;
      readonly nextAttemptAt: Date | null;
    });

export type TimelineEntryKind = TimelineEntry['kind'];

/** The payment as its page heads it. */
export type PaymentDetail = PaymentRow & {
  readonly captureMethod: string;
  readonly amountCapturable: bigint;
  readonly amountReceived: bigint;
  readonly amountRefunded: bigint;
  readonly description: string | null;
  readonly customerId: string | null;
  readonly paymentMethodId: string | null;
};

export type PaymentTimeline = {
  readonly payment: PaymentDetail;
  /** In time order (ties: request, routing, risk, … deliveries, as TimelineEntryKind lists). */
  readonly entries: readonly TimelineEntry[];
  /** A kind of entry had more than `timelineKindMax` rows; the oldest ones are shown. */
  readonly truncated: boolean;
};

// ---------------------------------------------------------------------------------------------
// Bounds

export const defaultPageSize = 25;
/** Rows per statement of an export. */
export const exportChunkSize = 500;
/** At most this many rows of one kind in a timeline (events, deliveries, refunds …). */
export const timelineKindMax = 500;
const searchLengthMax = 320;

const connectorPattern = /^[a-z0-9_]{1,40}$/;
const currencyPattern = /^[a-z]{3}$/;
const idPattern = /^[A-Za-z0-9_]{4,200}$/;
const emailPattern = /^[^\s@]{1,200}@[^\s@]{1,200}$/;

// ---------------------------------------------------------------------------------------------
// Search

/** What a search box text means (also for the page to say what it searched for). */
export function parseSearch(text: string): SearchTerm {
  const q = text.trim();
  if (q.length === 0 || q.length > searchLengthMax) return { kind: 'nothing' };
  if (/^[0-9]{4}$/.test(q)) return { kind: 'last4', last4: q };
  if (emailPattern.test(q)) return { kind: 'email', email: q };
  if (!idPattern.test(q)) return { kind: 'nothing' };
  if (q.startsWith('pi_')) return { kind: 'payment_intent', id: q };
  if (q.startsWith('ch_')) {
    const attempt = attemptIdOf(q);
    return attempt === undefined ? { kind: 'nothing' } : { kind: 'attempt', id: attempt };
  }
  if (q.startsWith('pa_')) return { kind: 'attempt', id: q };
  if (q.startsWith('re_')) return { kind: 'refund', id: q };
  if (q.startsWith('pm_')) return { kind: 'payment_method', id: q };
  if (q.startsWith('cus_')) return { kind: 'customer', id: q };
  return { kind: 'nothing' };
}

/** The test PaymentMethod ids (pm_card_visa …) whose card ends in these digits. */
function testMethodsEndingIn(last4: string): string[] {
  return testPaymentMethodIds.filter((id) => testCard(id)?.number.endsWith(last4) === true);
}

// ---------------------------------------------------------------------------------------------
// SQL building

type Bind = (value: unknown) => string;

function scopeMerchant(scope: DashboardScope): string | undefined {
  return scope.merchantId;
}

function checkScope(scope: DashboardScope): void {
  if (
    scope.kind === 'merchant' &&
    (typeof scope.merchantId !== 'string' || scope.merchantId === '')
  )
    throw new Error('a merchant scope needs its merchant id');
}

function checkFilter(filter: PaymentFilter): void {
  for (const status of filter.statuses ?? [])
    if (!intentStatuses.includes(status))
      throw new DashboardQueryError(`Unknown status '${String(status)}'.`, 'status');
  if (filter.connector !== undefined && !connectorPattern.test(filter.connector))
    throw new DashboardQueryError('connector must be a connector name.', 'connector');
  if (filter.currency !== undefined && !currencyPattern.test(filter.currency))
    throw new DashboardQueryError('currency must be a lowercase ISO 4217 code.', 'currency');
  for (const [param, amount] of [
    ['amount_min', filter.amountMin],
    ['amount_max', filter.amountMax],
  ] as const)
    if (amount !== undefined && (amount < 0n || amount > 9_223_372_036_854_775_807n))
      throw new DashboardQueryError(`${param} must be a non-negative amount.`, param);
}

/**
 * An email or a last4 resolved to the keys it names (customers and receipt-email intents; payment
 * methods), read first by their own indexes, so that the page's statement is an index look-up by
 * those keys whatever the planner thinks of a join. More than `resolvedKeysMax` keys: the
 * search stays a subquery.
 */
type ResolvedSearch =
  | { readonly kind: 'email'; readonly customerIds: string[]; readonly intentIds: string[] }
  | { readonly kind: 'last4'; readonly paymentMethodIds: string[] };

const resolvedKeysMax = 1_000;

/** The conditions on `pi` (payment_intents) of the scope, the filters and the search. */
function conditionsOf(
  scope: DashboardScope,
  filter: PaymentFilter,
  bind: Bind,
  resolved: ResolvedSearch | undefined,
): string[] {
  const conditions: string[] = [];
  const merchantId = scopeMerchant(scope);
  if (merchantId !== undefined) conditions.push(`pi.merchant_id = ${bind(merchantId)}`);
  if (filter.connector !== undefined) conditions.push(`pi.connector = ${bind(filter.connector)}`);
  if (filter.currency !== undefined) conditions.push(`pi.currency = ${bind(filter.currency)}`);
  if (filter.amountMin !== undefined)
    conditions.push(`pi.amount >= ${bind(filter.amountMin.toString())}::bigint`);
  if (filter.amountMax !== undefined)
    conditions.push(`pi.amount <= ${bind(filter.amountMax.toString())}::bigint`);
  conditions.push(...timeRangeConditions('pi.created_at', filter.created, bind));
  if (resolved !== undefined) conditions.push(resolvedCondition(resolved, bind));
  else if (filter.q !== undefined && filter.q.trim() !== '')
    conditions.push(searchCondition(parseSearch(filter.q), merchantId, bind));
  return conditions;
}

function resolvedCondition(resolved: ResolvedSearch, bind: Bind): string {
  if (resolved.kind === 'last4')
    return resolved.paymentMethodIds.length === 0
      ? 'false'
      : `pi.payment_method_id = ANY(${bind(textArrayLiteral(resolved.paymentMethodIds))}::text[])`;
  const either = [
    ...(resolved.customerIds.length === 0
      ? []
      : [`pi.customer_id = ANY(${bind(textArrayLiteral(resolved.customerIds))}::text[])`]),
    ...(resolved.intentIds.length === 0
      ? []
      : [`pi.id = ANY(${bind(textArrayLiteral(resolved.intentIds))}::text[])`]),
  ];
  return either.length === 0 ? 'false' : `(${either.join(' OR ')})`;
}

function searchCondition(term: SearchTerm, merchantId: string | undefined, bind: Bind): string {
  switch (term.kind) {
    case 'payment_intent':
      return `pi.id = ${bind(term.id)}`;
    case 'attempt':
      return `pi.id = (SELECT a.payment_intent_id FROM payment_attempts a WHERE a.id = ${bind(term.id)})`;
    case 'refund':
      return `pi.id = (SELECT r.payment_intent_id FROM refunds r WHERE r.id = ${bind(term.id)})`;
    case 'payment_method':
      return `pi.payment_method_id = ${bind(term.id)}`;
    case 'customer':
      return `pi.customer_id = ${bind(term.id)}`;
    case 'email': {
      const email = bind(term.email);
      return `pi.id IN (
        SELECT e.id FROM payment_intents e WHERE lower(e.receipt_email) = lower(${email})
        UNION ALL
        SELECT e.id FROM customers c JOIN payment_intents e ON e.customer_id = c.id
         WHERE lower(c.email) = lower(${email}))`;
    }
    case 'last4': {
      const merchant = merchantId === undefined ? '' : ` AND m.merchant_id = ${bind(merchantId)}`;
      return `pi.payment_method_id IN (
        SELECT m.id FROM payment_methods m WHERE m.last4 = ${bind(term.last4)}${merchant}
        UNION ALL
        SELECT unnest(${bind(textArrayLiteral(testMethodsEndingIn(term.last4)))}::text[]))`;
    }
    case 'nothing':
      return 'false';
  }
}

/** The columns of an intent a row (or the detail) is made from. */
const intentColumns = `pi.id, pi.merchant_id, pi.amount, pi.currency, pi.status, pi.connector, pi.created_at,
  pi.receipt_email, pi.customer_id, pi.payment_method_id`;

/** Decorates the intents `inner` selects (aliased p) with email, card and decline code. */
function decorated(inner: string, order: string, extra = ''): string {
  return `SELECT p.*, coalesce(p.receipt_email, c.email) AS customer_email, m.brand AS card_brand,
      m.last4 AS card_last4${extra},
      (SELECT a.decline_code FROM payment_attempts a
        WHERE a.payment_intent_id = p.id AND a.decline_code IS NOT NULL
        ORDER BY a.created_at DESC, a.id DESC LIMIT 1) AS decline_code
    FROM (${inner}) p
    LEFT JOIN customers c ON c.id = p.customer_id
    LEFT JOIN payment_methods m ON m.id = p.payment_method_id AND m.merchant_id = p.merchant_id
    ORDER BY ${order}`;
}

function rowOf(row: Row): PaymentRow {
  let brand = row.card_brand as string | null;
  let last4 = row.card_last4 as string | null;
  const methodId = row.payment_method_id as string | null;
  if (brand === null && methodId !== null) {
    // A test-mode id (pm_card_visa): the catalogue's card, shown as brand + last4 only.
    const card = testCard(methodId);
    if (card !== undefined) {
      brand = card.brand;
      last4 = card.number.slice(-4);
    }
  }
  return {
    id: row.id as string,
    merchantId: row.merchant_id as string,
    amount: BigInt(row.amount as bigint),
    currency: row.currency as string,
    status: row.status as IntentStatus,
    connector: row.connector as string | null,
    created: row.created_at as Date,
    customerEmail: row.customer_email as string | null,
    cardBrand: brand,
    cardLast4: last4,
    declineCode: row.decline_code as string | null,
  };
}

// ---------------------------------------------------------------------------------------------
// The class

export class DashboardPayments {
  readonly #database: Database;

  constructor(database: Database) {
    this.#database = database;
  }

  /** One page of the scope's payments that pass the filter, newest first. */
  async list(
    scope: DashboardScope,
    filter: PaymentFilter = {},
    page: PaymentPageRequest = {},
  ): Promise<PaymentPage> {
    const limit = bounded(page.limit ?? defaultPageSize, defaultPageSize, pageSizeMax);
    return this.#page(scope, filter, { ...page, limit });
  }

  /**
   * Every payment of the filtered list, in list order, read in keyset chunks of `chunkSize`
   * (one statement each, nothing held open between them): for the CSV export.
   */
  async *exportRows(
    scope: DashboardScope,
    filter: PaymentFilter = {},
    chunkSize: number = exportChunkSize,
  ): AsyncGenerator<PaymentRow, void, undefined> {
    const limit = bounded(chunkSize, exportChunkSize, 5_000);
    let startingAfter: string | undefined;
    for (;;) {
      const { rows, hasMore } = await this.#page(scope, filter, { limit, startingAfter });
      yield* rows;
      const last = rows.at(-1);
      if (!hasMore || last === undefined) return;
      startingAfter = last.id;
    }
  }

  async #page(
    scope: DashboardScope,
    filter: PaymentFilter,
    page: PaymentPageRequest & { readonly limit: number },
  ): Promise<PaymentPage> {
    checkScope(scope);
    checkFilter(filter);
    if (page.startingAfter !== undefined && page.endingBefore !== undefined)
      throw new BothCursorsError();
    return this.#read(async (tx) => {
      const parameters: unknown[] = [];
      const bind: Bind = (value) => {
        parameters.push(value);
        return `$${parameters.length}`;
      };
      const resolved = await this.#resolve(tx, scope, filter);
      const conditions = conditionsOf(scope, filter, bind, resolved);
      const backwards = page.endingBefore !== undefined;
      const cursorId = page.startingAfter ?? page.endingBefore;
      if (cursorId !== undefined) {
        const cursor = await this.#cursor(tx, scope, cursorId, backwards);
        // Older than the cursor for the next page, newer for the previous one.
        conditions.push(
          `(pi.created_at, pi.id) ${backwards ? '>' : '<'} (${bind(cursor)}::timestamptz, ${bind(cursorId)})`,
        );
      }
      const direction = backwards ? 'ASC' : 'DESC';
      const take = bind(page.limit + 1);
      const statuses = [...new Set(filter.statuses ?? [])];
      const branch = (status: IntentStatus | undefined) =>
        `(SELECT ${intentColumns} FROM payment_intents pi
         WHERE ${[...conditions, ...(status === undefined ? [] : [`pi.status = ${bind(status)}`])].join(' AND ') || 'true'}
         ORDER BY pi.created_at ${direction}, pi.id ${direction} LIMIT ${take})`;
      const inner =
        statuses.length <= 1
          ? branch(statuses[0])
          : `SELECT * FROM (${statuses.map(branch).join(' UNION ALL ')}) merged
            ORDER BY created_at ${direction}, id ${direction} LIMIT ${take}`;
      const result = await tx.query(
        decorated(inner, `p.created_at ${direction}, p.id ${direction}`),
        parameters,
      );
      const rows = result.rows.slice(0, page.limit).map(rowOf);
      if (backwards) rows.reverse();
      return { rows, hasMore: result.rows.length > page.limit };
    });
  }

  /**
   * Reads in one short transaction planned for its own parameters: prepared statements would
   * otherwise switch to a generic plan after five runs, one plan for the biggest merchant and the
   * smallest, for an email and for a rare status alike (measured: a merchant's email search went
   * from 0.2 ms to 100 ms on its sixth run). Planning each time costs well under a millisecond.
   */
  #read<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#database.transaction(async (tx) => {
      await tx.exec('SET LOCAL plan_cache_mode = force_custom_plan');
      return work(tx);
    });
  }

  /** An email or last4 search resolved to its keys; undefined for other searches, or too many keys. */
  async #resolve(
    tx: Queryable,
    scope: DashboardScope,
    filter: PaymentFilter,
  ): Promise<ResolvedSearch | undefined> {
    if (filter.q === undefined) return undefined;
    const term = parseSearch(filter.q);
    const merchantId = scopeMerchant(scope);
    const ofMerchant = merchantId === undefined ? '' : ' AND merchant_id = $2';
    const parameters = (value: string) =>
      merchantId === undefined
        ? [value, resolvedKeysMax + 1]
        : [value, merchantId, resolvedKeysMax + 1];
    const limit = merchantId === undefined ? '$2' : '$3';
    if (term.kind === 'last4') {
      const found = await tx.query<{ id: string }>(
        `SELECT id FROM payment_methods WHERE last4 = $1${ofMerchant} LIMIT ${limit}`,
        parameters(term.last4),
      );
      if (found.rows.length > resolvedKeysMax) return undefined;
      return {
        kind: 'last4',
        paymentMethodIds: [...found.rows.map((row) => row.id), ...testMethodsEndingIn(term.last4)],
      };
    }
    if (term.kind === 'email') {
      const customers = await tx.query<{ id: string }>(
        `SELECT id FROM customers WHERE lower(email) = lower($1)${ofMerchant} LIMIT ${limit}`,
        parameters(term.email),
      );
      const intents = await tx.query<{ id: string }>(
        `SELECT id FROM payment_intents WHERE lower(receipt_email) = lower($1)${ofMerchant} LIMIT ${limit}`,
        parameters(term.email),
      );
      if (customers.rows.length > resolvedKeysMax || intents.rows.length > resolvedKeysMax)
        return undefined;
      return {
        kind: 'email',
        customerIds: customers.rows.map((row) => row.id),
        intentIds: intents.rows.map((row) => row.id),
      };
    }
    return undefined;
  }

  /**
   * The cursor payment's created_at, as text: a JavaScript Date would drop its microseconds, and
   * a page after a rounded cursor could skip rows. It must be a payment the scope may see.
   */
  async #cursor(
    tx: Queryable,
    scope: DashboardScope,
    id: string,
    backwards: boolean,
  ): Promise<string> {
    const merchantId = scopeMerchant(scope);
    const found = await tx.query<{ created_at: string }>(
      merchantId === undefined
        ? 'SELECT created_at::text AS created_at FROM payment_intents WHERE id = $1'
        : 'SELECT created_at::text AS created_at FROM payment_intents WHERE id = $1 AND merchant_id = $2',
      merchantId === undefined ? [id] : [id, merchantId],
    );
    const row = found.rows[0];
    if (row === undefined)
      throw new UnknownCursorError(
        'payment_intent',
        id,
        backwards ? 'ending_before' : 'starting_after',
      );
    return row.created_at;
  }

  /**
   * Everything about one payment, in time order; undefined when the scope may not see it (or it
   * does not exist).
   */
  async timeline(
    scope: DashboardScope,
    paymentIntentId: string,
  ): Promise<PaymentTimeline | undefined> {
    checkScope(scope);
    if (!idPattern.test(paymentIntentId)) return undefined;
    const merchantId = scopeMerchant(scope);
    const database = this.#database;
    const max = timelineKindMax + 1;
    const byId = [paymentIntentId];
    // One parallel round of index look-ups, each bounded by the payment's id. The first decides
    // whether the scope may see the payment; the others are dropped when it may not. (No
    // transaction: each is an equality look-up, which a generic plan serves as well.)
    const [
      found,
      attempts,
      refunds,
      authentications,
      reviews,
      pspWebhooks,
      events,
      ledger,
      deliveries,
      idempotency,
    ] = await Promise.all([
      database.query(
        decorated(
          `SELECT ${intentColumns}, pi.capture_method, pi.amount_capturable, pi.amount_received,
             pi.amount_refunded, pi.description
             FROM payment_intents pi
            WHERE pi.id = $1${merchantId === undefined ? '' : ' AND pi.merchant_id = $2'}`,
          'p.id',
        ),
        merchantId === undefined ? byId : [paymentIntentId, merchantId],
      ),
      database.query(
        `SELECT id, connector, status, amount, currency, amount_authorized, amount_captured,
                psp_reference, decline_code, psp_code, failure_message, psp_latency_ms, abandoned,
                sync_count, risk, created_at, updated_at
           FROM payment_attempts WHERE payment_intent_id = $1 ORDER BY created_at, id LIMIT ${max}`,
        byId,
      ),
      database.query(
        `SELECT id, amount, currency, status, reason, failure_reason, created_at
           FROM refunds WHERE payment_intent_id = $1 ORDER BY created_at, id LIMIT ${max}`,
        byId,
      ),
      database.query(
        `SELECT id, status, reason, version, liability_shift, completed_at, created_at
           FROM three_d_secure_authentications WHERE payment_intent_id = $1
          ORDER BY created_at, id LIMIT ${max}`,
        byId,
      ),
      database.query(
        `SELECT id, open, opened_reason, closed_reason, closed_at, created_at
           FROM reviews WHERE payment_intent_id = $1 ORDER BY created_at, id LIMIT ${max}`,
        byId,
      ),
      database.query(
        `SELECT connector, event_id, type, received_at, processed_at
           FROM psp_webhook_events WHERE payment_intent_id = $1 ORDER BY received_at LIMIT ${max}`,
        byId,
      ),
      database.query(
        `WITH ${paymentEventsSql}
         SELECT id, type, object_id, request_id, idempotency_key, created_at FROM payment_events
          ORDER BY created_at, id`,
        byId,
      ),
      database.query(
        `SELECT t.id, t.kind, t.description, t.created_at, e.account_id, e.direction, e.amount,
                e.currency, e.layer
           FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id
          WHERE t.id IN (${paymentLedgerIdsSql})
          ORDER BY t.created_at, t.id, e.leg LIMIT ${timelineKindMax * 8}`,
        byId,
      ),
      database.query(
        `WITH ${paymentEventsSql}
         SELECT d.id, d.event_id, ev.type AS event_type, d.endpoint_id, w.url, d.status,
                d.attempt_count, d.last_http_status, d.last_error, d.next_attempt_at, d.created_at,
                last.attempted_at AS last_attempt_at, last.duration_ms AS last_duration_ms
           FROM payment_events ev
           JOIN webhook_deliveries d ON d.event_id = ev.id AND d.merchant_id = ev.merchant_id
           JOIN webhook_endpoints w ON w.id = d.endpoint_id
           LEFT JOIN LATERAL (
             SELECT x.attempted_at, x.duration_ms FROM webhook_delivery_attempts x
              WHERE x.delivery_id = d.id ORDER BY x.attempt_number DESC LIMIT 1) last ON true
          ORDER BY d.created_at, d.id LIMIT ${max}`,
        byId,
      ),
      database.query(
        `WITH ${paymentEventsSql}
         SELECT k.key, k.request_method, k.request_path, k.response_status, k.created_at
           FROM idempotency_keys k
          WHERE (k.merchant_id, k.key) IN (
            SELECT merchant_id, idempotency_key FROM payment_events WHERE idempotency_key IS NOT NULL)`,
        byId,
      ),
    ]);
    const intentRow = found.rows[0];
    if (intentRow === undefined) return undefined;
    const payment: PaymentDetail = {
      ...rowOf(intentRow),
      captureMethod: intentRow.capture_method as string,
      amountCapturable: BigInt(intentRow.amount_capturable as bigint),
      amountReceived: BigInt(intentRow.amount_received as bigint),
      amountRefunded: BigInt(intentRow.amount_refunded as bigint),
      description: intentRow.description as string | null,
      customerId: intentRow.customer_id as string | null,
      paymentMethodId: intentRow.payment_method_id as string | null,
    };
    const truncated = [attempts, refunds, authentications, reviews, pspWebhooks, events, deliveries]
      .map((result) => result.rows.length > timelineKindMax)
      .some(Boolean);
    const firstOf = <T>(rows: readonly T[]) => rows.slice(0, timelineKindMax);
    const entries: TimelineEntry[] = [];

    // API requests: the events a request caused name it (Stripe's event.request).
    const keyRows = new Map(idempotency.rows.map((row) => [row.key as string, row]));
    const requests = new Map<string, { at: Date; key: string | null; types: string[] }>();
    for (const row of firstOf(events.rows)) {
      const requestId = row.request_id as string | null;
      if (requestId === null) continue;
      const seen = requests.get(requestId);
      if (seen === undefined)
        requests.set(requestId, {
          at: row.created_at as Date,
          key: row.idempotency_key as string | null,
          types: [row.type as string],
        });
      else seen.types.push(row.type as string);
    }
    for (const [requestId, request] of requests) {
      const stored = request.key === null ? undefined : keyRows.get(request.key);
      entries.push({
        kind: 'api_request',
        at: stored === undefined ? request.at : minDate(stored.created_at as Date, request.at),
        requestId,
        idempotencyKey: request.key,
        method: stored === undefined ? null : (stored.request_method as string),
        path: stored === undefined ? null : (stored.request_path as string),
        responseStatus: stored === undefined ? null : (stored.response_status as number | null),
        eventTypes: request.types,
      });
    }

    const attemptRows = firstOf(attempts.rows);
    const firstAttempt = attemptRows[0];
    if (firstAttempt !== undefined)
      entries.push({
        kind: 'routing',
        at: firstAttempt.created_at as Date,
        connectors: attemptRows.map((row) => row.connector as string),
      });
    for (const row of attemptRows) {
      const risk = row.risk as RiskRecord | null;
      if (risk !== null)
        entries.push({
          kind: 'risk',
          at: row.created_at as Date,
          attemptId: row.id as string,
          action: risk.action,
          riskScore: risk.riskScore,
          riskLevel: risk.riskLevel,
          ruleId: risk.rule?.id ?? null,
          matchedRuleIds: risk.matched.map((match) => match.id),
        });
      entries.push({
        kind: 'attempt',
        at: row.created_at as Date,
        attemptId: row.id as string,
        chargeId: chargeIdOf(row.id as string),
        connector: row.connector as string,
        status: row.status as string,
        amount: BigInt(row.amount as bigint),
        currency: row.currency as string,
        amountAuthorized: BigInt(row.amount_authorized as bigint),
        amountCaptured: BigInt(row.amount_captured as bigint),
        pspReference: row.psp_reference as string | null,
        declineCode: row.decline_code as string | null,
        pspCode: row.psp_code as string | null,
        failureMessage: row.failure_message as string | null,
        latencyMs: row.psp_latency_ms as number | null,
        abandoned: row.abandoned as boolean,
        syncCount: row.sync_count as number,
        updatedAt: row.updated_at as Date,
      });
    }
    for (const row of firstOf(authentications.rows))
      entries.push({
        kind: 'three_d_secure',
        at: row.created_at as Date,
        id: row.id as string,
        status: row.status as string,
        reason: row.reason as string,
        version: row.version as string | null,
        liabilityShift: row.liability_shift as boolean,
        completedAt: row.completed_at as Date | null,
      });
    for (const row of firstOf(reviews.rows))
      entries.push({
        kind: 'review',
        at: row.created_at as Date,
        id: row.id as string,
        open: row.open as boolean,
        openedReason: row.opened_reason as string,
        closedReason: row.closed_reason as string | null,
        closedAt: row.closed_at as Date | null,
      });
    for (const row of firstOf(pspWebhooks.rows))
      entries.push({
        kind: 'psp_webhook',
        at: row.received_at as Date,
        connector: row.connector as string,
        eventId: row.event_id as string,
        type: row.type as string,
        processedAt: row.processed_at as Date | null,
      });
    for (const row of firstOf(refunds.rows))
      entries.push({
        kind: 'refund',
        at: row.created_at as Date,
        id: row.id as string,
        amount: BigInt(row.amount as bigint),
        currency: row.currency as string,
        status: row.status as string,
        reason: row.reason as string | null,
        failureReason: row.failure_reason as string | null,
      });
    const transactions = new Map<string, TimelineEntry & { kind: 'ledger' }>();
    for (const row of ledger.rows) {
      const transactionId = row.id as string;
      let entry = transactions.get(transactionId);
      if (entry === undefined) {
        entry = {
          kind: 'ledger',
          at: row.created_at as Date,
          transactionId,
          transactionKind: row.kind as string,
          description: row.description as string | null,
          postings: [],
        };
        transactions.set(transactionId, entry);
        entries.push(entry);
      }
      (entry.postings as LedgerPosting[]).push({
        accountId: row.account_id as string,
        direction: row.direction as 'debit' | 'credit',
        amount: BigInt(row.amount as bigint),
        currency: row.currency as string,
        layer: row.layer as 'posted' | 'pending',
      });
    }
    for (const row of firstOf(events.rows))
      entries.push({
        kind: 'event',
        at: row.created_at as Date,
        id: row.id as string,
        type: row.type as string,
        objectId: row.object_id as string,
        requestId: row.request_id as string | null,
      });
    for (const row of firstOf(deliveries.rows))
      entries.push({
        kind: 'webhook_delivery',
        at: row.created_at as Date,
        id: row.id as string,
        eventId: row.event_id as string,
        eventType: row.event_type as string,
        endpointId: row.endpoint_id as string,
        url: row.url as string,
        status: row.status as string,
        attemptCount: row.attempt_count as number,
        lastHttpStatus: row.last_http_status as number | null,
        lastError: row.last_error as string | null,
        lastAttemptAt: row.last_attempt_at as Date | null,
        lastDurationMs: row.last_duration_ms as number | null,
        nextAttemptAt: row.next_attempt_at as Date | null,
      });
    return { payment, entries: entries.sort(inTimeOrder), truncated };
  }
}

/**
 * A payment's events ($1: its id), at most `timelineKindMax` + 1: those of the intent, its charges
 * (`ch_` + the attempt's id), its reviews (`prv_` + the attempt's) and its refunds.
 */
const paymentEventsSql = `payment_objects AS (
    SELECT $1::text AS id
    UNION ALL SELECT 'ch_' || substr(a.id, 4) FROM payment_attempts a WHERE a.payment_intent_id = $1
    UNION ALL SELECT 'prv_' || substr(a.id, 4) FROM payment_attempts a WHERE a.payment_intent_id = $1
    UNION ALL SELECT r.id FROM refunds r WHERE r.payment_intent_id = $1),
  payment_events AS (
    SELECT ev.id, ev.merchant_id, ev.type, ev.object_id, ev.request_id, ev.idempotency_key, ev.created_at
      FROM events ev
     WHERE ev.object_id IN (SELECT id FROM payment_objects)
       AND ev.merchant_id = (SELECT merchant_id FROM payment_intents WHERE id = $1)
     ORDER BY ev.created_at, ev.id LIMIT ${timelineKindMax + 1})`;

/**
 * The ids of a payment's ledger transactions ($1: its id), as src/payments/postings.ts names them:
 * the authorization hold, capture, release, expiry, fee and refund of an attempt, and each refund.
 */
const paymentLedgerIdsSql = `
  SELECT prefix || a.id FROM payment_attempts a
   CROSS JOIN unnest(ARRAY['auth:', 'capture:', 'void:', 'expire:auth:', 'fee:', 'refund:']) AS prefix
   WHERE a.payment_intent_id = $1
  UNION ALL
  SELECT 'refund:' || r.id FROM refunds r WHERE r.payment_intent_id = $1`;

/** Ties at one instant read in the order things happen to a payment. */
const kindOrder: readonly TimelineEntryKind[] = [
  'api_request',
  'routing',
  'risk',
  'three_d_secure',
  'attempt',
  'review',
  'psp_webhook',
  'refund',
  'ledger',
  'event',
  'webhook_delivery',
];

function entryKey(entry: TimelineEntry): string {
  switch (entry.kind) {
    case 'attempt':
    case 'risk':
      return entry.attemptId;
    case 'ledger':
      return entry.transactionId;
    case 'psp_webhook':
      return entry.eventId;
    case 'api_request':
      return entry.requestId;
    case 'routing':
      return '';
    default:
      return entry.id;
  }
}

function inTimeOrder(a: TimelineEntry, b: TimelineEntry): number {
  const time = a.at.getTime() - b.at.getTime();
  if (time !== 0) return time;
  const kind = kindOrder.indexOf(a.kind) - kindOrder.indexOf(b.kind);
  if (kind !== 0) return kind;
  const keyA = entryKey(a);
  const keyB = entryKey(b);
  return keyA < keyB ? -1 : keyA > keyB ? 1 : 0;
}

function minDate(a: Date, b: Date): Date {
  return a.getTime() <= b.getTime() ? a : b;
}

/** A whole number of rows from 1 to `maximum`; `fallback` when it is not a number at all. */
function bounded(value: number, fallback: number, maximum: number): number {
  return Number.isFinite(value) ? Math.min(Math.max(1, Math.trunc(value)), maximum) : fallback;
}
