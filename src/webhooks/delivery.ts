// Sends pending webhook deliveries to merchants' endpoints (architecture §4), following architecture §1
// rule 5: a short statement claims due deliveries (FOR UPDATE SKIP LOCKED) and leases them by
// moving next_attempt_at past the lease and naming the holder in lease_id; the HTTP call runs
// outside any transaction; a second short transaction records the attempt, only if the lease is
// still ours. A worker that dies mid-send leaves its deliveries to come due when the lease ends,
// so delivery is at least once: receivers deduplicate by webhook-id (the event id).
import crypto from 'node:crypto';
import { clockSql, systemClock, type Clock } from '../clock.ts';
import { toJson } from '../api-objects/json.ts';
import { presentEvent } from '../api-objects/event.ts';
import type { EventType } from '../events/events.ts';
import { withLivemode } from '../merchants/mode.ts';
import type { Database, Queryable } from '../storage/database.ts';
import {
  defaultJitterRatio,
  defaultRetryDelaysMs,
  nextRetryDelayMs,
  redeliver,
  type WebhookDelivery,
} from './deliveries.ts';
import { failPendingDeliveries } from './endpoints.ts';
import type { SecretBox } from './secret-box.ts';
import type { SignatureScheme } from './endpoints.ts';
import { signatureHeaders, stripeSignatureHeader } from './signing.ts';
import { guardedPost, systemResolver, type Resolver } from './guarded-post.ts';
import { policyFor, type AddressPolicyOptions } from './ssrf.ts';
import { pendingWebhooksSql } from './pending.ts';

export const defaultTimeoutMs = 10_000;
export const defaultPollIntervalMs = 1_000;
export const defaultBatchSize = 50;
export const batchSizeMax = 1_000;
const errorLengthMax = 1_000;
const userAgent = 'Payrail-Webhooks/1.0';

/**
 * What one claimed delivery came to. `endpoint_disabled`: not sent, the endpoint was disabled.
 * `lease_lost`: sent, but the delivery changed hands or was deleted meanwhile; nothing recorded.
 */
export type DeliveryOutcome =
  'succeeded' | 'retrying' | 'failed' | 'dead' | 'endpoint_disabled' | 'lease_lost';

export type DeliveryResult = {
  readonly deliveryId: string;
  readonly endpointId: string;
  readonly eventId: string;
  readonly merchantId: string;
  readonly outcome: DeliveryOutcome;
  /** The attempt's number in the delivery's history; undefined when nothing was sent or recorded. */
  readonly attemptNumber: number | undefined;
  readonly httpStatus: number | null;
  readonly error: string | null;
  readonly durationMs: number;
  readonly nextAttemptAt: Date | null;
};

export type DelivererLogger = {
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
};

export type WebhookDelivererOptions = AddressPolicyOptions & {
  readonly secretBox: SecretBox;
  /** Resolves endpoint host names (every address is checked before connecting); tests inject one. */
  readonly resolve?: Resolver;
  /** Waits after the 1st, 2nd … failed attempt of a round; after the last the delivery is dead. */
  readonly retryDelaysMs?: readonly number[];
  /** ± fraction applied to each wait (0 to 0.5). */
  readonly jitterRatio?: number;
  readonly timeoutMs?: number;
  /** How long a claim is ours; longer than the timeout, so a slow send is never sent twice. */
  readonly leaseMs?: number;
  readonly pollIntervalMs?: number;
  readonly batchSize?: number;
  /** Called once per claimed delivery (metrics); must not throw. */
  readonly onResult?: (result: DeliveryResult) => void;
  /** Business time: due times, leases and the retry schedule run on each merchant's clock. */
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly logger?: DelivererLogger;
};

type Claimed = {
  id: string;
  endpoint_id: string;
  event_id: string;
  merchant_id: string;
  round_attempt_count: number;
  url: string;
  endpoint_status: string;
  secret_sealed: string;
  signature_scheme: SignatureScheme;
  event_type: EventType;
  object_id: string;
  data_text: string;
  event_created_at: Date;
  request_id: string | null;
  idempotency_key: string | null;
  /** At the claim: this delivery is pending, so it counts itself. */
  pending_webhooks: number;
  /** The merchant's mode, which its events and their objects carry. */
  livemode: boolean;
};

type Sent = {
  httpStatus: number | null;
  error: string | null;
  durationMs: number;
  startedAt: Date;
};

