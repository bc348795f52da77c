// Resilience around one connector (architecture §2, §6), built from cockatiel policies, one set per
// wrapped connector so one PSP's trouble never slows or blocks another's calls:
//
//   bulkhead ─> retry (backoff + jitter) ─> circuit breaker ─> timeout guard ─> inner connector
//
// - Timeout guard: the inner connector already aborts at context.timeoutMs and answers 'unknown';
//   the guard (timeoutMs + timeoutMarginMs) only catches a connector that fails to. The Connector
//   interface takes no AbortSignal, so the guard is aggressive: it stops waiting, it cannot stop
//   the request. Either way the outcome is 'unknown' (pspCode 'timeout'), never a failure.
// - Retries only where repeating is safe and useful: no response, PSP 5xx / server errors, 429.
//   Every attempt passes the very same CallContext, so the PSP idempotency key is the same and
//   the PSP performs the operation at most once. Success, declines, mismatches and other 4xx are
//   final for this layer.
// - Circuit breaker: counts only PSP-health failures (no response, 5xx), never declines.
//   While it is open nothing is sent and ConnectorUnavailableError('circuit_open') is thrown.
// - Bulkhead: bounds the operations in flight per connector (an operation keeps its slot through
//   its retries); beyond limit + queue it throws ConnectorUnavailableError('bulkhead_full') at once.
//   A request abandoned by the guard frees its slot; it still ends by its own timeoutMs.
//
// ConnectorUnavailableError always means "nothing was sent", so the caller may fail over to
// another connector. Once an attempt has been sent, the last outcome is returned instead (the
// breaker opening between retries ends the retries, it does not turn a sent call into an error).
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  IsolatedCircuitError,
  bulkhead,
  circuitBreaker,
  handleResultType,
  retry,
} from 'cockatiel';
import type { BulkheadPolicy, CircuitBreakerPolicy, GeneratorFn, RetryPolicy } from 'cockatiel';
import { DomainError } from '../errors.ts';
import type { BreakerState, Metrics, PspOperation } from '../observability/metrics.ts';
import type { ConnectorHealthRecorder, HealthSlot } from '../observability/connector-health.ts';
import type {
  AuthorizeRequest,
  CallContext,
  CapabilityMap,
  CaptureRequest,
  Connector,
  PaymentOutcome,
  RefundOutcome,
  RefundRequest,
  SyncRequest,
  VoidRequest,
} from './types.ts';

export type ResilienceOptions = {
  /** PSP calls per operation, the first included (1 = no retry). Default 3, at most 10. */
  readonly maxAttempts?: number;
  /** Scale of the first backoff delay. Default 50. */
  readonly initialDelayMs?: number;
  /** No backoff delay is longer. Default 1000. */
  readonly maxDelayMs?: number;
  /** Consecutive PSP-health failures that open the breaker. Default 5. */
  readonly breakerThreshold?: number;
  /** How long the breaker stays open before one probe call is let through. Default 5000. */
  readonly halfOpenAfterMs?: number;
  /** Calls in flight per connector. Default 64. */
  readonly bulkheadLimit?: number;
  /** Calls waiting for a slot; beyond it calls are refused at once. Default 64. */
  readonly bulkheadQueue?: number;
  /** The guard fires this long after context.timeoutMs. Default 1000. */
  readonly timeoutMarginMs?: number;
  /**
   * Wall-clock budget of one operation, bulkhead wait and retries included. A retry starts only
   * if its worst case (maxDelayMs + timeoutMs + timeoutMarginMs) still fits; the first attempt
   * always runs. So an operation lasts at most max(budget, wait + timeoutMs + margin). Default 30000.
   */
  readonly totalBudgetMs?: number;
  /** Random source in [0, 1) for the jitter; default Math.random (tests inject a seeded one). */
  readonly random?: () => number;
  /** Which outcomes to retry and count against the breaker; default assessOutcome. */
  readonly assess?: (outcome: PaymentOutcome | RefundOutcome) => OutcomeAssessment;
  /** Told of every scheduled retry and its delay (logging, tests). */
  readonly onRetry?: (event: RetryEvent) => void;
};

export type OutcomeAssessment = {
  /** Repeating the call with the same idempotency key is safe and may give a final answer. */
  readonly retry: boolean;
  /** The PSP (or the way to it) is unwell: counts as a breaker failure. */
  readonly pspUnhealthy: boolean;
};

