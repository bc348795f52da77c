// SQL for payment intents, attempts and refunds. Every read that precedes a change locks its
// row (FOR UPDATE), so concurrent requests on one payment are serialized.
import { eventCtes, eventParameters, type NewEvent } from '../events/events.ts';
import type { Queryable } from '../storage/database.ts';
import { integerArrayLiteral, textArrayLiteral } from '../storage/arrays.ts';
import { keysetPage, type PageRequest } from '../storage/pagination.ts';
import type { Attempt, IntentWithAttempts, PaymentIntent, Refund } from './types.ts';

type IntentRow = {
  id: string;
  merchant_id: string;
  amount: bigint;
  currency: string;
  status: PaymentIntent['status'];
  capture_method: PaymentIntent['captureMethod'];
  payment_method_id: string | null;
  connector: string | null;
  amount_capturable: bigint;
  amount_received: bigint;
  amount_refunded: bigint;
  amount_refunding: bigint;
  pending_operation: string | null;
  description: string | null;
  metadata: Record<string, string>;
  last_payment_error: PaymentIntent['lastPaymentError'];
  cancellation_reason: string | null;
  canceled_at: Date | null;
  created_at: Date;
};

function intentFromRow(row: IntentRow): PaymentIntent {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    amount: row.amount,
    currency: row.currency,
    status: row.status,
    captureMethod: row.capture_method,
    paymentMethodId: row.payment_method_id,
    connector: row.connector,
    amountCapturable: row.amount_capturable,
    amountReceived: row.amount_received,
    amountRefunded: row.amount_refunded,
    amountRefunding: row.amount_refunding,
    pendingOperation: row.pending_operation,
    description: row.description,
    metadata: row.metadata,
    lastPaymentError: row.last_payment_error,
    cancellationReason: row.cancellation_reason,
    canceledAt: row.canceled_at,
    createdAt: row.created_at,
  };
}

type AttemptRow = {
  id: string;
  payment_intent_id: string;
  merchant_id: string;
  connector: string;
  status: Attempt['status'];
  amount: bigint;
  currency: string;
  capture_method: Attempt['captureMethod'];
  psp_idempotency_key: string;
  psp_reference: string | null;
  amount_authorized: bigint;
  amount_captured: bigint;
  decline_code: string | null;
  psp_code: string | null;
  failure_message: string | null;
  sync_count: number;
  abandoned: boolean;
  created_at: Date;
};

function attemptFromRow(row: AttemptRow): Attempt {
  return {
    id: row.id,
    paymentIntentId: row.payment_intent_id,
    merchantId: row.merchant_id,
    connector: row.connector,
    status: row.status,
    amount: row.amount,
    currency: row.currency,
    captureMethod: row.capture_method,
    pspIdempotencyKey: row.psp_idempotency_key,
    pspReference: row.psp_reference,
    amountAuthorized: row.amount_authorized,
    amountCaptured: row.amount_captured,
    declineCode: row.decline_code,
    pspCode: row.psp_code,
    failureMessage: row.failure_message,
    syncCount: row.sync_count,
    abandoned: row.abandoned,
    createdAt: row.created_at,
  };
}

type RefundRow = {
  id: string;
  merchant_id: string;
  payment_intent_id: string;
  attempt_id: string;
  amount: bigint;
  currency: string;
  status: Refund['status'];
  reason: Refund['reason'];
  psp_idempotency_key: string;
  psp_reference: string | null;
  failure_reason: string | null;
  metadata: Record<string, string>;
  created_at: Date;
};

function refundFromRow(row: RefundRow): Refund {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    paymentIntentId: row.payment_intent_id,
    attemptId: row.attempt_id,
    amount: row.amount,
    currency: row.currency,
    status: row.status,
    reason: row.reason,
    pspIdempotencyKey: row.psp_idempotency_key,
    pspReference: row.psp_reference,
    failureReason: row.failure_reason,
    metadata: row.metadata,
    createdAt: row.created_at,
  };
}

const insertIntentSql = `INSERT INTO payment_intents (id, merchant_id, amount, currency, status, capture_method, payment_method_id, connector, description, metadata, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11)`;

