import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Metrics } from '../observability/metrics.ts';
import { ConnectorError } from './errors.ts';
import {
  ConnectorUnavailableError,
  assessOutcome,
  decorrelatedJitter,
  withResilience,
} from './resilience.ts';
import type { ResilienceOptions, RetryEvent } from './resilience.ts';
import { authorizeRequest } from './testing.ts';
import type {
  CallContext,
  CapabilityMap,
  Connector,
  PaymentOutcome,
  RefundOutcome,
  RefundRequest,
} from './types.ts';
import { seededRandom } from '../random.ts';

// --- a fake PSP connector: answers from a script, records every call -----------------------------

type Answer<T> = T | Error | 'hang' | Promise<T>;

class FakeConnector implements Connector {
  readonly name = 'fakepsp';
  readonly capabilities: CapabilityMap = {
    paymentMethods: ['card'],
    currencies: ['usd'],
    captureModes: ['automatic', 'manual'],
    partialCapture: true,
    refunds: { full: true, partial: true, multiple: true },
    void: true,
    threeDSecure: false,
    webhooks: false,
    cardVerification: 'none',
  };
  readonly calls: { operation: string; context: CallContext }[] = [];
  private readonly payments: Answer<PaymentOutcome>[];
  private readonly refunds: Answer<RefundOutcome>[];

  /** The last answer repeats once the script runs out. */
  constructor(payments: Answer<PaymentOutcome>[], refunds: Answer<RefundOutcome>[] = []) {
    this.payments = payments;
    this.refunds = refunds;
  }

  authorize(_request: unknown, context: CallContext): Promise<PaymentOutcome> {
    return this.answer('authorize', context, this.payments);
  }
  capture(_request: unknown, context: CallContext): Promise<PaymentOutcome> {
    return this.answer('capture', context, this.payments);
  }
  void(_request: unknown, context: CallContext): Promise<PaymentOutcome> {
    return this.answer('void', context, this.payments);
  }
  refund(_request: unknown, context: CallContext): Promise<RefundOutcome> {
    return this.answer('refund', context, this.refunds);
  }
  sync(_request: unknown, context: CallContext): Promise<PaymentOutcome> {
    return this.answer('sync', context, this.payments);
  }

  private async answer<T>(
    operation: string,
    context: CallContext,
    script: Answer<T>[],
  ): Promise<T> {
    this.calls.push({ operation, context });
    const next = script.length > 1 ? script.shift() : script[0];
    if (next === undefined) throw new Error('fake connector: empty script');
    if (next === 'hang') return new Promise<T>(() => {});
    if (next instanceof Error) throw next;
    return next;
  }
}

const AUTHORIZED: PaymentOutcome = {
  status: 'authorized',
  pspReference: 'pi_1',
  amountAuthorized: 2000n,
};
const DECLINED: PaymentOutcome = {
  status: 'failed',
  declineCode: 'do_not_honor',
  pspCode: 'do_not_honor',
};
const TIMED_OUT: PaymentOutcome = { status: 'unknown', pspCode: 'timeout', message: 'timed out' };
const NETWORK: PaymentOutcome = { status: 'unknown', pspCode: 'network_error', message: 'reset' };
const SERVER_ERROR: PaymentOutcome = {
  status: 'unknown',
  pspCode: 'http_503',
  message: 'HTTP 503',
};
const MISMATCH: PaymentOutcome = {
  status: 'unknown',
  pspCode: 'response_mismatch',
  message: 'amount',
};

const context: CallContext = {
  credentials: { baseUrl: 'http://127.0.0.1:1', apiKey: 'sk_test' },
  idempotencyKey: 'idem_att_0001',
  timeoutMs: 1000,
};
const refundRequest: RefundRequest = {
  pspReference: 'pi_1',
  reference: 'att_0001',
  refundReference: 're_1',
  amount: 500n,
  currency: 'usd',
};