/** JSON.parse that keeps integers beyond 2^53 exact (as bigint), so amounts are never rounded. */
function parseExactJson(text: string): unknown {
  return JSON.parse(text, (_key: string, value: unknown, context?: { source?: string }) =>
    typeof value === 'number' &&
    !Number.isSafeInteger(value) &&
    context?.source !== undefined &&
    /^-?[0-9]+$/.test(context.source)
      ? BigInt(context.source)
      : value,
  );
}

function describeError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return `timed out after ${timeoutMs} ms`;
  const cause =
    error instanceof Error
      ? (error.cause as { code?: unknown; message?: unknown } | undefined)
      : undefined;
  const detail =
    typeof cause?.code === 'string'
      ? cause.code
      : typeof cause?.message === 'string'
        ? cause.message
        : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return (detail === undefined ? message : `${message}: ${detail}`).slice(0, errorLengthMax);
}

export class WebhookDeliverer {
  readonly #database: Database;
  readonly #secretBox: SecretBox;
  readonly #retryDelaysMs: readonly number[];
  readonly #jitterRatio: number;
  readonly #timeoutMs: number;
  readonly #leaseMs: number;
  readonly #pollIntervalMs: number;
  readonly #batchSize: number;
  readonly #onResult: ((result: DeliveryResult) => void) | undefined;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #logger: DelivererLogger | undefined;
  readonly #addressPolicy: AddressPolicyOptions;
  readonly #resolve: Resolver;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopping = false;