function intentParameters(intent: PaymentIntent): unknown[] {
  return [
    intent.id,
    intent.merchantId,
    intent.amount,
    intent.currency,
    intent.status,
    intent.captureMethod,
    intent.paymentMethodId,
    intent.connector,
    intent.description,
    JSON.stringify(intent.metadata),
    intent.createdAt,
  ];
}

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
  const column = <T>(value: (item: NewConfirmedIntent) => T) => created.map(value);
  await queryable.query(
    `WITH input AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                            $11::timestamptz[], $12::text[], $13::text[], $14::text[])
         AS t (id, merchant_id, amount, currency, status, capture_method, payment_method_id, connector, description, metadata, created_at,
               attempt_id, attempt_connector, psp_idempotency_key)
     ), i AS (
       INSERT INTO payment_intents (id, merchant_id, amount, currency, status, capture_method, payment_method_id, connector, description, metadata, created_at)
       SELECT id, merchant_id, amount, currency, status, capture_method, payment_method_id, connector, description, metadata::jsonb, created_at FROM input
       RETURNING id
     ), a AS (
       INSERT INTO payment_attempts (id, payment_intent_id, merchant_id, connector, status, amount, currency, capture_method, psp_idempotency_key, created_at)
       SELECT input.attempt_id, i.id, input.merchant_id, input.attempt_connector, 'pending', input.amount, input.currency, input.capture_method,
              input.psp_idempotency_key, input.created_at
         FROM input JOIN i ON i.id = input.id
     ), ${eventCtes(15, 'EXISTS (SELECT 1 FROM i)', 'ev', '($11::timestamptz[])[e.position]')}
     SELECT 1`,
    [
      textArrayLiteral(column(({ intent }) => intent.id)),
      textArrayLiteral(column(({ intent }) => intent.merchantId)),
      integerArrayLiteral(column(({ intent }) => intent.amount)),
      textArrayLiteral(column(({ intent }) => intent.currency)),
      textArrayLiteral(column(({ intent }) => intent.status)),
      textArrayLiteral(column(({ intent }) => intent.captureMethod)),
      textArrayLiteral(column(({ intent }) => intent.paymentMethodId)),
      textArrayLiteral(column(({ intent }) => intent.connector)),
      textArrayLiteral(column(({ intent }) => intent.description)),
      textArrayLiteral(column(({ intent }) => JSON.stringify(intent.metadata))),
      textArrayLiteral(column(({ intent }) => intent.createdAt.toISOString())),
      textArrayLiteral(column(({ attempt }) => attempt.id)),
      textArrayLiteral(column(({ attempt }) => attempt.connector)),
      textArrayLiteral(column(({ attempt }) => attempt.pspIdempotencyKey)),
      ...eventParameters(column(({ event }) => event)),
    ],
  );
}

export async function insertIntent(tx: Queryable, intent: PaymentIntent): Promise<void> {
  await tx.query(insertIntentSql, intentParameters(intent));
}