/** Small, fast settings; each test overrides what it exercises. */
function fast(overrides: ResilienceOptions = {}): ResilienceOptions {
  return {
    maxAttempts: 1,
    initialDelayMs: 1,
    maxDelayMs: 5,
    breakerThreshold: 3,
    halfOpenAfterMs: 100,
    timeoutMarginMs: 10,
    random: seededRandom(7),
    ...overrides,
  };
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

async function unavailable(
  call: Promise<unknown>,
  reason: string,
): Promise<ConnectorUnavailableError> {
  try {
    await call;
  } catch (error) {
    assert.ok(
      error instanceof ConnectorUnavailableError,
      `expected ConnectorUnavailableError, got ${String(error)}`,
    );
    assert.equal(error.reason, reason);
    return error;
  }
  assert.fail('expected the call to be refused');
}

async function openBreaker(connector: Connector, threshold: number): Promise<void> {
  for (let index = 0; index < threshold; index += 1)
    await connector.authorize(authorizeRequest(), context);
}

// --- circuit breaker -------------------------------------------------------------------------------

describe('withResilience: circuit breaker', () => {
  it('keeps the name and capabilities of the connector it wraps', () => {
    const inner = new FakeConnector([AUTHORIZED]);
    const resilient = withResilience(inner, fast());
    assert.equal(resilient.name, 'fakepsp');
    assert.equal(resilient.capabilities, inner.capabilities);
    assert.equal(resilient.breakerState(), 'closed');
  });

  it('opens after the threshold of PSP-health failures and then sends nothing', async () => {
    const inner = new FakeConnector([TIMED_OUT, NETWORK, SERVER_ERROR]);
    const resilient = withResilience(inner, fast({ halfOpenAfterMs: 5000 }));
    await openBreaker(resilient, 2);
    assert.equal(resilient.breakerState(), 'closed');
    await openBreaker(resilient, 1);
    assert.equal(resilient.breakerState(), 'open');
    const error = await unavailable(
      resilient.authorize(authorizeRequest(), context),
      'circuit_open',
    );
    assert.equal(error.connector, 'fakepsp');
    assert.equal(error.retryAfterSeconds, 5);
    await unavailable(resilient.refund(refundRequest, context), 'circuit_open');
    assert.equal(inner.calls.length, 3);
  });

  it('never counts declines, mismatches or thrown caller errors, and resets on any answer', async () => {
    const bug = new ConnectorError(
      'fakepsp',
      'unsupported_currency',
      "currency 'xxx' is not supported",
    );
    const inner = new FakeConnector([
      TIMED_OUT,
      TIMED_OUT,
      DECLINED,
      TIMED_OUT,
      TIMED_OUT,
      MISMATCH,
      bug,
      DECLINED,
      DECLINED,
      DECLINED,
      DECLINED,
    ]);
    const resilient = withResilience(inner, fast());
    for (let index = 0; index < 6; index += 1)
      await resilient.authorize(authorizeRequest(), context);
    await assert.rejects(resilient.authorize(authorizeRequest(), context), ConnectorError);
    for (let index = 0; index < 4; index += 1)
      assert.equal((await resilient.authorize(authorizeRequest(), context)).status, 'failed');
    assert.equal(resilient.breakerState(), 'closed');
    assert.equal(inner.calls.length, 11);
  });

  it('lets exactly one probe through after halfOpenAfter and closes on its success', async () => {
    const probe = deferred<PaymentOutcome>();
    const inner = new FakeConnector([TIMED_OUT, TIMED_OUT, TIMED_OUT, probe.promise, AUTHORIZED]);
    const resilient = withResilience(inner, fast());
    await openBreaker(resilient, 3);
    await unavailable(resilient.authorize(authorizeRequest(), context), 'circuit_open');
    await sleep(120);
    const first = resilient.authorize(authorizeRequest(), context);
    assert.equal(resilient.breakerState(), 'half_open');
    // While the probe is out, others are refused at once instead of waiting for its answer.
    await unavailable(resilient.authorize(authorizeRequest(), context), 'circuit_open');
    await unavailable(
      resilient.sync({ reference: 'att_0001', amount: 2000n, currency: 'usd' }, context),
      'circuit_open',
    );
    assert.equal(inner.calls.length, 4);
    probe.resolve(AUTHORIZED);
    assert.equal((await first).status, 'authorized');
    assert.equal(resilient.breakerState(), 'closed');
    assert.equal((await resilient.authorize(authorizeRequest(), context)).status, 'authorized');
    assert.equal(inner.calls.length, 5);
  });

  it('re-opens when the probe fails', async () => {
    const inner = new FakeConnector([TIMED_OUT, TIMED_OUT, TIMED_OUT, SERVER_ERROR, AUTHORIZED]);
    const resilient = withResilience(inner, fast());
    await openBreaker(resilient, 3);
    await sleep(120);
    assert.equal((await resilient.authorize(authorizeRequest(), context)).pspCode, 'http_503');
    assert.equal(resilient.breakerState(), 'open');
    await unavailable(resilient.authorize(authorizeRequest(), context), 'circuit_open');
    assert.equal(inner.calls.length, 4);
  });

  it('returns the last outcome, not an error, when it opens between retries of a sent call', async () => {
    const inner = new FakeConnector([SERVER_ERROR]);
    const resilient = withResilience(inner, fast({ maxAttempts: 3, breakerThreshold: 2 }));
    const outcome = await resilient.authorize(authorizeRequest(), context);
    assert.equal(outcome.status, 'unknown');
    assert.equal(outcome.pspCode, 'http_503');
    assert.equal(inner.calls.length, 2);
    assert.equal(resilient.breakerState(), 'open');
  });
});

// --- retries -------------------------------------------------------------------------------------

describe('withResilience: retries', () => {
  it('retries a timed-out authorize with the same idempotency key, and takes its answer', async () => {
    const inner = new FakeConnector([TIMED_OUT, AUTHORIZED]);
    const resilient = withResilience(inner, fast({ maxAttempts: 3 }));
    const outcome = await resilient.authorize(authorizeRequest(), context);
    assert.equal(outcome.status, 'authorized');
    assert.equal(inner.calls.length, 2);
    // Safe only because the PSP sees one key twice and performs the authorization once.
    for (const call of inner.calls) {
      assert.equal(call.context, context);
      assert.equal(call.context.idempotencyKey, 'idem_att_0001');
    }
  });

  it('stops at maxAttempts, keeps the key, and spreads its delays within [0, maxDelay]', async () => {
    const inner = new FakeConnector([NETWORK]);
    const events: RetryEvent[] = [];
    const resilient = withResilience(
      inner,
      fast({
        maxAttempts: 5,
        breakerThreshold: 10,
        initialDelayMs: 4,
        maxDelayMs: 20,
        onRetry: (event) => events.push(event),
      }),
    );
    const outcome = await resilient.capture(
      { pspReference: 'pi_1', reference: 'att_0001', amount: 2000n, currency: 'usd' },
      context,
    );
    assert.deepEqual(outcome, NETWORK);
    assert.equal(inner.calls.length, 5);
    assert.ok(inner.calls.every((call) => call.context.idempotencyKey === 'idem_att_0001'));
    assert.deepEqual(
      events.map((event) => event.attempt),
      [1, 2, 3, 4],
    );
    assert.ok(
      events.every(
        (event) =>
          event.operation === 'capture' &&
          event.idempotencyKey === 'idem_att_0001' &&
          event.pspCode === 'network_error',
      ),
    );
    const delays = events.map((event) => event.delayMs);
    assert.ok(
      delays.every((delay) => delay >= 0 && delay <= 20),
      `delays ${delays.join(', ')}`,
    );
    assert.ok(new Set(delays).size > 1, 'jitter: the delays are not all equal');
  });

  it('retries 5xx, PSP server errors and 429 on every operation, sync and refund included', async () => {
    const codes = ['http_500', 'http_502', 'api_error', 'SERVER_ERROR', 'GATEWAY_ERROR', '810'];
    for (const pspCode of codes) {
      const inner = new FakeConnector([{ status: 'unknown', pspCode }, AUTHORIZED]);
      const outcome = await withResilience(inner, fast({ maxAttempts: 2 })).sync(
        { reference: 'att_0001', amount: 2000n, currency: 'usd' },
        context,
      );
      assert.equal(outcome.status, 'authorized', pspCode);
    }
    const limited = new FakeConnector([{ status: 'failed', pspCode: 'rate_limit' }, AUTHORIZED]);
    assert.equal(
      (
        await withResilience(limited, fast({ maxAttempts: 2 })).void(
          { pspReference: 'pi_1', reference: 'att_0001', amount: 2000n, currency: 'usd' },
          context,
        )
      ).status,
      'authorized',
    );
    const refunds = new FakeConnector(
      [],
      [
        { status: 'unknown', pspCode: 'timeout' },
        { status: 'succeeded', pspRefundReference: 're_psp_1', amount: 500n },
      ],
    );
    const refund = await withResilience(refunds, fast({ maxAttempts: 2 })).refund(
      refundRequest,
      context,
    );
    assert.equal(refund.status, 'succeeded');
    assert.deepEqual(
      refunds.calls.map((call) => call.context.idempotencyKey),
      ['idem_att_0001', 'idem_att_0001'],
    );
  });

  it('never retries a success, a decline, a 4xx failure, a mismatch, not_found or a PSP pending', async () => {
    const answers: PaymentOutcome[] = [
      AUTHORIZED,
      DECLINED,
      { status: 'failed', pspCode: 'parameter_invalid' },
      { status: 'failed', pspCode: 'http_401' },
      MISMATCH,
      { status: 'unknown', pspCode: 'not_found' },
      { status: 'unknown', pspCode: 'idempotency_error' },
      { status: 'pending', pspReference: 'pi_1', pspCode: 'processing' },
    ];
    for (const answer of answers) {
      const inner = new FakeConnector([answer, AUTHORIZED]);
      const outcome = await withResilience(inner, fast({ maxAttempts: 3 })).authorize(
        authorizeRequest(),
        context,
      );
      assert.deepEqual(outcome, answer);
      assert.equal(inner.calls.length, 1, answer.pspCode ?? answer.status);
    }
    const refunds = new FakeConnector(
      [],
      [{ status: 'unknown', pspCode: 'response_mismatch' }, { status: 'succeeded' }],
    );
    assert.equal(
      (await withResilience(refunds, fast({ maxAttempts: 3 })).refund(refundRequest, context))
        .status,
      'unknown',
    );
    assert.equal(refunds.calls.length, 1);
  });

  it('does not retry when another attempt would not fit the time budget', async () => {
    const inner = new FakeConnector([TIMED_OUT, AUTHORIZED]);
    // A retry's worst case is 5 ms delay + 1000 ms timeout + 10 ms margin: more than a 1010 ms budget.
    const resilient = withResilience(inner, fast({ maxAttempts: 3, totalBudgetMs: 1010 }));
    assert.equal((await resilient.authorize(authorizeRequest(), context)).pspCode, 'timeout');
    assert.equal(inner.calls.length, 1);
  });

  it('classifies outcomes as documented', () => {
    assert.deepEqual(assessOutcome(TIMED_OUT), { retry: true, pspUnhealthy: true });
    assert.deepEqual(assessOutcome({ status: 'failed', pspCode: 'http_429' }), {
      retry: true,
      pspUnhealthy: false,
    });
    assert.deepEqual(assessOutcome({ status: 'failed', pspCode: 'http_503' }), {
      retry: false,
      pspUnhealthy: false,
    });
    assert.deepEqual(assessOutcome(DECLINED), { retry: false, pspUnhealthy: false });
  });

  it('draws backoff delays in [0, maxDelay] for any random value', () => {
    const options = {
      initialDelay: 50,
      maxDelay: 1000,
      exponent: 2,
      generator: decorrelatedJitter(Math.random),
    };
    for (const value of [0, 0.5, 0.999999]) {
      const generator = decorrelatedJitter(() => value);
      let state: readonly [number, number] | undefined;
      for (let attempt = 0; attempt < 20; attempt += 1) {
        const [delay, next] = generator(state, options);
        assert.ok(delay >= 0 && delay <= 1000, `delay ${delay}`);
        state = next;
      }
    }
  });

  it('refuses settings outside their limits', () => {
    const inner = new FakeConnector([AUTHORIZED]);
    assert.throws(() => withResilience(inner, { maxAttempts: 0 }), RangeError);
    assert.throws(() => withResilience(inner, { maxAttempts: 11 }), RangeError);
    assert.throws(() => withResilience(inner, { bulkheadLimit: 0 }), RangeError);
    assert.throws(() => withResilience(inner, { initialDelayMs: 100, maxDelayMs: 50 }), RangeError);
    assert.doesNotThrow(() => withResilience(inner, { maxAttempts: undefined }));
  });
});

// --- timeouts and bulkhead -----------------------------------------------------------------------

describe('withResilience: timeout guard and bulkhead', () => {
  it('turns a connector that never answers into an unknown outcome, never a failure', async () => {
    const inner = new FakeConnector(['hang'], ['hang']);
    const resilient = withResilience(inner, fast());
    const startedAt = performance.now();
    const outcome = await resilient.authorize(authorizeRequest(), { ...context, timeoutMs: 20 });
    assert.equal(outcome.status, 'unknown');
    assert.equal(outcome.pspCode, 'timeout');
    assert.ok(performance.now() - startedAt < 1000);
    const refund = await resilient.refund(refundRequest, { ...context, timeoutMs: 20 });
    assert.equal(refund.status, 'unknown');
    assert.equal(refund.pspCode, 'timeout');
  });

  it('retries after the guard fires, with the same key', async () => {
    const inner = new FakeConnector(['hang', AUTHORIZED]);
    const outcome = await withResilience(inner, fast({ maxAttempts: 2 })).authorize(
      authorizeRequest(),
      { ...context, timeoutMs: 20 },
    );
    assert.equal(outcome.status, 'authorized');
    assert.deepEqual(
      inner.calls.map((call) => call.context.idempotencyKey),
      ['idem_att_0001', 'idem_att_0001'],
    );
  });

  it('runs limit calls at once and refuses the next one at once when the queue is 0', async () => {
    const release = deferred<PaymentOutcome>();
    const limit = 3;
    const inner = new FakeConnector([release.promise]);
    const metrics = new Metrics();
    const resilient = withResilience(
      inner,
      fast({ bulkheadLimit: limit, bulkheadQueue: 0 }),
      metrics,
    );
    const running = Array.from({ length: limit }, () =>
      resilient.authorize(authorizeRequest(), context),
    );
    const startedAt = performance.now();
    const error = await unavailable(
      resilient.authorize(authorizeRequest(), context),
      'bulkhead_full',
    );
    assert.ok(performance.now() - startedAt < 500, 'refused without waiting for a slot');
    assert.equal(error.retryAfterSeconds, 1);
    assert.equal(inner.calls.length, limit);
    release.resolve(AUTHORIZED);
    for (const outcome of await Promise.all(running)) assert.equal(outcome.status, 'authorized');
    assert.equal((await resilient.authorize(authorizeRequest(), context)).status, 'authorized');
    assert.ok(
      (await metrics.render()).includes(
        'payrail_bulkhead_rejections_total{connector="fakepsp"} 1\n',
      ),
    );
  });

  it('queues up to bulkheadQueue calls behind the limit', async () => {
    const release = deferred<PaymentOutcome>();
    const inner = new FakeConnector([release.promise, AUTHORIZED]);
    const resilient = withResilience(inner, fast({ bulkheadLimit: 1, bulkheadQueue: 1 }));
    const first = resilient.authorize(authorizeRequest(), context);
    const queued = resilient.authorize(authorizeRequest(), context);
    await unavailable(resilient.authorize(authorizeRequest(), context), 'bulkhead_full');
    assert.equal(inner.calls.length, 1);
    release.resolve(AUTHORIZED);
    assert.equal((await first).status, 'authorized');
    assert.equal((await queued).status, 'authorized');
    assert.equal(inner.calls.length, 2);
  });
});

// --- metrics -------------------------------------------------------------------------------------

describe('withResilience: metrics', () => {
  it('records calls, retries, rejections and breaker state changes', async () => {
    const metrics = new Metrics();
    const inner = new FakeConnector([SERVER_ERROR, SERVER_ERROR, SERVER_ERROR, AUTHORIZED]);
    const resilient = withResilience(inner, fast({ maxAttempts: 2, breakerThreshold: 3 }), metrics);
    assert.ok(
      (await metrics.render()).includes('payrail_circuit_breaker_state{connector="fakepsp"} 0\n'),
    );
    await resilient.authorize(authorizeRequest(), context); // 2 calls, 1 retry
    await resilient.authorize(authorizeRequest(), context); // 1 call, then the breaker is open
    await unavailable(resilient.authorize(authorizeRequest(), context), 'circuit_open');
    const text = await metrics.render();
    const expected = [
      'payrail_psp_calls_total{connector="fakepsp",operation="authorize",outcome="unknown"} 3',
      'payrail_psp_calls_total{connector="fakepsp",operation="authorize",outcome="rejected"} 1',
      'payrail_psp_call_duration_seconds_count{connector="fakepsp",operation="authorize",outcome="unknown"} 3',
      'payrail_psp_call_retries_total{connector="fakepsp",operation="authorize"} 1',
      'payrail_circuit_breaker_state{connector="fakepsp"} 2',
      'payrail_circuit_breaker_transitions_total{connector="fakepsp",state="open"} 1',
    ];
    for (const line of expected) assert.ok(text.includes(`${line}\n`), `missing: ${line}\n${text}`);
    assert.equal(inner.calls.length, 3);
  });
});
