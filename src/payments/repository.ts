// SQL for payment intents, attempts and refunds. Every read that precedes a change locks its
// row (FOR UPDATE), so concurrent requests on one payment are serialized. Inserts and row
// mappings come from the tables' definitions (tables.ts); updates are declared where they are
// made, from the same definitions, each with the fields it changes.
import { eventCtes, eventParameters, type NewEvent } from '../events/events.ts';
import type { Queryable, Row } from '../storage/database.ts';
import { keysetPage, type PageRequest, type TimeRange } from '../storage/pagination.ts';
import { paymentAttempts, paymentIntents, refunds } from './tables.ts';
import type { Attempt, IntentWithAttempts, PaymentIntent, Refund } from './types.ts';

type IntentRow = Row;
type AttemptRow = Row;
type RefundRow = Row;

const intentFromRow = paymentIntents.fromRow;
const attemptFromRow = paymentAttempts.fromRow;
const refundFromRow = refunds.fromRow;

const insertIntentStatement = paymentIntents.insert();
const insertAttemptStatement = paymentAttempts.insert();
// created_at (and updated_at) is the merchant's clock time the caller gives.
const insertRefundStatement = refunds.insert();

const intentBatch = paymentIntents.insertBatch(1);
// An attempt is written only with its intent (the statement fails as a whole anyway).
const attemptBatch = paymentAttempts.insertBatch(
  intentBatch.next,
  'input.payment_intent_id IN (SELECT id FROM i)',
);
const insertIntentsWithAttemptsSql = `WITH i AS (${intentBatch.sql} RETURNING id), a AS (${attemptBatch.sql}),
  ${eventCtes(attemptBatch.next, 'EXISTS (SELECT 1 FROM i)', 'ev', `(${intentBatch.placeholderOf('createdAt')})[e.position]`)}
  SELECT 1`;

/** A confirmed intent to create: the intent, its first attempt and its `payment_intent.created` event. */
export type NewConfirmedIntent = {
  readonly intent: PaymentIntent;
  readonly attempt: Attempt;
  readonly event: NewEvent;
};

/**
 * New intents (as built by the callers, with their creation times), each with its first attempt
 * and its event, in ONE statement: atomic without BEGIN/COMMIT, and one round trip for all the
 * payments created at the same moment (they are gathered by a GroupCommit).
 */
export async function insertIntentsWithAttempts(
  queryable: Queryable,
  created: readonly NewConfirmedIntent[],
): Promise<void> {
  await queryable.query(insertIntentsWithAttemptsSql, [
    ...intentBatch.parameters(created.map(({ intent }) => intent)),
    ...attemptBatch.parameters(created.map(({ attempt }) => attempt)),
    ...eventParameters(created.map(({ event }) => event)),
  ]);
}

export async function insertIntent(tx: Queryable, intent: PaymentIntent): Promise<void> {
  await tx.query(insertIntentStatement.sql, insertIntentStatement.parameters(intent));
}

/** The merchant's payment intent, locked for update when `lock` is set; another merchant's is undefined. */
export function findIntent(
  tx: Queryable,
  merchantId: string,
  id: string,
  lock: boolean,
): Promise<PaymentIntent | undefined> {
  return paymentIntents.findOwned(tx, merchantId, id, lock);
}

/** The merchant's intent with its attempts, or undefined (another merchant's is undefined too). */
export async function findIntentWithAttempts(
  queryable: Queryable,
  merchantId: string,
  id: string,
): Promise<IntentWithAttempts | undefined> {
  const intent = await findIntent(queryable, merchantId, id, false);
  return intent === undefined ? undefined : { intent, attempts: await attemptsOf(queryable, [id]) };
}

/** The intent and its attempts, locked in that order (the order every writer uses), and one of them. */
export async function lockIntentAndAttempt(
  tx: Queryable,
  merchantId: string,
  intentId: string,
  attemptId: string,
): Promise<IntentWithAttempts & { attempt: Attempt }> {
  const intent = await findIntent(tx, merchantId, intentId, true);
  const attempts = await attemptsOf(tx, [intentId], true);
  const attempt = attempts.find((candidate) => candidate.id === attemptId);
  if (intent === undefined || attempt === undefined)
    throw new Error(`payment intent ${intentId} or attempt ${attemptId} vanished`);
  return { intent, attempts, attempt };
}

/** A list's page and its filters: `created` (Stripe's created[gte]=… …). */
export type IntentListOptions = PageRequest & { readonly created?: TimeRange };

