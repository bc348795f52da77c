// Prometheus metrics for Payrail. Each Metrics owns its own prom-client Registry (never the global
// default), so tests and several apps in one process never collide on metric names. Label values
// are bounded sets (connector names from the registry, fixed operation/result names, route
// patterns rather than raw URLs), because every distinct label value is a new time series.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type PspOperation = 'authorize' | 'capture' | 'void' | 'refund' | 'sync';
/**
 * What a PSP call ended in: a connector status (payment or refund), 'rejected' when a breaker
 * or bulkhead refused it before anything was sent, 'error' when the connector threw.
 */
export type PspCallOutcome =
  | 'authorized'
  | 'captured'
  | 'voided'
  | 'failed'
  | 'pending'
  | 'unknown'
  | 'succeeded'
  | 'rejected'
  | 'error';
export type BreakerState = 'closed' | 'half_open' | 'open';
export type OutboxName = 'events' | 'ledger';
export type EventResult = 'succeeded' | 'failed' | 'skipped';
export type WebhookResult = 'succeeded' | 'failed' | 'disabled' | 'dead';

export type MetricsOptions = {
  /** Node process metrics (CPU, memory, event loop lag, GC) with the payrail_ prefix; default false. */
  readonly processMetrics?: boolean;
  /** HTTP request counter and histogram; default true. Off when a proxy or APM measures them. */
  readonly httpRequests?: boolean;
};

const PREFIX = 'payrail_';

/** Ordered by severity, so max() over several processes shows the worst state. */
export const BREAKER_STATE_VALUE: Readonly<Record<BreakerState, number>> = {
  closed: 0,
  half_open: 1,
  open: 2,
};

// PSP calls: most answer in 50 ms – 2 s; the tail up to the 120 s hard timeout is where incidents show.
const PSP_SECONDS_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120];
// Merchant webhook endpoints are slower and less predictable than PSPs; deliveries time out sooner.
const WEBHOOK_SECONDS_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
// Clearing batches: a handful of items in a quiet test, hundreds of thousands at a busy cutoff.
const SETTLEMENT_BATCH_BUCKETS = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];
const SETTLEMENT_REJECT_REASONS: ReadonlySet<string> = new Set([
  'duplicate',
  'unknown_reference',
  'authorization_expired',
  'amount_invalid',
]);
const HTTP_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

type HttpMetrics = {
  readonly requests: Counter<'method' | 'route' | 'status_class'>;
  readonly duration: Histogram<'method' | 'route' | 'status_class'>;
};

export type PayoutOutcome = 'in_transit' | 'failed' | 'paid' | 'returned';

export class Metrics {
  readonly registry: Registry;
  private readonly pspCallSeconds: Histogram<'connector' | 'operation' | 'outcome'>;
  private readonly pspCalls: Counter<'connector' | 'operation' | 'outcome'>;
  private readonly pspRetries: Counter<'connector' | 'operation'>;
  private readonly breakerStateGauge: Gauge<'connector'>;
  private readonly breakerTransitions: Counter<'connector' | 'state'>;
  private readonly bulkheadRejections: Counter<'connector'>;
  private readonly outboxPending: Gauge<'outbox'>;
  private readonly outboxLagSeconds: Gauge<'outbox'>;
  private readonly redeliveries: Counter<'consumer'>;
  private readonly eventsHandled: Counter<'consumer' | 'result'>;
  private readonly deadLetters: Counter<'consumer'>;
  private readonly riskDecisions: Counter<'action' | 'level'>;
  private readonly velocityUnavailable: Counter<'reason'>;
  private readonly webhookDeliveries: Counter<'result'>;
  private readonly webhookSeconds: Histogram<'result'>;
  private readonly http: HttpMetrics | undefined;
  private readonly settlementBatchItems: Histogram<'connector'>;
  private readonly settlementRejects: Counter<'connector' | 'reason'>;
  private readonly payoutOutcomes: Counter<'outcome'>;

