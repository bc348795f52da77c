// Webhooks from PSPs (sim/CONTRACT.md "Webhooks"). A webhook is a hint, never a source of truth
// for money: once it is verified and new, Payrail syncs the payment it names, i.e. asks the PSP
// for the current state and records it through the payments state machine. So a forged,
// replayed, duplicated or late (out of order) event can never move a payment, let alone
// backwards; it can at most make Payrail look sooner.
//
// Flow: parse (the connector's parser, nothing trusted yet) → find our attempt by the reference
// the PSP echoes (our attempt id, else our refund id, else the PSP's payment id) → its merchant's
// webhook secret for this connector → verify → record the event id (dedupe) → sync → processed.
//
// When the sync cannot learn the state (PSP down, answer unknown), the event stays recorded as
// received-but-unprocessed and the PSP is answered 500, so that the PSP retries it. Chosen over
// "200 and retry it ourselves later" because the PSP's retry schedule (Stripe: days) is a durable
// retry queue that needs no worker of ours, and a 2xx would tell the PSP we hold something we
// do not have yet. The retry finds the row unprocessed and syncs again; the status sync worker
// resolves the attempt on its own schedule anyway.
import {
  pspWebhookParsers,
  type Clock,
  type PspWebhookEvent,
  type PspWebhookParser,
  type RawWebhook,
} from '../connectors/webhooks.ts';
import type { Logger } from '../observability/logger.ts';
import type { Queryable } from '../storage/database.ts';
import type { MerchantConnector } from './merchant-settings.ts';
import type { IntentWithAttempts } from './types.ts';
import { formatPendingOperation, isUnresolvedAttempt } from './state-machine.ts';

/** What the receiver needs of the payments service. */
export type WebhookPayments = {
  sync(merchantId: string, intentId: string): Promise<IntentWithAttempts>;
  readonly settings: { connectors(merchantId: string): Promise<readonly MerchantConnector[]> };
};

export type PspWebhookDependencies = {
  readonly database: Queryable;
  readonly payments: WebhookPayments;
  readonly logger: Logger;
  readonly parsers?: ReadonlyMap<string, PspWebhookParser>;
  readonly clock?: Clock;
};

/** The payment a webhook is about, as Payrail knows it. */
type Target = {
  readonly merchantId: string;
  readonly paymentIntentId: string;
  readonly attemptId: string;
};

export type PspWebhookReceipt =
  /** Verified, new (or recorded earlier but not processed), and the payment synced. */
  | { readonly outcome: 'processed'; readonly eventId: string; readonly paymentIntentId: string }
  /** Verified, and already processed: nothing done. */
  | { readonly outcome: 'duplicate'; readonly eventId: string; readonly paymentIntentId: string }
  | { readonly outcome: 'unknown_connector' }
  /** Not in the connector's format: nothing looked up, nothing recorded. */
  | { readonly outcome: 'malformed'; readonly reason: string }
  /** Unknown reference, no secret, wrong or stale signature: nothing recorded. `reason` is for logs only. */
  | { readonly outcome: 'unverified'; readonly reason: string }
  /** Verified and recorded, but the PSP's state could not be learned: answer so that the PSP retries. */
  | {
      readonly outcome: 'not_processed';
      readonly eventId: string;
      readonly paymentIntentId: string;
      readonly reason: string;
    };

type AttemptRow = { merchant_id: string; payment_intent_id: string; attempt_id: string };

export class PspWebhooks {
  readonly #database: Queryable;
  readonly #payments: WebhookPayments;
  readonly #logger: Logger;
  readonly #parsers: ReadonlyMap<string, PspWebhookParser>;
  readonly #clock: Clock;

  constructor(dependencies: PspWebhookDependencies) {
    this.#database = dependencies.database;
    this.#payments = dependencies.payments;
    this.#logger = dependencies.logger;
    this.#parsers = dependencies.parsers ?? pspWebhookParsers;
    this.#clock = dependencies.clock ?? Date.now;
  }

  hasConnector(connector: string): boolean {
    return this.#parsers.has(connector);
  }

