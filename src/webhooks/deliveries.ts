// Webhook deliveries as stored: one per (endpoint, event), with the history of its attempts, the
// retry schedule that spaces those attempts, and the manual replay of a finished delivery.
import type { Database, Queryable } from '../storage/database.ts';
import { textArrayLiteral } from '../storage/arrays.ts';
import { WebhookError } from './errors.ts';
import { keysetPage, type PageRequest } from '../storage/pagination.ts';

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'dead';

export type DeliveryAttempt = {
  readonly number: number;
  readonly httpStatus: number | null;
  readonly error: string | null;
  readonly durationMs: number;
  readonly attemptedAt: Date;
};

export type WebhookDelivery = {
  readonly id: string;
  readonly endpointId: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly merchantId: string;
  readonly status: DeliveryStatus;
  readonly attemptCount: number;
  readonly nextAttemptAt: Date | null;
  readonly lastHttpStatus: number | null;
  readonly lastError: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** The most recent `attemptsShownMax` attempts, oldest first. */
  readonly attempts: readonly DeliveryAttempt[];
};

/**
 * The wait after the n-th failed attempt of a round (about 2.8 days in all, 10 attempts; with
 * jitter up to about 3 days). After the last one the delivery is dead.
 */
export const defaultRetryDelaysMs: readonly number[] = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  12 * 3_600_000,
  14 * 3_600_000,
  24 * 3_600_000,
];
export const defaultJitterRatio = 0.15;
export const attemptsShownMax = 50;
const deliveryIdLengthMax = 100;

/**
 * The wait before the next attempt after `failedAttemptsInRound` failures, jittered by
 * ±`jitterRatio` (so that deliveries failed together do not all retry together), or undefined
 * when the schedule is used up.
 */
export function nextRetryDelayMs(
  schedule: readonly number[],
  failedAttemptsInRound: number,
  jitterRatio: number,
  random: () => number = Math.random,
): number | undefined {
  const base = schedule[failedAttemptsInRound - 1];
  if (base === undefined) return undefined;
  return Math.max(0, Math.round(base * (1 + jitterRatio * (2 * random() - 1))));
}

type DeliveryRow = {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  merchant_id: string;
  status: DeliveryStatus;
  attempt_count: number;
  next_attempt_at: Date | null;
  last_http_status: number | null;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
};
type AttemptRow = {
  delivery_id: string;
  attempt_number: number;
  http_status: number | null;
  error: string | null;
  duration_ms: number;
  attempted_at: Date;
};

const deliveryColumns = `d.id, d.endpoint_id, d.event_id, ev.type AS event_type, d.merchant_id, d.status, d.attempt_count, d.next_attempt_at,
  d.last_http_status, d.last_error, d.created_at, d.updated_at`;

async function withAttempts(
  queryable: Queryable,
  rows: readonly DeliveryRow[],
): Promise<WebhookDelivery[]> {
  if (rows.length === 0) return [];
  const result = await queryable.query<AttemptRow>(
    `SELECT delivery_id, attempt_number, http_status, error, duration_ms, attempted_at FROM (
       SELECT a.*, row_number() OVER (PARTITION BY delivery_id ORDER BY attempt_number DESC) AS recency
         FROM webhook_delivery_attempts a WHERE delivery_id = ANY($1::text[])) recent
      WHERE recency <= $2 ORDER BY delivery_id, attempt_number`,
    [textArrayLiteral(rows.map((row) => row.id)), attemptsShownMax],
  );
  const attempts = new Map<string, DeliveryAttempt[]>();
  for (const row of result.rows) {
    const list = attempts.get(row.delivery_id) ?? [];
    list.push({
      number: row.attempt_number,
      httpStatus: row.http_status,
      error: row.error,
      durationMs: row.duration_ms,
      attemptedAt: row.attempted_at,
    });
    attempts.set(row.delivery_id, list);
  }
  return rows.map((row) => ({
    id: row.id,
    endpointId: row.endpoint_id,
    eventId: row.event_id,
    eventType: row.event_type,
    merchantId: row.merchant_id,
    status: row.status,
    attemptCount: row.attempt_count,
    nextAttemptAt: row.next_attempt_at,
    lastHttpStatus: row.last_http_status,
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    attempts: attempts.get(row.id) ?? [],
  }));
}