export type RetryEvent = {
  readonly connector: string;
  readonly operation: PspOperation;
  /** 1 for the first retry (the second call). */
  readonly attempt: number;
  readonly delayMs: number;
  readonly idempotencyKey: string;
  readonly pspCode: string | undefined;
};

export const RESILIENCE_DEFAULTS = {
  maxAttempts: 3,
  initialDelayMs: 50,
  maxDelayMs: 1000,
  breakerThreshold: 5,
  halfOpenAfterMs: 5000,
  bulkheadLimit: 64,
  bulkheadQueue: 64,
  timeoutMarginMs: 1000,
  totalBudgetMs: 30_000,
} as const;

const MAX_ATTEMPTS_MAX = 10;

export type UnavailableReason = 'circuit_open' | 'bulkhead_full';

/** Thrown before anything is sent to the PSP: safe to fail over or to answer 503 + Retry-After. */
export class ConnectorUnavailableError extends DomainError<'connector_unavailable'> {
  readonly reason: UnavailableReason;
  readonly connector: string;
  readonly retryAfterSeconds: number;

  constructor(connector: string, reason: UnavailableReason, retryAfterSeconds: number) {
    const what =
      reason === 'circuit_open' ? 'its circuit breaker is open' : 'too many calls are in flight';
    const message = `${connector}: not called, ${what}; retry after ${retryAfterSeconds} s`;
    super('connector_unavailable', 'unavailable', message);
    this.name = 'ConnectorUnavailableError';
    this.reason = reason;
    this.connector = connector;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

// --- which outcomes are retried ----------------------------------------------------------------

/** No response at all (http.ts): the PSP may have acted, and the same key makes a repeat safe. */
const guardFired = Symbol('guard fired');

/**
 * The call's answer, or `guardFired` once `ms` have passed (the call goes on unawaited; a late
 * rejection is handled by the race). A plain timer: cockatiel's timeout policy builds an
 * AbortController per call and aborts it with a new DOMException when the call ends, which cost
 * more than the rest of the policies together on the busy path.
 */
async function guarded<T>(ms: number, call: () => Promise<T>): Promise<T | typeof guardFired> {
  let timer: NodeJS.Timeout | undefined;
  const fired = new Promise<typeof guardFired>((resolve) => {
    timer = setTimeout(resolve, ms, guardFired);
  });
  try {
    return await Promise.race([call(), fired]);
  } finally {
    clearTimeout(timer);
  }
}

const NO_RESPONSE_CODES: ReadonlySet<string> = new Set(['timeout', 'network_error']);
/**
 * PSP server errors as the connectors report them. The outcome does not carry the HTTP status,
 * only pspCode: Stripe's 5xx body has type 'api_error' (no code), Razorpay's 'SERVER_ERROR' or
 * 'GATEWAY_ERROR', Paytm's "system error" resultCodes; a 5xx without a readable body is 'http_5xx'.
 */
const SERVER_ERROR_CODES: ReadonlySet<string> = new Set([
  'api_error',
  'SERVER_ERROR',
  'GATEWAY_ERROR',
  '810',
  '501',
]);
/** 429: nothing was done (connectors say 'failed'), so a later repeat is safe. */
const RATE_LIMIT_CODES: ReadonlySet<string> = new Set(['http_429', 'rate_limit']);
const HTTP_5XX = /^http_5\d\d$/;

/**
 * The default classification. Only 'unknown' outcomes can be PSP-health failures: an explicit
 * success, decline or PSP 'pending' is an answer, and so is a response_mismatch or not_found
 * (repeating would get the same answer). A 429 is retried but does not open the breaker: it is one
 * merchant's key over its quota, and the breaker is shared by every merchant on the connector.
 */
export function assessOutcome(outcome: PaymentOutcome | RefundOutcome): OutcomeAssessment {
  const code = outcome.pspCode ?? '';
  if (
    outcome.status === 'unknown' &&
    (NO_RESPONSE_CODES.has(code) || SERVER_ERROR_CODES.has(code) || HTTP_5XX.test(code))
  ) {
    return { retry: true, pspUnhealthy: true };
  }
  if ((outcome.status === 'unknown' || outcome.status === 'failed') && RATE_LIMIT_CODES.has(code)) {
    return { retry: true, pspUnhealthy: false };
  }
  return { retry: false, pspUnhealthy: false };
}

// --- backoff -----------------------------------------------------------------------------------

/**
 * Decorrelated jitter ("V2", from Polly, as cockatiel's decorrelatedJitterGenerator) with an
 * injectable random source. Delays grow about exponentially from initialDelay, are spread so that
 * clients retrying together do not hit the PSP in step, and always lie in [0, maxDelay].
 */
export function decorrelatedJitter(random: () => number): GeneratorFn<readonly [number, number]> {
  const smoothing = 4; // Polly's pFactor: smooths the first delay
  const scale = 1 / 1.4; // puts the median delays near initialDelay × 1, 2, 4 …
  return (state, options) => {
    const [attempt, previous] = state ?? [0, 0];
    const t = attempt + random();
    const next = Math.pow(options.exponent, t) * Math.tanh(Math.sqrt(smoothing * t));
    const raw = Number.isFinite(next) ? Math.max(0, next - previous) : Number.POSITIVE_INFINITY;
    return [Math.min(raw * scale * options.initialDelay, options.maxDelay), [attempt + 1, next]];
  };
}

// --- the wrapper -------------------------------------------------------------------------------

type Outcome = PaymentOutcome | RefundOutcome;
type Settings = Required<Omit<ResilienceOptions, 'onRetry'>> & Pick<ResilienceOptions, 'onRetry'>;

/** What one attempt hands to the retry and breaker policies (they decide on its flags). */
class AttemptResult<T extends Outcome> {
  readonly outcome: T;
  readonly retry: boolean;
  readonly pspUnhealthy: boolean;
  readonly operation: PspOperation;
  readonly idempotencyKey: string;

  constructor(
    outcome: T,
    assessment: OutcomeAssessment,
    operation: PspOperation,
    idempotencyKey: string,
  ) {
    this.outcome = outcome;
    this.retry = assessment.retry;
    this.pspUnhealthy = assessment.pspUnhealthy;
    this.operation = operation;
    this.idempotencyKey = idempotencyKey;
  }
}

/** Per operation: what has been sent so far. */
type CallState<T extends Outcome> = {
  attempts: number;
  last: T | undefined;
  readonly startedAtMs: number;
};

export class ResilientConnector implements Connector {
  readonly name: string;
  readonly capabilities: CapabilityMap;
  private readonly inner: Connector;
  private readonly settings: Settings;
  private readonly metrics: Metrics | undefined;
  /** This connector's counters for the connector health series (one slot, taken once). */
  private readonly health: HealthSlot | undefined;
  private readonly bulkhead: BulkheadPolicy;
  private readonly retry: RetryPolicy;
  private readonly breaker: CircuitBreakerPolicy;
  private openedAtMs = 0;

  constructor(
    inner: Connector,
    options: ResilienceOptions = {},
    metrics?: Metrics,
    health?: ConnectorHealthRecorder,
  ) {
    this.inner = inner;
    this.name = inner.name;
    this.capabilities = inner.capabilities;
    this.settings = settingsOf(options);
    this.metrics = metrics;
    this.health = health?.slot(inner.name);
    const settings = this.settings;
    this.bulkhead = bulkhead(settings.bulkheadLimit, settings.bulkheadQueue);
    // cockatiel counts retries, we count calls: maxAttempts 3 = 1 call + 2 retries.
    this.retry = retry(
      handleResultType(AttemptResult, (result) => result.retry),
      {
        maxAttempts: settings.maxAttempts - 1,
        backoff: new ExponentialBackoff({
          generator: decorrelatedJitter(settings.random),
          initialDelay: settings.initialDelayMs,
          maxDelay: settings.maxDelayMs,
        }),
      },
    );
    this.retry.onRetry((event) => this.retried(event));
    // Consecutive, not sampling: PSP traffic per process is often low and bursty, where a
    // sampling window has too few calls to judge; any healthy answer (a decline too) resets it.
    this.breaker = circuitBreaker(
      handleResultType(AttemptResult, (result) => result.pspUnhealthy),
      {
        breaker: new ConsecutiveBreaker(settings.breakerThreshold),
        halfOpenAfter: settings.halfOpenAfterMs,
      },
    );
    this.breaker.onStateChange((state) => {
      if (state === CircuitState.Open) this.openedAtMs = Date.now();
      const entered = breakerStateOf(state);
      this.metrics?.setBreakerState(this.name, entered);
      this.health?.breaker(entered);
    });
    this.metrics?.setBreakerState(this.name, 'closed', false);
  }

  breakerState(): BreakerState {
    return breakerStateOf(this.breaker.state);
  }

  authorize(request: AuthorizeRequest, context: CallContext): Promise<PaymentOutcome> {
    return this.run(
      'authorize',
      context,
      () => this.inner.authorize(request, context),
      unknownPayment,
    );
  }

  capture(request: CaptureRequest, context: CallContext): Promise<PaymentOutcome> {
    return this.run('capture', context, () => this.inner.capture(request, context), unknownPayment);
  }

  void(request: VoidRequest, context: CallContext): Promise<PaymentOutcome> {
    return this.run('void', context, () => this.inner.void(request, context), unknownPayment);
  }

  refund(request: RefundRequest, context: CallContext): Promise<RefundOutcome> {
    return this.run('refund', context, () => this.inner.refund(request, context), unknownRefund);
  }

  sync(request: SyncRequest, context: CallContext): Promise<PaymentOutcome> {
    return this.run('sync', context, () => this.inner.sync(request, context), unknownPayment);
  }

  /** `call` always closes over the caller's one CallContext: every attempt sends the same key. */
  private async run<T extends Outcome>(
    operation: PspOperation,
    context: CallContext,
    call: () => Promise<T>,
    unknown: (pspCode: string, message: string) => T,
  ): Promise<T> {
    const state: CallState<T> = { attempts: 0, last: undefined, startedAtMs: performance.now() };
    try {
      // Refused before the bulkhead too, so an open breaker never takes a slot or waits in the queue.
      this.assertCircuitAdmits();
      return await this.bulkhead.execute(() =>
        this.attempts(operation, context, call, unknown, state),
      );
    } catch (error) {
      if (error instanceof BulkheadRejectedError) {
        this.metrics?.recordBulkheadRejection(this.name);
        throw this.rejected(
          operation,
          new ConnectorUnavailableError(this.name, 'bulkhead_full', 1),
        );
      }
      if (error instanceof BrokenCircuitError || error instanceof IsolatedCircuitError) {
        // Something was sent: its outcome stands (sync resolves it); never let the caller fail over.
        if (state.last !== undefined) return state.last;
        throw this.rejected(
          operation,
          new ConnectorUnavailableError(this.name, 'circuit_open', this.retryAfterSeconds()),
        );
      }
      throw error;
    }
  }

  private async attempts<T extends Outcome>(
    operation: PspOperation,
    context: CallContext,
    call: () => Promise<T>,
    unknown: (pspCode: string, message: string) => T,
    state: CallState<T>,
  ): Promise<T> {
    const result = await this.retry.execute(() => {
      // While a half-open probe is out, cockatiel would hold this call until the probe's answer;
      // refusing at once keeps the probe the only call and the caller free to fail over.
      this.assertCircuitAdmits();
      return this.breaker.execute(() => this.attempt(operation, context, call, unknown, state));
    });
    return result.outcome;
  }

  private async attempt<T extends Outcome>(
    operation: PspOperation,
    context: CallContext,
    call: () => Promise<T>,
    unknown: (pspCode: string, message: string) => T,
    state: CallState<T>,
  ): Promise<AttemptResult<T>> {
    state.attempts += 1;
    if (state.attempts > 1) this.metrics?.recordPspRetry(this.name, operation);
    const startedAtMs = performance.now();
    const guardMs = context.timeoutMs + this.settings.timeoutMarginMs;
    let outcome: T;
    try {
      const answer = await guarded(guardMs, call);
      outcome =
        answer !== guardFired
          ? answer
          : unknown(
              'timeout',
              `${this.name} ${operation} gave no answer within ${guardMs} ms; the outcome is unknown until sync`,
            );
    } catch (error) {
      const ms = performance.now() - startedAtMs;
      this.metrics?.recordPspCall(this.name, operation, 'error', ms / 1000);
      this.health?.record(false, ms);
      throw error;
    }
    state.last = outcome;
    const ms = performance.now() - startedAtMs;
    this.metrics?.recordPspCall(this.name, operation, outcome.status, ms / 1000);
    // Answered (approved, declined, pending …) is a success for health; 'unknown' is not.
    this.health?.record(outcome.status !== 'unknown', ms);
    const assessment = this.settings.assess(outcome);
    const retryable = assessment.retry && this.retryFits(context, state);
    return new AttemptResult(
      outcome,
      { retry: retryable, pspUnhealthy: assessment.pspUnhealthy },
      operation,
      context.idempotencyKey,
    );
  }

  /** Whether one more attempt, at its longest, still ends inside the operation's budget. */
  private retryFits(context: CallContext, state: CallState<Outcome>): boolean {
    const { maxAttempts, maxDelayMs, timeoutMarginMs, totalBudgetMs } = this.settings;
    if (state.attempts >= maxAttempts) return false;
    const elapsedMs = performance.now() - state.startedAtMs;
    return elapsedMs + maxDelayMs + context.timeoutMs + timeoutMarginMs <= totalBudgetMs;
  }

  private assertCircuitAdmits(): void {
    const state = this.breaker.state;
    const stillOpen =
      state === CircuitState.Open && Date.now() - this.openedAtMs < this.settings.halfOpenAfterMs;
    if (stillOpen || state === CircuitState.HalfOpen || state === CircuitState.Isolated)
      throw new BrokenCircuitError();
  }

  private retryAfterSeconds(): number {
    if (this.breaker.state !== CircuitState.Open) return 1;
    const remainingMs = this.openedAtMs + this.settings.halfOpenAfterMs - Date.now();
    return Math.max(1, Math.ceil(remainingMs / 1000));
  }

  private rejected(
    operation: PspOperation,
    error: ConnectorUnavailableError,
  ): ConnectorUnavailableError {
    this.metrics?.recordPspRejection(this.name, operation);
    this.health?.reject();
    return error;
  }

  private retried(
    event: { delay: number; attempt: number } & ({ value: unknown } | { error: unknown }),
  ): void {
    if (!('value' in event) || !(event.value instanceof AttemptResult)) return;
    const result = event.value;
    this.settings.onRetry?.({
      connector: this.name,
      operation: result.operation,
      attempt: event.attempt,
      delayMs: event.delay,
      idempotencyKey: result.idempotencyKey,
      pspCode: result.outcome.pspCode,
    });
  }
}

export function withResilience(
  inner: Connector,
  options: ResilienceOptions = {},
  metrics?: Metrics,
  health?: ConnectorHealthRecorder,
): ResilientConnector {
  return new ResilientConnector(inner, options, metrics, health);
}

function unknownPayment(pspCode: string, message: string): PaymentOutcome {
  return { status: 'unknown', pspCode, message };
}

function unknownRefund(pspCode: string, message: string): RefundOutcome {
  return { status: 'unknown', pspCode, message };
}

function breakerStateOf(state: CircuitState): BreakerState {
  if (state === CircuitState.Closed) return 'closed';
  if (state === CircuitState.HalfOpen) return 'half_open';
  return 'open';
}

function settingsOf(options: ResilienceOptions): Settings {
  const settings: Settings = {
    ...RESILIENCE_DEFAULTS,
    random: Math.random,
    assess: assessOutcome,
    ...definedOnly(options),
  };
  assertInteger('maxAttempts', settings.maxAttempts, 1, MAX_ATTEMPTS_MAX);
  assertInteger('initialDelayMs', settings.initialDelayMs, 0);
  assertInteger('maxDelayMs', settings.maxDelayMs, settings.initialDelayMs);
  assertInteger('breakerThreshold', settings.breakerThreshold, 1);
  assertInteger('halfOpenAfterMs', settings.halfOpenAfterMs, 1);
  assertInteger('bulkheadLimit', settings.bulkheadLimit, 1);
  assertInteger('bulkheadQueue', settings.bulkheadQueue, 0);
  assertInteger('timeoutMarginMs', settings.timeoutMarginMs, 0);
  assertInteger('totalBudgetMs', settings.totalBudgetMs, 1);
  return settings;
}

/** `{ maxAttempts: undefined }` means "the default", not "no value". */
function definedOnly(options: ResilienceOptions): ResilienceOptions {
  return Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as ResilienceOptions;
}

function assertInteger(
  name: string,
  value: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(
      `withResilience: ${name} must be an integer in ${min}..${max}, got ${String(value)}`,
    );
  }
}