  constructor(options: MetricsOptions = {}) {
    this.registry = new Registry();
    const registers = [this.registry];
    if (options.processMetrics === true)
      collectDefaultMetrics({ register: this.registry, prefix: PREFIX });

    this.pspCallSeconds = new Histogram({
      name: `${PREFIX}psp_call_duration_seconds`,
      help: 'Duration of one call to a PSP (one attempt; retries are separate calls)',
      labelNames: ['connector', 'operation', 'outcome'],
      buckets: PSP_SECONDS_BUCKETS,
      registers,
    });
    this.pspCalls = new Counter({
      name: `${PREFIX}psp_calls_total`,
      help: 'Calls to a PSP by outcome (rejected: refused by breaker or bulkhead, nothing sent)',
      labelNames: ['connector', 'operation', 'outcome'],
      registers,
    });
    this.pspRetries = new Counter({
      name: `${PREFIX}psp_call_retries_total`,
      help: 'PSP calls repeated (same idempotency key) after a timeout, network error, 5xx or 429',
      labelNames: ['connector', 'operation'],
      registers,
    });
    this.breakerStateGauge = new Gauge({
      name: `${PREFIX}circuit_breaker_state`,
      help: 'Circuit breaker state per connector: 0 closed, 1 half-open, 2 open',
      labelNames: ['connector'],
      registers,
    });
    this.breakerTransitions = new Counter({
      name: `${PREFIX}circuit_breaker_transitions_total`,
      help: 'Circuit breaker state changes, by the state entered',
      labelNames: ['connector', 'state'],
      registers,
    });
    this.bulkheadRejections = new Counter({
      name: `${PREFIX}bulkhead_rejections_total`,
      help: 'PSP calls refused because the connector already had its limit of calls in flight and queued',
      labelNames: ['connector'],
      registers,
    });
    this.outboxPending = new Gauge({
      name: `${PREFIX}outbox_pending_rows`,
      help: 'Outbox rows not yet published (as last sampled)',
      labelNames: ['outbox'],
      registers,
    });
    this.outboxLagSeconds = new Gauge({
      name: `${PREFIX}outbox_lag_seconds`,
      help: 'Age of the oldest unpublished outbox row (as last sampled; 0 when empty)',
      labelNames: ['outbox'],
      registers,
    });
    this.redeliveries = new Counter({
      name: `${PREFIX}event_consumer_redeliveries_total`,
      help: 'Events delivered again to a consumer (after a failure, a crash or an ack timeout)',
      labelNames: ['consumer'],
      registers,
    });
    this.eventsHandled = new Counter({
      name: `${PREFIX}events_handled_total`,
      help: 'Events handled by a consumer, by result (skipped: already in the inbox)',
      labelNames: ['consumer', 'result'],
      registers,
    });
    this.riskDecisions = new Counter({
      name: `${PREFIX}risk_decisions_total`,
      help: 'Risk decisions before an authorization, by action and risk level',
      labelNames: ['action', 'level'],
      registers,
    });
    this.velocityUnavailable = new Counter({
      name: `${PREFIX}risk_velocity_unavailable_total`,
      help: 'Risk decisions made without velocity (Redis down, slow or failing): risk_level unknown',
      labelNames: ['reason'],
      registers,
    });
    this.deadLetters = new Counter({
      name: `${PREFIX}event_dead_letters_total`,
      help: 'Events moved to the dead-letter store after their last attempt',
      labelNames: ['consumer'],
      registers,
    });
    this.webhookDeliveries = new Counter({
      name: `${PREFIX}webhook_deliveries_total`,
      help: 'Webhook delivery attempts to merchant endpoints, by result',
      labelNames: ['result'],
      registers,
    });
    this.webhookSeconds = new Histogram({
      name: `${PREFIX}webhook_delivery_duration_seconds`,
      help: 'Duration of one webhook delivery attempt',
      labelNames: ['result'],
      buckets: WEBHOOK_SECONDS_BUCKETS,
      registers,
    });
    this.http = options.httpRequests === false ? undefined : createHttpMetrics(registers);
    this.settlementBatchItems = new Histogram({
      name: `${PREFIX}settlement_batch_items`,
      help: 'Items of each clearing batch the acquirer acknowledged',
      labelNames: ['connector'],
      buckets: SETTLEMENT_BATCH_BUCKETS,
      registers,
    });
    this.settlementRejects = new Counter({
      name: `${PREFIX}settlement_rejected_items_total`,
      help: "Clearing items the acquirer rejected, by its reason code ('other' for one not in the contract)",
      labelNames: ['connector', 'reason'],
      registers,
    });
    this.payoutOutcomes = new Counter({
      name: `${PREFIX}payout_outcomes_total`,
      help: 'Payouts by what the bank did: in_transit (taken), failed (refused at once), paid, returned',
      labelNames: ['outcome'],
      registers,
    });
  }

