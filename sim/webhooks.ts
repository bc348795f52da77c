// PSP webhooks (CONTRACT.md "Webhooks"): per PSP, an admin-set URL and signing secret; every
// state change at that PSP (an operation in the ground-truth log) becomes an event in the PSP's
// own format, signed its way, and is POSTed after the API answer has gone out. Delivery faults
// are drawn from a PRNG seeded like the other faults: duplicates (same event, same id, twice) and
// late events (held back until the payment's next event has gone, so they arrive out of order).
// Non-2xx answers and connection failures are retried with a doubling backoff, then given up.
// Every delivery is recorded (attempts, last status) for the admin report.
import {
  request as httpRequest,
  Agent as HttpAgent,
  type ClientRequest,
  type OutgoingHttpHeaders,
} from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { DELAY_MS_MAX, mulberry32 } from './faults.ts';
import { isPlainObject } from './json.ts';
import type { Operation, Payment, PaymentStatus, Psp, PspBook, Refund } from './store.ts';

export type WebhookSettings = {
  readonly url: string;
  readonly secret: string;
  readonly seed: number;
  /** Share of events sent twice (same event id, same payload). */
  readonly duplicateRate: number;
  /** Share of events held back until the payment's next event has been sent. */
  readonly outOfOrderRate: number;
  /** How long a held event waits for a later event of its payment before it goes anyway. */
  readonly outOfOrderDelayMs: number;
  /** Attempts per delivery, the first included. */
  readonly maxAttempts: number;
  /** Wait before the second attempt; doubled before each further one. */
  readonly retryBackoffMs: number;
  /** Per attempt: no answer within this is a failed attempt. */
  readonly timeoutMs: number;
};

/** The payment as it was right after one operation (webhook payloads are snapshots). */
export type PaymentState = {
  readonly status: PaymentStatus;
  readonly authorized: number;
  readonly captured: number;
  readonly refunded: number;
  readonly voided: boolean;
};

export type BuiltEvent = { readonly type: string; readonly body: string };
export type SignedRequest = {
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
};

/** How one PSP words and signs its webhooks; each PSP module supplies one. */
export type WebhookFormat<PaymentDetails, RefundDetails> = {
  newEventId(): string;
  /** The event for one operation, or undefined when this PSP sends none for it. */
  event(
    payment: Payment<PaymentDetails>,
    state: PaymentState,
    operation: Operation,
    refund: Refund<RefundDetails> | undefined,
    eventId: string,
  ): BuiltEvent | undefined;
  /** The body and headers of one attempt (Stripe signs each attempt with its own timestamp). */
  sign(body: string, secret: string, eventId: string, nowMs: number): SignedRequest;
};

export type DeliveryKind = 'original' | 'duplicate' | 'resend';
export type WebhookActivity = {
  readonly emitting: number;
  readonly queued: number;
  readonly held: number;
  readonly inFlight: number;
  readonly timers: number;
  readonly idle: boolean;
};
export type DeliveryState = 'pending' | 'delivered' | 'failed' | 'cancelled';

type StoredEvent = {
  readonly psp: Psp;
  readonly eventId: string;
  readonly type: string;
  readonly paymentId: string;
  readonly reference: string | null;
  readonly refundId: string | undefined;
  readonly operationSeq: number;
  readonly body: string;
};

type Delivery = {
  readonly seq: number;
  readonly event: StoredEvent;
  readonly kind: DeliveryKind;
  readonly late: boolean;
  readonly createdMs: number;
  state: DeliveryState;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  finishedMs: number | null;
};

/** A payment's delivery order: first attempts go one after another; held (late) groups wait. */
type Lane = {
  readonly key: string;
  tail: Promise<void>;
  queued: number;
  readonly held: Delivery[][];
  timer: NodeJS.Timeout | undefined;
};

/** What the engine needs of one PSP, with the PSP's detail types erased. */
type Source = {
  readonly format: Pick<WebhookFormat<unknown, unknown>, 'newEventId' | 'sign'>;
  build(paymentId: string, operation: Operation, eventId: string): BuiltEvent | undefined;
  paymentsFor(target: ResendTarget): readonly {
    readonly id: string;
    readonly reference: string | null;
    readonly operations: readonly Operation[];
  }[];
};

export type ResendTarget = { readonly paymentId: string } | { readonly reference: string };

export type DeliveryFilter = {
  readonly psp?: Psp | undefined;
  readonly reference?: string | undefined;
  readonly paymentId?: string | undefined;
};

