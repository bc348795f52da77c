// Authorization success rate per connector over a sliding window, for success-rate routing.
//
// The window is count- AND time-based: the last `samplesMax` outcomes of a connector, of which
// only those younger than `windowMs` count. The count bound keeps memory fixed and reacts fast
// under high traffic; the time bound makes an outage (or a recovery) age out under low traffic,
// where the last 100 outcomes could be hours old.
//
// What counts (classifyOutcome): an authorization's answer that says something about the
// connector's health. Success: authorized or captured. Failure: no trustworthy answer (`unknown`:
// timeout, 5xx, mismatching response) or a failure another connector might not have had (soft
// declines and PSP refusals, per the decline policy). Ignored: hard declines (the card would fail
// anywhere), `pending` (not decided yet) and anything that is not an authorization.
//
// One tracker per process, shared by all merchants: a PSP outage hits everyone, and pooling
// gives enough samples fast. It lives in memory: each process learns on its own, which is fine
// for a health signal. Not for money decisions.
import type { PaymentOutcome } from '../connectors/types.ts';
import { declineVerdict, defaultDeclinePolicy, type DeclinePolicy } from './soft-declines.ts';

export type OutcomeClass = 'success' | 'failure' | 'ignored';

export type SuccessRateStats = {
  readonly samples: number;
  readonly successes: number;
  /** successes / samples; undefined with no samples. */
  readonly rate: number | undefined;
};

/** What routing reads; the tracker implements it. */
export interface SuccessRates {
  stats(connector: string): SuccessRateStats;
}

export type SuccessRateOptions = {
  readonly windowMs?: number;
  readonly samplesMax?: number;
  /** Milliseconds; injectable so tests control time. */
  readonly now?: () => number;
  /** Bound on distinct connector names tracked. */
  readonly connectorsMax?: number;
};

export const successRateDefaults = {
  windowMs: 5 * 60_000,
  samplesMax: 100,
  connectorsMax: 1_000,
} as const;

/** Whether an authorization outcome counts for the connector's success rate, and how. */
export function classifyOutcome(
  connector: string,
  outcome: PaymentOutcome,
  policy: DeclinePolicy = defaultDeclinePolicy,
): OutcomeClass {
  switch (outcome.status) {
    case 'authorized':
    case 'captured':
      return 'success';
    case 'unknown':
      return 'failure';
    case 'failed':
      return declineVerdict(connector, outcome, policy) === 'retry_elsewhere'
        ? 'failure'
        : 'ignored';
    case 'pending':
    case 'voided':
      return 'ignored';
  }
}

/** A ring of the last outcomes of one connector, oldest first from `start`. */
class Window {
  readonly atMs: Float64Array;
  readonly succeeded: Uint8Array;
  start = 0;
  count = 0;
  successes = 0;

  constructor(size: number) {
    this.atMs = new Float64Array(size);
    this.succeeded = new Uint8Array(size);
  }

  #dropOldest(): void {
    this.successes -= this.succeeded[this.start] ?? 0;
    this.start = (this.start + 1) % this.atMs.length;
    this.count -= 1;
  }

  push(atMs: number, success: boolean): void {
    if (this.count === this.atMs.length) this.#dropOldest();
    const index = (this.start + this.count) % this.atMs.length;
    this.atMs[index] = atMs;
    this.succeeded[index] = success ? 1 : 0;
    this.successes += success ? 1 : 0;
    this.count += 1;
  }

  /** Drops samples recorded before `oldestMs`; they are stored in time order. */
  expire(oldestMs: number): void {
    while (this.count > 0 && (this.atMs[this.start] ?? 0) < oldestMs) this.#dropOldest();
  }
}

export class SuccessRateTracker implements SuccessRates {
  readonly #windowMs: number;
  readonly #samplesMax: number;
  readonly #connectorsMax: number;
  readonly #now: () => number;
  readonly #windows = new Map<string, Window>();

  constructor(options: SuccessRateOptions = {}) {
    this.#windowMs = options.windowMs ?? successRateDefaults.windowMs;
    this.#samplesMax = options.samplesMax ?? successRateDefaults.samplesMax;
    this.#connectorsMax = options.connectorsMax ?? successRateDefaults.connectorsMax;
    this.#now = options.now ?? Date.now;
    if (!(this.#windowMs > 0) || !Number.isSafeInteger(this.#samplesMax) || this.#samplesMax < 1) {
      throw new Error('SuccessRateTracker: windowMs must be > 0 and samplesMax an integer >= 1');
    }
  }

  record(connector: string, result: 'success' | 'failure'): void {
    let window = this.#windows.get(connector);
    if (window === undefined) {
      // A bug that invents connector names must not grow this map without bound.
      if (this.#windows.size >= this.#connectorsMax)
        throw new Error(`SuccessRateTracker: more than ${this.#connectorsMax} connectors`);
      window = new Window(this.#samplesMax);
      this.#windows.set(connector, window);
    }
    window.push(this.#now(), result === 'success');
  }

  /** Classifies an authorization outcome and records it when it counts; returns the class. */
  recordOutcome(
    connector: string,
    outcome: PaymentOutcome,
    policy: DeclinePolicy = defaultDeclinePolicy,
  ): OutcomeClass {
    const result = classifyOutcome(connector, outcome, policy);
    if (result !== 'ignored') this.record(connector, result);
    return result;
  }

  stats(connector: string): SuccessRateStats {
    const window = this.#windows.get(connector);
    if (window === undefined) return { samples: 0, successes: 0, rate: undefined };
    window.expire(this.#now() - this.#windowMs);
    const samples = window.count;
    return {
      samples,
      successes: window.successes,
      rate: samples === 0 ? undefined : window.successes / samples,
    };
  }

  rate(connector: string): number | undefined {
    return this.stats(connector).rate;
  }

  reset(): void {
    this.#windows.clear();
  }
}