/** The merchant's payment intent, locked for update when `lock` is set; another merchant's is undefined. */
export async function findIntent(
  tx: Queryable,
  merchantId: string,
  id: string,
  lock: boolean,
): Promise<PaymentIntent | undefined> {
  const result = await tx.query<IntentRow>(
    `SELECT * FROM payment_intents WHERE id = $1 AND merchant_id = $2${lock ? ' FOR UPDATE' : ''}`,
    [id, merchantId],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : intentFromRow(row);
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

export type IntentChange = Partial<{
  status: PaymentIntent['status'];
  paymentMethodId: string | null;
  connector: string | null;
  amountCapturable: bigint;
  amountReceived: bigint;
  amountRefunded: bigint;
  amountRefunding: bigint;
  pendingOperation: string | null;
  lastPaymentError: PaymentIntent['lastPaymentError'];
  cancellationReason: string | null;
  canceledAt: Date | null;
}>;

const intentColumns: Record<keyof IntentChange, string> = {
  status: 'status',
  paymentMethodId: 'payment_method_id',
  connector: 'connector',
  amountCapturable: 'amount_capturable',
  amountReceived: 'amount_received',
  amountRefunded: 'amount_refunded',
  amountRefunding: 'amount_refunding',
  pendingOperation: 'pending_operation',
  lastPaymentError: 'last_payment_error',
  cancellationReason: 'cancellation_reason',
  canceledAt: 'canceled_at',
};

/** The SET list of a change, stamped `updated_at` with the merchant's clock time `now`. */
function changeClause(
  change: Record<string, unknown>,
  columns: Record<string, string>,
  firstParameter: number,
  now: Date,
): { sql: string; values: unknown[] } {
  const parts: string[] = [];
  const values: unknown[] = [];
  for (const [field, value] of Object.entries(change)) {
    const column = columns[field];
    if (column === undefined || value === undefined) continue;
    values.push(column === 'last_payment_error' && value !== null ? JSON.stringify(value) : value);
    parts.push(`${column} = $${firstParameter + values.length - 1}`);
  }
  values.push(now);
  parts.push(`updated_at = $${firstParameter + values.length - 1}`);
  return { sql: parts.join(', '), values };
}

export async function updateIntent(
  tx: Queryable,
  id: string,
  change: IntentChange,
  now: Date,
): Promise<PaymentIntent> {
  const clause = changeClause(change, intentColumns, 2, now);
  const result = await tx.query<IntentRow>(
    `UPDATE payment_intents SET ${clause.sql} WHERE id = $1 RETURNING *`,
    [id, ...clause.values],
  );
  return intentFromRow(result.rows[0] as IntentRow);
}

export async function listIntents(
  tx: Queryable,
  merchantId: string,
  page: PageRequest,
): Promise<{ intents: PaymentIntent[]; hasMore: boolean }> {
  const { rows, hasMore } = await keysetPage<IntentRow, string>(
    tx,
    {
      select: '*',
      from: 'payment_intents',
      scope: 'merchant_id = $1',
      scopeParameters: [merchantId],
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
  await tx.query(
    `INSERT INTO payment_attempts (id, payment_intent_id, merchant_id, connector, status, amount, currency, capture_method, psp_idempotency_key, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      attempt.id,
      attempt.paymentIntentId,
      attempt.merchantId,
      attempt.connector,
      attempt.status,
      attempt.amount,
      attempt.currency,
      attempt.captureMethod,
      attempt.pspIdempotencyKey,
      attempt.createdAt,
    ],
  );
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

export type AttemptChange = Partial<{
  status: Attempt['status'];
  pspReference: string | null;
  amountAuthorized: bigint;
  amountCaptured: bigint;
  declineCode: string | null;
  pspCode: string | null;
  failureMessage: string | null;
  synced: boolean;
  abandoned: boolean;
}>;

const attemptColumns: Record<string, string> = {
  status: 'status',
  pspReference: 'psp_reference',
  amountAuthorized: 'amount_authorized',
  amountCaptured: 'amount_captured',
  declineCode: 'decline_code',
  pspCode: 'psp_code',
  failureMessage: 'failure_message',
  abandoned: 'abandoned',
};

export async function updateAttempt(
  tx: Queryable,
  id: string,
  change: AttemptChange,
  now: Date,
): Promise<Attempt> {
  const clause = changeClause(change, attemptColumns, 2, now);
  // The clause's last parameter is `now`.
  const synced =
    change.synced === true
      ? `, sync_count = sync_count + 1, last_synced_at = $${clause.values.length + 1}`
      : '';
  const result = await tx.query<AttemptRow>(
    `UPDATE payment_attempts SET ${clause.sql}${synced} WHERE id = $1 RETURNING *`,
    [id, ...clause.values],
  );
  return attemptFromRow(result.rows[0] as AttemptRow);
}

export async function insertRefund(
  tx: Queryable,
  refund: Omit<Refund, 'status' | 'pspReference' | 'failureReason'>,
): Promise<Refund> {
  const result = await tx.query<RefundRow>(
    `INSERT INTO refunds (id, merchant_id, payment_intent_id, attempt_id, amount, currency, status, reason, psp_idempotency_key, metadata, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9::jsonb, $10, $10) RETURNING *`,
    [
      refund.id,
      refund.merchantId,
      refund.paymentIntentId,
      refund.attemptId,
      refund.amount,
      refund.currency,
      refund.reason,
      refund.pspIdempotencyKey,
      JSON.stringify(refund.metadata),
      refund.createdAt,
    ],
  );
  return refundFromRow(result.rows[0] as RefundRow);
}

export async function findRefund(
  tx: Queryable,
  merchantId: string,
  id: string,
  lock: boolean,
): Promise<Refund | undefined> {
  const result = await tx.query<RefundRow>(
    `SELECT * FROM refunds WHERE id = $1 AND merchant_id = $2${lock ? ' FOR UPDATE' : ''}`,
    [id, merchantId],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : refundFromRow(row);
}

export async function refundsOf(tx: Queryable, intentId: string): Promise<Refund[]> {
  const result = await tx.query<RefundRow>(
    'SELECT * FROM refunds WHERE payment_intent_id = $1 ORDER BY id',
    [intentId],
  );
  return result.rows.map(refundFromRow);
}

export async function updateRefund(
  tx: Queryable,
  id: string,
  change: { status: Refund['status']; pspReference?: string | null; failureReason?: string | null },
  now: Date,
): Promise<Refund> {
  const result = await tx.query<RefundRow>(
    `UPDATE refunds SET status = $2, psp_reference = COALESCE($3, psp_reference), failure_reason = $4, updated_at = $5 WHERE id = $1 RETURNING *`,
    [id, change.status, change.pspReference ?? null, change.failureReason ?? null, now],
  );
  return refundFromRow(result.rows[0] as RefundRow);
}

export async function listRefunds(
  tx: Queryable,
  merchantId: string,
  page: PageRequest & { readonly paymentIntentId?: string },
): Promise<{ refunds: Refund[]; hasMore: boolean }> {
  const { rows, hasMore } = await keysetPage<RefundRow, string>(
    tx,
    {
      select: '*',
      from: 'refunds',
      scope: 'merchant_id = $1',
      // A cursor may name any of the merchant's refunds, also one of another intent.
      scopeParameters: [merchantId],
      filter: '$2::text IS NULL OR payment_intent_id = $2',
      filterParameters: [page.paymentIntentId ?? null],
      key: 'id',
      keyType: 'text',
      order: 'newest_first',
      noun: 'refund',
    },
    page,
  );
  return { refunds: rows.map(refundFromRow), hasMore };
}