export const WEBHOOK_DEFAULTS = {
  outOfOrderDelayMs: 1000,
  maxAttempts: 4,
  retryBackoffMs: 200,
  timeoutMs: 5000,
} as const;
const ATTEMPTS_MAX = 10;
const SECRET_LENGTH_MAX = 256;
const URL_LENGTH_MAX = 2048;
const ERROR_LENGTH_MAX = 200;
/** Bound on recorded deliveries (originals, duplicates and resends); past it new events are dropped and counted. */
export const DELIVERIES_MAX = 250_000;
const SETTING_FIELDS = new Set([
  'url',
  'secret',
  'seed',
  'duplicateRate',
  'outOfOrderRate',
  'outOfOrderDelayMs',
  'maxAttempts',
  'retryBackoffMs',
  'timeoutMs',
]);

export type ParsedWebhookSettings =
  | { readonly ok: true; readonly settings: WebhookSettings }
  | { readonly ok: false; readonly message: string };

class SettingError extends Error {}

/** Validates a PUT /_sim/webhooks/:psp body. */
export function parseWebhookSettings(value: unknown): ParsedWebhookSettings {
  if (!isPlainObject(value)) return { ok: false, message: 'body must be a JSON object' };
  const unknown = Object.keys(value).find((key) => !SETTING_FIELDS.has(key));
  if (unknown !== undefined) return { ok: false, message: `unknown field "${unknown}"` };
  try {
    const settings: WebhookSettings = {
      url: readUrl(value.url),
      secret: readSecret(value.secret),
      seed:
        value.seed === undefined ? Math.floor(Math.random() * 4294967296) : readSeed(value.seed),
      duplicateRate: readRate(value, 'duplicateRate'),
      outOfOrderRate: readRate(value, 'outOfOrderRate'),
      outOfOrderDelayMs: readNumber(
        value,
        'outOfOrderDelayMs',
        WEBHOOK_DEFAULTS.outOfOrderDelayMs,
        0,
        DELAY_MS_MAX,
      ),
      maxAttempts: readInteger(value, 'maxAttempts', WEBHOOK_DEFAULTS.maxAttempts, 1, ATTEMPTS_MAX),
      retryBackoffMs: readNumber(
        value,
        'retryBackoffMs',
        WEBHOOK_DEFAULTS.retryBackoffMs,
        0,
        DELAY_MS_MAX,
      ),
      timeoutMs: readNumber(value, 'timeoutMs', WEBHOOK_DEFAULTS.timeoutMs, 1, DELAY_MS_MAX),
    };
    return { ok: true, settings };
  } catch (error) {
    if (error instanceof SettingError) return { ok: false, message: error.message };
    throw error;
  }
}

function readUrl(value: unknown): string {
  if (typeof value !== 'string' || value.length > URL_LENGTH_MAX)
    throw new SettingError('url must be an http:// or https:// URL');
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new SettingError('url must be an http:// or https:// URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new SettingError('url must be an http:// or https:// URL');
  return value;
}

function readSecret(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > SECRET_LENGTH_MAX)
    throw new SettingError(`secret must be a string of 1 to ${SECRET_LENGTH_MAX} characters`);
  return value;
}

function readSeed(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    throw new SettingError('seed must be an integer');
  return value >>> 0;
}

function readRate(object: Record<string, unknown>, field: string): number {
  const value = object[field];
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1))
    throw new SettingError(`${field} must be a number from 0 to 1`);
  return value;
}

function readNumber(
  object: Record<string, unknown>,
  field: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const value = object[field];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= min && value <= max))
    throw new SettingError(`${field} must be a number from ${min} to ${max}`);
  return value;
}

function readInteger(
  object: Record<string, unknown>,
  field: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const value = readNumber(object, field, fallback, min, max);
  if (!Number.isInteger(value))
    throw new SettingError(`${field} must be an integer from ${min} to ${max}`);
  return value;
}

/** Replays a payment's operations up to and including the one with `seq`. */
export function stateAfter(operations: readonly Operation[], seq: number): PaymentState {
  let status: PaymentStatus = 'authorized';
  let authorized = 0;
  let captured = 0;
  let refunded = 0;
  let voided = false;
  for (const operation of operations) {
    if (operation.seq > seq) break;
    if (operation.type === 'authorize') {
      if (operation.status === 'declined') status = 'declined';
      else authorized = operation.amount;
    } else if (operation.type === 'capture') {
      captured = operation.amount;
      status = 'captured';
    } else if (operation.type === 'void') {
      voided = true;
      status = 'voided';
    } else {
      refunded += operation.amount;
      status = refunded === captured ? 'refunded' : 'partially_refunded';
    }
  }
  return { status, authorized, captured, refunded, voided };
}