  async receive(connector: string, webhook: RawWebhook): Promise<PspWebhookReceipt> {
    const parser = this.#parsers.get(connector);
    if (parser === undefined) return { outcome: 'unknown_connector' };
    const parsed = parser.parse(webhook);
    if (!parsed.ok) return { outcome: 'malformed', reason: parsed.reason };
    const event = parsed.event;
    const target = await this.#findTarget(connector, event);
    if (target === undefined)
      return {
        outcome: 'unverified',
        reason: 'no payment of this connector matches the reference',
      };
    const secret = await this.#secretOf(target.merchantId, connector);
    if (secret === undefined)
      return {
        outcome: 'unverified',
        reason: 'the merchant has no webhook secret for this connector',
      };
    const verified = parser.verify(webhook, secret, this.#clock);
    if (!verified.ok) return { outcome: 'unverified', reason: verified.reason };
    const seen = await this.#record(connector, event, target);
    const ids = { eventId: event.eventId, paymentIntentId: target.paymentIntentId };
    if (seen === 'processed') return { outcome: 'duplicate', ...ids };
    const problem = await this.#sync(target);
    if (problem !== undefined) {
      this.#logger.warn(
        { connector, ...ids, type: event.type, problem },
        'PSP webhook recorded but not processed; the PSP will retry it',
      );
      return { outcome: 'not_processed', ...ids, reason: problem };
    }
    await this.#database.query(
      'UPDATE psp_webhook_events SET processed_at = now() WHERE connector = $1 AND event_id = $2 AND processed_at IS NULL',
      [connector, event.eventId],
    );
    return { outcome: 'processed', ...ids };
  }

  /** By our attempt id, else our refund id, else the PSP's payment id; always within this connector. */
  async #findTarget(connector: string, event: PspWebhookEvent): Promise<Target | undefined> {
    const lookups: [string, string | undefined][] = [
      [
        'SELECT merchant_id, payment_intent_id, id AS attempt_id FROM payment_attempts WHERE id = $2 AND connector = $1',
        event.reference,
      ],
      [
        `SELECT r.merchant_id, r.payment_intent_id, r.attempt_id FROM refunds r
          JOIN payment_attempts a ON a.id = r.attempt_id WHERE r.id = $2 AND a.connector = $1`,
        event.refundReference,
      ],
      [
        `SELECT merchant_id, payment_intent_id, id AS attempt_id FROM payment_attempts
          WHERE connector = $1 AND psp_reference = $2 ORDER BY created_at DESC LIMIT 1`,
        event.pspPaymentId,
      ],
    ];
    for (const [sql, value] of lookups) {
      if (value === undefined) continue;
      const row = (await this.#database.query<AttemptRow>(sql, [connector, value])).rows[0];
      if (row !== undefined) {
        return {
          merchantId: row.merchant_id,
          paymentIntentId: row.payment_intent_id,
          attemptId: row.attempt_id,
        };
      }
    }
    return undefined;
  }

  async #secretOf(merchantId: string, connector: string): Promise<string | undefined> {
    const setting = (await this.#payments.settings.connectors(merchantId)).find(
      (candidate) => candidate.connector === connector,
    );
    const secret = setting?.credentials.webhookSecret;
    return secret === undefined || secret === '' ? undefined : secret;
  }

  /** 'new' (just recorded), 'unprocessed' (recorded before, its sync failed) or 'processed'. */
  async #record(
    connector: string,
    event: PspWebhookEvent,
    target: Target,
  ): Promise<'new' | 'unprocessed' | 'processed'> {
    const inserted = await this.#database.query(
      `INSERT INTO psp_webhook_events (connector, event_id, merchant_id, payment_intent_id, type) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (connector, event_id) DO NOTHING RETURNING event_id`,
      [connector, event.eventId, target.merchantId, target.paymentIntentId, event.type],
    );
    if (inserted.rows.length > 0) return 'new';
    // A separate statement: it sees a row that a concurrent insert committed meanwhile.
    const existing = await this.#database.query<{ processed_at: Date | null }>(
      'SELECT processed_at FROM psp_webhook_events WHERE connector = $1 AND event_id = $2',
      [connector, event.eventId],
    );
    return existing.rows[0]?.processed_at === null ? 'unprocessed' : 'processed';
  }

  /**
   * Syncs the payment; a problem when its state is still not known afterwards. Two deliveries
   * of one unprocessed event may sync at once: harmless, sync is idempotent (same PSP keys,
   * outcomes recorded only from pending or unknown).
   */
  async #sync(target: Target): Promise<string | undefined> {
    let synced: IntentWithAttempts;
    try {
      synced = await this.#payments.sync(target.merchantId, target.paymentIntentId);
    } catch (error) {
      this.#logger.warn(
        { err: error, paymentIntent: target.paymentIntentId },
        'sync after a PSP webhook failed',
      );
      return 'the sync failed';
    }
    const attempt = synced.attempts.find((candidate) => candidate.id === target.attemptId);
    if (attempt === undefined || isUnresolvedAttempt(attempt))
      return "the attempt's outcome is still unknown";
    if (synced.intent.pendingOperation !== null)
      return `the ${formatPendingOperation(synced.intent.pendingOperation)} in flight is still unresolved`;
    const refunds = await this.#database.query(
      "SELECT 1 FROM refunds WHERE payment_intent_id = $1 AND status = 'pending' LIMIT 1",
      [target.paymentIntentId],
    );
    return refunds.rows.length > 0 ? 'a refund in flight is still unresolved' : undefined;
  }
}