export async function findDelivery(
  queryable: Queryable,
  merchantId: string,
  id: string,
): Promise<WebhookDelivery | undefined> {
  const result = await queryable.query<DeliveryRow>(
    `SELECT ${deliveryColumns} FROM webhook_deliveries d JOIN events ev ON ev.id = d.event_id WHERE d.id = $1 AND d.merchant_id = $2`,
    [id, merchantId],
  );
  return (await withAttempts(queryable, result.rows))[0];
}

export const deliveryStatuses: readonly DeliveryStatus[] = [
  'pending',
  'succeeded',
  'failed',
  'dead',
];

/** A page of an endpoint's deliveries, optionally of one status only (the dashboard's filter). */
export type DeliveryListOptions = PageRequest & { readonly status?: DeliveryStatus };

/** The deliveries of one of the merchant's endpoints, newest first, each with its attempts. */
export async function listDeliveries(
  queryable: Queryable,
  merchantId: string,
  endpointId: string,
  options: DeliveryListOptions,
): Promise<{ deliveries: WebhookDelivery[]; hasMore: boolean }> {
  const endpoint = await queryable.query(
    'SELECT 1 FROM webhook_endpoints WHERE id = $1 AND merchant_id = $2',
    [endpointId, merchantId],
  );
  if (endpoint.rows.length === 0)
    throw new WebhookError(
      'resource_missing',
      `No such webhook endpoint: '${endpointId.slice(0, deliveryIdLengthMax)}'`,
      'id',
    );
  const { rows, hasMore } = await keysetPage<DeliveryRow, string>(
    queryable,
    {
      select: deliveryColumns,
      from: 'webhook_deliveries d JOIN events ev ON ev.id = d.event_id',
      scope: 'd.endpoint_id = $1',
      scopeParameters: [endpointId],
      equals: { 'd.status': options.status },
      key: 'd.id',
      keyType: 'text',
      order: 'newest_first',
      noun: 'webhook_delivery',
    },
    options,
  );
  return { deliveries: await withAttempts(queryable, rows), hasMore };
}

/**
 * The merchant's deliveries of one event, oldest first: one per endpoint it was sent to, so at
 * most `endpointsPerMerchantMax` (an endpoint's deletion deletes its deliveries).
 */
export async function eventDeliveries(
  queryable: Queryable,
  merchantId: string,
  eventId: string,
): Promise<WebhookDelivery[]> {
  const result = await queryable.query<DeliveryRow>(
    `SELECT ${deliveryColumns} FROM webhook_deliveries d JOIN events ev ON ev.id = d.event_id
      WHERE d.event_id = $1 AND d.merchant_id = $2 ORDER BY d.id LIMIT 100`,
    [eventId, merchantId],
  );
  return withAttempts(queryable, result.rows);
}

/**
 * Manual replay: the delivery is pending again, due `now`, with a fresh retry schedule; its
 * attempts so far stay in its history. A delivery being sent right now is left as it is.
 */
export async function redeliver(
  database: Database,
  merchantId: string,
  deliveryId: string,
  now: Date,
): Promise<WebhookDelivery> {
  return database.transaction(async (tx) => {
    const locked = await tx.query<{
      status: DeliveryStatus;
      lease_id: string | null;
      endpoint_status: string;
    }>(
      `SELECT d.status, d.lease_id, e.status AS endpoint_status FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
        WHERE d.id = $1 AND d.merchant_id = $2 FOR UPDATE OF d`,
      [deliveryId, merchantId],
    );
    const row = locked.rows[0];
    if (row === undefined)
      throw new WebhookError(
        'resource_missing',
        `No such webhook delivery: '${deliveryId.slice(0, deliveryIdLengthMax)}'`,
        'id',
      );
    if (row.endpoint_status !== 'enabled') {
      throw new WebhookError(
        'webhook_endpoint_disabled',
        'The webhook endpoint of this delivery is disabled; enable it (disabled=false) before retrying.',
      );
    }
    if (row.lease_id === null) {
      await tx.query(
        `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $2, round_attempt_count = 0, updated_at = now() WHERE id = $1`,
        [deliveryId, now],
      );
    }
    return (await findDelivery(tx, merchantId, deliveryId)) as WebhookDelivery;
  });
}