export async function listIntents(
  tx: Queryable,
  merchantId: string,
  page: IntentListOptions & { readonly customerId?: string },
): Promise<{ intents: PaymentIntent[]; hasMore: boolean }> {
  const { rows, hasMore } = await keysetPage<IntentRow, string>(
    tx,
    {
      select: '*',
      from: 'payment_intents',
      scope: 'merchant_id = $1',
      scopeParameters: [merchantId],
      timeRange: { column: 'created_at', range: page.created },
      equals: { customer_id: page.customerId },
      key: 'id',
      keyType: 'text',
      order: 'newest_first',
      noun: 'payment_intent',
    },
    page,
  );
  return { intents: rows.map(intentFromRow), hasMore };
}

export async function insertAttempt(tx: Queryable, attempt: Attempt): Promise<void> {
  await tx.query(insertAttemptStatement.sql, insertAttemptStatement.parameters(attempt));
}

export async function attemptsOf(
  tx: Queryable,
  intentIds: readonly string[],
  lock = false,
): Promise<Attempt[]> {
  if (intentIds.length === 0) return [];
  const result = await tx.query<AttemptRow>(
    `SELECT * FROM payment_attempts WHERE payment_intent_id = ANY($1::text[]) ORDER BY payment_intent_id, created_at, id${lock ? ' FOR UPDATE' : ''}`,
    [intentIds],
  );
  return result.rows.map(attemptFromRow);
}

export async function lockAttempt(tx: Queryable, id: string): Promise<Attempt> {
  const result = await tx.query<AttemptRow>(
    'SELECT * FROM payment_attempts WHERE id = $1 FOR UPDATE',
    [id],
  );
  const row = result.rows[0];
  if (row === undefined) throw new Error(`attempt ${id} does not exist`);
  return attemptFromRow(row);
}

export async function insertRefund(tx: Queryable, refund: Refund): Promise<Refund> {
  const result = await tx.query(
    insertRefundStatement.sql,
    insertRefundStatement.parameters(refund),
  );
  return refundFromRow(result.rows[0] as RefundRow);
}

export function findRefund(
  tx: Queryable,
  merchantId: string,
  id: string,
  lock: boolean,
): Promise<Refund | undefined> {
  return refunds.findOwned(tx, merchantId, id, lock);
}

export async function refundsOf(tx: Queryable, intentId: string): Promise<Refund[]> {
  const result = await tx.query<RefundRow>(
    'SELECT * FROM refunds WHERE payment_intent_id = $1 ORDER BY id',
    [intentId],
  );
  return result.rows.map(refundFromRow);
}

export type RefundListOptions = PageRequest & {
  readonly paymentIntentId?: string;
  readonly created?: TimeRange;
};

export async function listRefunds(
  tx: Queryable,
  merchantId: string,
  page: RefundListOptions & { readonly attemptId?: string },
): Promise<{ refunds: Refund[]; hasMore: boolean }> {
  const { rows, hasMore } = await keysetPage<RefundRow, string>(
    tx,
    {
      select: '*',
      from: 'refunds',
      scope: 'merchant_id = $1',
      // A cursor may name any of the merchant's refunds, also one of another intent.
      scopeParameters: [merchantId],
      filter:
        '($2::text IS NULL OR payment_intent_id = $2) AND ($3::text IS NULL OR attempt_id = $3)',
      filterParameters: [page.paymentIntentId ?? null, page.attemptId ?? null],
      timeRange: { column: 'created_at', range: page.created },
      key: 'id',
      keyType: 'text',
      order: 'newest_first',
      noun: 'refund',
    },
    page,
  );
  return { refunds: rows.map(refundFromRow), hasMore };
}

/** The fields of an attempt that an authorization's outcome writes (record.ts; orphans.ts too). */
export const attemptOutcomeFields = [
  'status',
  'pspReference',
  'amountAuthorized',
  'amountCaptured',
  'declineCode',
  'pspCode',
  'failureMessage',
  'pspLatencyMs',
] as const satisfies readonly (keyof Attempt)[];

export type AttemptOutcome = Pick<Attempt, (typeof attemptOutcomeFields)[number]>;

export const updateAttemptOutcome = paymentAttempts.update(attemptOutcomeFields);
/** The same, for an outcome learned by asking the PSP: one more sync of the attempt. */
export const updateSyncedAttemptOutcome = paymentAttempts.update(
  attemptOutcomeFields,
  (now) => `sync_count = sync_count + 1, last_synced_at = ${now}`,
);

/** The outcome fields of an attempt as they stand. */
export function attemptOutcomeOf(attempt: Attempt): AttemptOutcome {
  return {
    status: attempt.status,
    pspReference: attempt.pspReference,
    amountAuthorized: attempt.amountAuthorized,
    amountCaptured: attempt.amountCaptured,
    declineCode: attempt.declineCode,
    pspCode: attempt.pspCode,
    failureMessage: attempt.failureMessage,
    pspLatencyMs: attempt.pspLatencyMs,
  };
}