  constructor(database: Database, options: WebhookDelivererOptions) {
    this.#database = database;
    this.#secretBox = options.secretBox;
    this.#retryDelaysMs = options.retryDelaysMs ?? defaultRetryDelaysMs;
    this.#jitterRatio = options.jitterRatio ?? defaultJitterRatio;
    this.#timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
    this.#leaseMs = options.leaseMs ?? this.#timeoutMs + 60_000;
    this.#pollIntervalMs = options.pollIntervalMs ?? defaultPollIntervalMs;
    this.#batchSize = options.batchSize ?? defaultBatchSize;
    this.#onResult = options.onResult;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#logger = options.logger;
    this.#addressPolicy = options;
    this.#resolve = options.resolve ?? systemResolver;
    if (this.#retryDelaysMs.some((delay) => !Number.isFinite(delay) || delay < 0))
      throw new Error('webhooks: retry delays are non-negative milliseconds');
    if (!(this.#jitterRatio >= 0 && this.#jitterRatio <= 0.5))
      throw new Error('webhooks: jitterRatio is between 0 and 0.5');
    if (!(this.#timeoutMs > 0) || !(this.#leaseMs > this.#timeoutMs))
      throw new Error('webhooks: timeoutMs > 0 and leaseMs > timeoutMs');
    assertBatchSize(this.#batchSize);
  }

  /** Claims up to `limit` due deliveries, sends them concurrently and records each attempt. */
  async runOnce(limit: number = this.#batchSize): Promise<DeliveryResult[]> {
    assertBatchSize(limit);
    const leaseId = crypto.randomUUID();
    const claimed = await this.#claim(limit, leaseId);
    const settled = await Promise.allSettled(
      claimed.map((delivery) => this.#deliver(delivery, leaseId)),
    );
    const results: DeliveryResult[] = [];
    for (const [index, outcome] of settled.entries()) {
      if (outcome.status === 'fulfilled') results.push(outcome.value);
      // Not an endpoint's failure (database, or a secret that does not decrypt): the lease runs
      // out and the delivery comes due again.
      else
        this.#logger?.error(
          { err: outcome.reason, deliveryId: claimed[index]?.id },
          'webhook delivery could not be processed',
        );
    }
    return results;
  }

  /** Polls every `pollIntervalMs`; a full batch is followed at once by the next. Runs never overlap. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#stopping = false;
    const tick = () => {
      if (this.#running !== undefined) return;
      this.#running = this.#drain().finally(() => {
        this.#running = undefined;
      });
    };
    this.#timer = setInterval(tick, this.#pollIntervalMs);
    this.#timer.unref();
    tick();
  }

  /** Stops polling and waits for the sends under way to be recorded. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** Manual replay: pending again, due now, with a fresh schedule; the attempt history stays. */
  redeliver(merchantId: string, deliveryId: string): Promise<WebhookDelivery> {
    return redeliver(this.#database, merchantId, deliveryId, this.#clock.now(merchantId));
  }

  async #drain(): Promise<void> {
    try {
      while (!this.#stopping && (await this.runOnce(this.#batchSize)).length === this.#batchSize);
    } catch (error) {
      this.#logger?.error({ err: error }, 'webhook delivery run failed');
    }
  }

  async #claim(limit: number, leaseId: string): Promise<Claimed[]> {
    // Due by its merchant's clock; `bound` (the latest clock) keeps the index on next_attempt_at.
    const at = clockSql(this.#clock.reading(), 'd.merchant_id', 4);
    const result = await this.#database.query<Claimed>(
      `WITH due AS (
         SELECT id FROM webhook_deliveries d
          WHERE status = 'pending' AND next_attempt_at <= ${at.bound} AND next_attempt_at <= ${at.now}
          ORDER BY next_attempt_at LIMIT $1
          FOR UPDATE SKIP LOCKED
       )
       UPDATE webhook_deliveries d SET next_attempt_at = ${at.now} + $2 * interval '1 millisecond', lease_id = $3, updated_at = ${at.now}
         FROM due, webhook_endpoints e, events ev, merchants m
        WHERE d.id = due.id AND e.id = d.endpoint_id AND ev.id = d.event_id AND m.id = d.merchant_id
       RETURNING d.id, d.endpoint_id, d.event_id, d.merchant_id, d.round_attempt_count, e.url, e.status AS endpoint_status, e.secret_sealed, e.signature_scheme,
                 ev.type AS event_type, ev.object_id, ev.data::text AS data_text, ev.created_at AS event_created_at, m.livemode,
                 ev.request_id, ev.idempotency_key, ${pendingWebhooksSql('ev')} AS pending_webhooks`,
      [limit, this.#leaseMs, leaseId, ...at.values],
    );
    return result.rows;
  }

  async #deliver(delivery: Claimed, leaseId: string): Promise<DeliveryResult> {
    const base = {
      deliveryId: delivery.id,
      endpointId: delivery.endpoint_id,
      eventId: delivery.event_id,
      merchantId: delivery.merchant_id,
    };
    if (delivery.endpoint_status !== 'enabled') {
      const recorded = await this.#finishUnsent(delivery.id, leaseId, 'the endpoint was disabled');
      return this.#report({
        ...base,
        outcome: recorded ? 'endpoint_disabled' : 'lease_lost',
        attemptNumber: undefined,
        httpStatus: null,
        error: null,
        durationMs: 0,
        nextAttemptAt: null,
      });
    }
    const sent = await this.#send(delivery);
    return this.#report({
      ...base,
      ...(await this.#record(delivery, leaseId, sent)),
      httpStatus: sent.httpStatus,
      error: sent.error,
      durationMs: sent.durationMs,
    });
  }

  #report(result: DeliveryResult): DeliveryResult {
    try {
      this.#onResult?.(result);
    } catch (error) {
      this.#logger?.warn({ err: error }, 'webhook onResult callback threw');
    }
    return result;
  }

  #body(delivery: Claimed): string {
    const data = parseExactJson(delivery.data_text) as { object: Record<string, unknown> };
    const event = presentEvent({
      id: delivery.event_id,
      merchantId: delivery.merchant_id,
      type: delivery.event_type,
      objectId: delivery.object_id,
      data,
      createdAt: delivery.event_created_at,
      request: { id: delivery.request_id, idempotencyKey: delivery.idempotency_key },
      pendingWebhooks: delivery.pending_webhooks,
    });
    return toJson(delivery.livemode ? withLivemode(event) : event);
  }

  async #send(delivery: Claimed): Promise<Sent> {
    const secret = this.#secretBox.open(delivery.secret_sealed, delivery.endpoint_id);
    const body = this.#body(delivery);
    const startedAt = this.#clock.now(delivery.merchant_id);
    // webhook-id is the event id: the same on every retry and replay, so receivers can deduplicate.
    // Signed with the real time, not a test clock's: the receiver checks it against its own clock.
    const sentAt = new Date();
    const headers = {
      ...(delivery.signature_scheme === 'stripe'
        ? { 'stripe-signature': stripeSignatureHeader(secret, sentAt, body) }
        : signatureHeaders(secret, delivery.event_id, sentAt, body)),
      'content-type': 'application/json',
      'user-agent': userAgent,
    };
    const started = performance.now();
    try {
      // No redirects: a 3xx is a failed attempt (and cannot steer the request somewhere else).
      // Only a public address is connected to (ssrf.ts), checked after resolving the host.
      const status = await guardedPost({
        url: delivery.url,
        headers,
        body,
        timeoutMs: this.#timeoutMs,
        policy: await policyFor(this.#addressPolicy, delivery.merchant_id),
        resolve: this.#resolve,
      });
      return {
        httpStatus: status,
        error: null,
        durationMs: Math.round(performance.now() - started),
        startedAt,
      };
    } catch (error) {
      return {
        httpStatus: null,
        error: describeError(error, this.#timeoutMs),
        durationMs: Math.round(performance.now() - started),
        startedAt,
      };
    }
  }

  /** Records the attempt and the delivery's next state in one short transaction, if the lease is still ours. */
  async #record(
    delivery: Claimed,
    leaseId: string,
    sent: Sent,
  ): Promise<{
    outcome: DeliveryOutcome;
    attemptNumber: number | undefined;
    nextAttemptAt: Date | null;
  }> {
    const succeeded = sent.httpStatus !== null && sent.httpStatus >= 200 && sent.httpStatus < 300;
    const gone = sent.httpStatus === 410;
    const delayMs =
      succeeded || gone
        ? undefined
        : nextRetryDelayMs(
            this.#retryDelaysMs,
            delivery.round_attempt_count + 1,
            this.#jitterRatio,
            this.#random,
          );
    const outcome: DeliveryOutcome = succeeded
      ? 'succeeded'
      : gone
        ? 'failed'
        : delayMs === undefined
          ? 'dead'
          : 'retrying';
    const nextAttemptAt =
      delayMs === undefined
        ? null
        : new Date(this.#clock.now(delivery.merchant_id).getTime() + delayMs);
    const status = outcome === 'retrying' ? 'pending' : outcome;
    return this.#database.transaction(async (tx) => {
      const updated = await tx.query<{ attempt_count: number }>(
        `UPDATE webhook_deliveries SET status = $3, attempt_count = attempt_count + 1, round_attempt_count = round_attempt_count + 1,
                next_attempt_at = $4, lease_id = NULL, last_http_status = $5, last_error = $6, updated_at = $7
          WHERE id = $1 AND lease_id = $2 RETURNING attempt_count`,
        [
          delivery.id,
          leaseId,
          status,
          nextAttemptAt,
          sent.httpStatus,
          sent.error,
          this.#clock.now(delivery.merchant_id),
        ],
      );
      const attemptNumber = updated.rows[0]?.attempt_count;
      if (attemptNumber === undefined) {
        this.#logger?.warn(
          { deliveryId: delivery.id },
          'webhook delivery lease lost before the attempt was recorded',
        );
        return { outcome: 'lease_lost' as const, attemptNumber: undefined, nextAttemptAt: null };
      }
      await tx.query(
        'INSERT INTO webhook_delivery_attempts (delivery_id, attempt_number, http_status, error, duration_ms, attempted_at) VALUES ($1, $2, $3, $4, $5, $6)',
        [delivery.id, attemptNumber, sent.httpStatus, sent.error, sent.durationMs, sent.startedAt],
      );
      if (gone) await this.#disableGoneEndpoint(tx, delivery.endpoint_id);
      return { outcome, attemptNumber, nextAttemptAt };
    });
  }

  /** 410 Gone: the merchant removed the endpoint; stop sending to it until it is enabled again. */
  async #disableGoneEndpoint(tx: Queryable, endpointId: string): Promise<void> {
    const reason = `the endpoint answered 410 Gone at ${this.#clock.now().toISOString()}`;
    await tx.query(
      `UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = coalesce(disabled_reason, $2), updated_at = now() WHERE id = $1`,
      [endpointId, reason],
    );
    await failPendingDeliveries(
      tx,
      endpointId,
      'the endpoint was disabled after answering 410 Gone',
    );
  }

  async #finishUnsent(deliveryId: string, leaseId: string, reason: string): Promise<boolean> {
    const result = await this.#database.query(
      `UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, lease_id = NULL, last_error = $3, updated_at = now()
        WHERE id = $1 AND lease_id = $2`,
      [deliveryId, leaseId, reason],
    );
    return result.rowCount > 0;
  }
}

function assertBatchSize(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > batchSizeMax)
    throw new Error(`webhooks: a batch is 1 to ${batchSizeMax} deliveries`);
}