type Attempted = { readonly status: number } | { readonly error: string };

export class Webhooks {
  readonly #sources = new Map<Psp, Source>();
  readonly #settings = new Map<Psp, WebhookSettings>();
  readonly #random = new Map<Psp, () => number>();
  readonly #deliveries: Delivery[] = [];
  readonly #eventsByOperation = new Map<Operation, StoredEvent>();
  readonly #lanes = new Map<string, Lane>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #inFlight = new Set<ClientRequest>();
  readonly #httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
  readonly #httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 64 });
  /** Bumped by reset and close: work started before it is dropped. */
  #generation = 0;
  #dropped = 0;
  /** Operations whose events are still to be made (the step after the API answer). */
  #emitting = 0;

  /** Called by each PSP module with its book and format; events start when settings are PUT. */
  register<PaymentDetails, RefundDetails>(
    psp: Psp,
    book: PspBook<PaymentDetails, RefundDetails>,
    format: WebhookFormat<PaymentDetails, RefundDetails>,
  ): void {
    this.#sources.set(psp, {
      format,
      build: (paymentId, operation, eventId) => {
        const payment = book.payments.get(paymentId);
        if (payment === undefined) return undefined;
        const refund =
          operation.refundId === undefined ? undefined : book.refunds.get(operation.refundId);
        return format.event(
          payment,
          stateAfter(payment.operations, operation.seq),
          operation,
          refund,
          eventId,
        );
      },
      paymentsFor: (target) => {
        if ('paymentId' in target) {
          const payment = book.payments.get(target.paymentId);
          return payment === undefined ? [] : [payment];
        }
        return book.paymentsByReference.get(target.reference) ?? [];
      },
    });
    book.onOperation = (operation) => this.#operated(psp, operation);
  }

  settings(psp: Psp): WebhookSettings | undefined {
    return this.#settings.get(psp);
  }

  view(): Record<string, WebhookSettings | null> {
    const view: Record<string, WebhookSettings | null> = {};
    for (const psp of this.#sources.keys()) view[psp] = this.#settings.get(psp) ?? null;
    return view;
  }

  /** Replaces one PSP's settings and restarts its PRNG; pending deliveries go to the new URL. */
  configure(psp: Psp, settings: WebhookSettings): void {
    this.#settings.set(psp, settings);
    this.#random.set(psp, mulberry32(settings.seed));
  }

  /** Stops one PSP's webhooks: nothing new is sent and pending deliveries end as cancelled. */
  clear(psp: Psp): void {
    this.#settings.delete(psp);
    this.#random.delete(psp);
  }

  clearAll(): void {
    for (const psp of [...this.#settings.keys()]) this.clear(psp);
  }

  /** Forgets every event and delivery (POST /_sim/reset); in-flight attempts are abandoned. */
  reset(): void {
    this.clearAll();
    this.#stopWork();
    this.#deliveries.length = 0;
    this.#eventsByOperation.clear();
    this.#dropped = 0;
  }

  close(): void {
    this.clearAll();
    this.#stopWork();
    this.#httpAgent.destroy();
    this.#httpsAgent.destroy();
  }

  /**
   * Sends every event of the matching payments again, in operation order, with their original
   * event ids (events of operations made while no webhook was set are made now). Undefined when no
   * payment matched; 'full' when the delivery log is at its bound.
   */
  resend(psp: Psp, target: ResendTarget): StoredEvent[] | undefined | 'full' {
    const source = this.#sources.get(psp);
    if (source === undefined) return undefined;
    const payments = source.paymentsFor(target);
    if (payments.length === 0) return undefined;
    const events: StoredEvent[] = [];
    for (const payment of payments) {
      for (const operation of payment.operations) {
        const event =
          this.#eventsByOperation.get(operation) ??
          this.#makeEvent(psp, source, payment.id, operation);
        if (event !== undefined) events.push(event);
      }
    }
    if (this.#deliveries.length + events.length > DELIVERIES_MAX) return 'full';
    for (const event of events)
      this.#enqueue(this.#lane(event), this.#newDelivery(event, 'resend', false));
    return events;
  }

  deliveries(filter: DeliveryFilter): Record<string, unknown>[] {
    const selected: Record<string, unknown>[] = [];
    for (const delivery of this.#deliveries) {
      const event = delivery.event;
      if (filter.psp !== undefined && event.psp !== filter.psp) continue;
      if (filter.reference !== undefined && event.reference !== filter.reference) continue;
      if (filter.paymentId !== undefined && event.paymentId !== filter.paymentId) continue;
      selected.push(presentDelivery(delivery));
    }
    return selected;
  }

  get dropped(): number {
    return this.#dropped;
  }

  /**
   * The work still to come: events to be made, deliveries queued or held back (late), attempts
   * in flight and timers (retries, late releases). All zero means nothing more will be sent until
   * the next operation, so a test can assert that something was not sent without sleeping.
   */
  activity(): WebhookActivity {
    let queued = 0;
    let held = 0;
    for (const lane of this.#lanes.values()) {
      queued += lane.queued;
      held += lane.held.reduce((count, group) => count + group.length, 0);
    }
    const activity = {
      emitting: this.#emitting,
      queued,
      held,
      inFlight: this.#inFlight.size,
      timers: this.#timers.size,
    };
    return { ...activity, idle: Object.values(activity).every((count) => count === 0) };
  }

  /** The store's hook, inside the PSP handler: only schedules; the API answer goes out first. */
  #operated(psp: Psp, operation: Operation): void {
    if (!this.#settings.has(psp)) return;
    const generation = this.#generation;
    this.#emitting += 1;
    setImmediate(() => {
      this.#emitting -= 1;
      if (generation === this.#generation) this.#emit(psp, operation);
    });
  }

  #emit(psp: Psp, operation: Operation): void {
    const source = this.#sources.get(psp);
    const random = this.#random.get(psp);
    if (source === undefined || random === undefined || !this.#settings.has(psp)) return;
    const settings = this.#settings.get(psp) as WebhookSettings;
    if (this.#deliveries.length + 2 > DELIVERIES_MAX) {
      this.#dropped += 1;
      return;
    }
    const event = this.#makeEvent(psp, source, operation.paymentId, operation);
    if (event === undefined) return;
    // Always two draws per event, so a seed and a sequence of operations give the same faults.
    const duplicate = random() < settings.duplicateRate;
    const late = random() < settings.outOfOrderRate;
    const group = [this.#newDelivery(event, 'original', late)];
    if (duplicate) group.push(this.#newDelivery(event, 'duplicate', late));
    const lane = this.#lane(event);
    if (late) {
      lane.held.push(group);
      if (lane.timer !== undefined) this.#clearTimer(lane.timer);
      lane.timer = this.#setTimer(() => {
        lane.timer = undefined;
        this.#release(lane);
      }, settings.outOfOrderDelayMs);
      return;
    }
    for (const delivery of group) this.#enqueue(lane, delivery);
    this.#release(lane);
  }

  #makeEvent(
    psp: Psp,
    source: Source,
    paymentId: string,
    operation: Operation,
  ): StoredEvent | undefined {
    const eventId = source.format.newEventId();
    const built = source.build(paymentId, operation, eventId);
    if (built === undefined) return undefined;
    const event: StoredEvent = {
      psp,
      eventId,
      type: built.type,
      paymentId,
      reference: operation.reference,
      refundId: operation.refundId,
      operationSeq: operation.seq,
      body: built.body,
    };
    this.#eventsByOperation.set(operation, event);
    return event;
  }

  #newDelivery(event: StoredEvent, kind: DeliveryKind, late: boolean): Delivery {
    const delivery: Delivery = {
      seq: this.#deliveries.length + 1,
      event,
      kind,
      late,
      createdMs: Date.now(),
      state: 'pending',
      attempts: 0,
      lastStatus: null,
      lastError: null,
      finishedMs: null,
    };
    this.#deliveries.push(delivery);
    return delivery;
  }

  #lane(event: StoredEvent): Lane {
    const key = `${event.psp}:${event.paymentId}`;
    let lane = this.#lanes.get(key);
    if (lane === undefined) {
      lane = { key, tail: Promise.resolve(), queued: 0, held: [], timer: undefined };
      this.#lanes.set(key, lane);
    }
    return lane;
  }

  /** Held groups go after whatever is queued, the latest first: so they arrive out of order. */
  #release(lane: Lane): void {
    if (lane.timer !== undefined) {
      this.#clearTimer(lane.timer);
      lane.timer = undefined;
    }
    const groups = lane.held.splice(0).reverse();
    for (const group of groups) for (const delivery of group) this.#enqueue(lane, delivery);
    this.#dropLaneIfIdle(lane);
  }

  /** The delivery's first attempt starts once the lane's previous first attempt has finished. */
  #enqueue(lane: Lane, delivery: Delivery): void {
    const generation = this.#generation;
    lane.queued += 1;
    lane.tail = lane.tail.then(async () => {
      if (generation === this.#generation) await this.#attempt(delivery, generation);
      lane.queued -= 1;
      this.#dropLaneIfIdle(lane);
    });
  }

  #dropLaneIfIdle(lane: Lane): void {
    if (
      lane.queued === 0 &&
      lane.held.length === 0 &&
      lane.timer === undefined &&
      this.#lanes.get(lane.key) === lane
    )
      this.#lanes.delete(lane.key);
  }

  /** One attempt; a failure schedules the next one (outside the lane) or gives up. Never rejects. */
  async #attempt(delivery: Delivery, generation: number): Promise<void> {
    const settings = this.#settings.get(delivery.event.psp);
    const source = this.#sources.get(delivery.event.psp);
    if (settings === undefined || source === undefined) {
      delivery.state = 'cancelled';
      delivery.finishedMs = Date.now();
      return;
    }
    delivery.attempts += 1;
    let result: Attempted;
    try {
      const signed = source.format.sign(
        delivery.event.body,
        settings.secret,
        delivery.event.eventId,
        Date.now(),
      );
      result = await this.#post(settings.url, signed, settings.timeoutMs);
    } catch (error) {
      result = { error: error instanceof Error ? error.message : String(error) };
    }
    if (generation !== this.#generation) return;
    if ('status' in result) {
      delivery.lastStatus = result.status;
      delivery.lastError = null;
      if (result.status >= 200 && result.status < 300) {
        delivery.state = 'delivered';
        delivery.finishedMs = Date.now();
        return;
      }
    } else {
      delivery.lastStatus = null;
      delivery.lastError = result.error.slice(0, ERROR_LENGTH_MAX);
    }
    if (delivery.attempts >= settings.maxAttempts) {
      delivery.state = 'failed';
      delivery.finishedMs = Date.now();
      return;
    }
    const backoffMs = Math.min(
      DELAY_MS_MAX,
      settings.retryBackoffMs * 2 ** (delivery.attempts - 1),
    );
    this.#setTimer(() => {
      if (generation === this.#generation) void this.#attempt(delivery, generation);
    }, backoffMs);
  }

  #post(url: string, signed: SignedRequest, timeoutMs: number): Promise<Attempted> {
    return new Promise((resolve) => {
      const target = new URL(url);
      const secure = target.protocol === 'https:';
      const headers: OutgoingHttpHeaders = {
        ...signed.headers,
        'content-length': Buffer.byteLength(signed.body),
      };
      const options = {
        method: 'POST',
        headers,
        agent: secure ? this.#httpsAgent : this.#httpAgent,
      };
      let settled = false;
      const finish = (result: Attempted): void => {
        if (settled) return;
        settled = true;
        this.#inFlight.delete(req);
        resolve(result);
      };
      const req = secure ? httpsRequest(target, options) : httpRequest(target, options);
      this.#inFlight.add(req);
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (error) => finish({ error: error.message }));
      req.on('close', () => finish({ error: 'connection closed' }));
      req.on('response', (res) => {
        // The status is the answer; the body is read and dropped so the connection can be reused.
        res.on('error', () => undefined);
        res.resume();
        finish({ status: res.statusCode ?? 0 });
      });
      req.end(signed.body);
    });
  }

  #setTimer(callback: () => void, ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      callback();
    }, ms);
    this.#timers.add(timer);
    return timer;
  }

  #clearTimer(timer: NodeJS.Timeout): void {
    clearTimeout(timer);
    this.#timers.delete(timer);
  }

  #stopWork(): void {
    this.#generation += 1;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const req of this.#inFlight) req.destroy();
    this.#inFlight.clear();
    this.#lanes.clear();
    for (const delivery of this.#deliveries) {
      if (delivery.state !== 'pending') continue;
      delivery.state = 'cancelled';
      delivery.finishedMs = Date.now();
    }
  }
}

function presentDelivery(delivery: Delivery): Record<string, unknown> {
  const event = delivery.event;
  return {
    seq: delivery.seq,
    psp: event.psp,
    eventId: event.eventId,
    type: event.type,
    paymentId: event.paymentId,
    reference: event.reference,
    ...(event.refundId === undefined ? {} : { refundId: event.refundId }),
    operationSeq: event.operationSeq,
    kind: delivery.kind,
    late: delivery.late,
    state: delivery.state,
    attempts: delivery.attempts,
    lastStatus: delivery.lastStatus,
    lastError: delivery.lastError,
    createdAt: new Date(delivery.createdMs).toISOString(),
    finishedAt: delivery.finishedMs === null ? null : new Date(delivery.finishedMs).toISOString(),
  };
}