  /** Payouts the bank took, refused, paid or sent back, counted as the money-out steps see them. */
  recordPayoutOutcomes(counts: Readonly<Record<PayoutOutcome, number>>): void {
    for (const [outcome, count] of Object.entries(counts))
      if (count > 0) this.payoutOutcomes.inc({ outcome }, count);
  }

  /** One acknowledged clearing batch: its size and its rejects by reason. */
  recordSettlementBatch(
    connector: string,
    itemCount: number,
    rejectsByReason: Readonly<Record<string, number>>,
  ): void {
    this.settlementBatchItems.observe({ connector }, itemCount);
    for (const [reason, count] of Object.entries(rejectsByReason))
      this.settlementRejects.inc(
        { connector, reason: SETTLEMENT_REJECT_REASONS.has(reason) ? reason : 'other' },
        count,
      );
  }

  /** The Content-Type of render()'s text (Prometheus exposition format 0.0.4). */
  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** One PSP call (one attempt) and how it ended. */
  recordPspCall(
    connector: string,
    operation: PspOperation,
    outcome: PspCallOutcome,
    seconds: number,
  ): void {
    const labels = { connector, operation, outcome };
    this.pspCalls.inc(labels);
    this.pspCallSeconds.observe(labels, seconds);
  }

  /** A call refused before anything was sent (breaker open, bulkhead full): counted, no latency. */
  recordPspRejection(connector: string, operation: PspOperation): void {
    this.pspCalls.inc({ connector, operation, outcome: 'rejected' });
  }

  recordPspRetry(connector: string, operation: PspOperation): void {
    this.pspRetries.inc({ connector, operation });
  }

  /** Sets the state gauge; counts a transition only when `transition` is true (not at start-up). */
  setBreakerState(connector: string, state: BreakerState, transition = true): void {
    this.breakerStateGauge.set({ connector }, BREAKER_STATE_VALUE[state]);
    if (transition) this.breakerTransitions.inc({ connector, state });
  }

  recordBulkheadRejection(connector: string): void {
    this.bulkheadRejections.inc({ connector });
  }

  /** Set by whoever samples the outbox table (the relay, on each poll). */
  setOutbox(outbox: OutboxName, pending: number, lagSeconds: number): void {
    this.outboxPending.set({ outbox }, pending);
    this.outboxLagSeconds.set({ outbox }, lagSeconds);
  }

  recordRedelivery(consumer: string): void {
    this.redeliveries.inc({ consumer });
  }

  recordEventHandled(consumer: string, result: EventResult): void {
    this.eventsHandled.inc({ consumer, result });
  }

  recordRiskDecision(action: string, level: string): void {
    this.riskDecisions.inc({ action, level });
  }

  recordVelocityUnavailable(reason: string): void {
    this.velocityUnavailable.inc({ reason });
  }

  recordDeadLetter(consumer: string): void {
    this.deadLetters.inc({ consumer });
  }

  recordWebhookDelivery(result: WebhookResult, seconds?: number): void {
    this.webhookDeliveries.inc({ result });
    // 'disabled' and 'dead' may be decided without a request; then there is no latency to observe.
    if (seconds !== undefined) this.webhookSeconds.observe({ result }, seconds);
  }

  /**
   * One HTTP request. `route` must be the route pattern (`/v1/payment_intents/:id`), never the raw
   * URL, or each id becomes a time series. A no-op when HTTP metrics are off.
   */
  recordHttpRequest(method: string, route: string, statusCode: number, seconds: number): void {
    if (this.http === undefined) return;
    const labels = { method, route, status_class: statusClass(statusCode) };
    this.http.requests.inc(labels);
    this.http.duration.observe(labels, seconds);
  }
}

function createHttpMetrics(registers: Registry[]): HttpMetrics {
  const labelNames = ['method', 'route', 'status_class'] as const;
  return {
    requests: new Counter({
      name: `${PREFIX}http_requests_total`,
      help: 'HTTP requests served',
      labelNames,
      registers,
    }),
    duration: new Histogram({
      name: `${PREFIX}http_request_duration_seconds`,
      help: 'HTTP request duration, from arrival to response sent',
      labelNames,
      buckets: HTTP_SECONDS_BUCKETS,
      registers,
    }),
  };
}

/** 2xx, 4xx … : five values instead of one series per status code. */
export function statusClass(statusCode: number): string {
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) return 'other';
  return `${Math.floor(statusCode / 100)}xx`;
}
