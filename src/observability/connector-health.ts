// Connector health over time (issue 15, the dashboard's connectors page): per PSP and minute of the
// clock, how many calls, how many the PSP answered, p50/p99 latency and the circuit breaker state.
//
//   ResilientConnector ──record()──> HealthSlot (per connector, fixed arrays, no allocation)
//                                         │ drained once a minute of the clock
//   ConnectorHealth.tick() ───────────────┘──> connector_health rows (connector-health-store.ts)
//
// Success = the PSP answered: any outcome but 'unknown' (approved, declined, pending, a 429 …).
// Failure = no trustworthy answer: 'unknown' (timeout, network error, 5xx, a response that does
// not match the request) or the connector threw. Calls refused by the breaker or the bulkhead
// are counted apart ("rejected"): nothing was sent, so they have no latency and no outcome.
//
// Latency goes into fixed log-scale buckets, 4 per doubling from 1 ms (bucket i holds
// (2^((i-1)/4), 2^(i/4)] ms): recording is one log2 and one array increment, buckets of several
// processes and minutes add up exactly, and a quantile read back is within one bucket (≤ 19 %)
// of the true value, interpolated linearly inside it.
import os from 'node:os';
import crypto from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { Logger } from './logger.ts';
import { BREAKER_STATE_VALUE, type BreakerState } from './metrics.ts';
import { LATENCY_BUCKETS, latencyBucket } from './connector-health-buckets.ts';
import type {
  ConnectorHealthStore,
  ConnectorSummary,
  DrainedSlot,
  HealthSeries,
  SeriesRequest,
} from './connector-health-store.ts';

/** The counters of one connector in this process, fed by its ResilientConnector on every call. */
export class HealthSlot {
  readonly connector: string;
  #calls = 0;
  #successes = 0;
  #rejected = 0;
  readonly #latency = new Uint32Array(LATENCY_BUCKETS);
  #breaker = 0;
  #breakerWorst = 0;

  constructor(connector: string) {
    this.connector = connector;
  }

  /** One PSP call: whether the PSP answered, and how long it took. No allocation. */
  record(answered: boolean, ms: number): void {
    this.#calls += 1;
    if (answered) this.#successes += 1;
    const bucket = latencyBucket(ms);
    this.#latency[bucket] = (this.#latency[bucket] ?? 0) + 1;
  }

  /** A call refused before anything was sent (breaker open, bulkhead full). */
  reject(): void {
    this.#rejected += 1;
  }

  /** The breaker entered `state`. */
  breaker(state: BreakerState): void {
    const value = BREAKER_STATE_VALUE[state];
    this.#breaker = value;
    if (value > this.#breakerWorst) this.#breakerWorst = value;
  }

  breakerState(): number {
    return this.#breaker;
  }

  /** The counts since the last drain; resets them (the breaker's worst to its state now). */
  drain(): DrainedSlot {
    let end = LATENCY_BUCKETS;
    while (end > 0 && this.#latency[end - 1] === 0) end -= 1;
    const drained: DrainedSlot = {
      connector: this.connector,
      calls: this.#calls,
      successes: this.#successes,
      rejected: this.#rejected,
      latency: Array.from(this.#latency.subarray(0, end)),
      breaker: this.#breaker,
      breakerWorst: Math.max(this.#breakerWorst, this.#breaker),
    };
    this.#calls = 0;
    this.#successes = 0;
    this.#rejected = 0;
    this.#latency.fill(0);
    this.#breakerWorst = this.#breaker;
    return drained;
  }
}

/** One slot per connector of this process; the connectors take theirs once, when built. */
export class ConnectorHealthRecorder {
  readonly #slots = new Map<string, HealthSlot>();

  slot(connector: string): HealthSlot {
    let slot = this.#slots.get(connector);
    if (slot === undefined) {
      slot = new HealthSlot(connector);
      this.#slots.set(connector, slot);
    }
    return slot;
  }

  connectors(): string[] {
    return [...this.#slots.keys()];
  }

  /** Breaker state value per connector, as this process sees it now. */
  breakers(): Map<string, number> {
    return new Map([...this.#slots].map(([name, slot]) => [name, slot.breakerState()]));
  }

  drain(): DrainedSlot[] {
    return [...this.#slots.values()].map((slot) => slot.drain());
  }
}

export const connectorHealthDefaults = {
  retentionDays: 7,
  /** How often (real time) the sampler looks whether the clock's minute has turned. */
  tickMs: 1_000,
  /** current(): the window its rates and latencies cover. */
  currentMinutes: 15,
} as const;

export type ConnectorHealthOptions = {
  readonly clock: Clock;
  readonly recorder: ConnectorHealthRecorder;
  /** This process's name in the rows; default host/pid/random. */
  readonly instance?: string;
  readonly retentionDays?: number;
  readonly tickMs?: number;
  readonly logger?: Logger;
};

const minuteMs = 60_000;

/** A unique name for this process's rows: host, pid and a random part (a restarted pid differs). */
export function instanceName(): string {
  const host =
    os
      .hostname()
      .replace(/[^A-Za-z0-9.-]/g, '')
      .slice(0, 64) || 'host';
  return `${host}/${process.pid}/${crypto.randomBytes(4).toString('hex')}`;
}

/**
 * The sampler and the queries. tick() writes the minute that ended, once the clock's minute has
 * turned: each connector's counts since the last write, under that minute (the counts were taken
 * while the clock showed it). A minute in which the sampler did not tick (the clock moved on by
 * more) has no row: the series shows a gap there.
 */
export class ConnectorHealth {
  readonly instance: string;
  readonly #store: ConnectorHealthStore;
  readonly #clock: Clock;
  readonly #recorder: ConnectorHealthRecorder;
  readonly #retentionMs: number;
  readonly #tickMs: number;
  readonly #logger: Logger | undefined;
  #minute: number;
  #running: Promise<number> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(store: ConnectorHealthStore, options: ConnectorHealthOptions) {
    this.#store = store;
    this.#clock = options.clock;
    this.#recorder = options.recorder;
    this.instance = options.instance ?? instanceName();
    const retentionDays = options.retentionDays ?? connectorHealthDefaults.retentionDays;
    if (!Number.isInteger(retentionDays) || retentionDays < 1 || retentionDays > 366)
      throw new RangeError(`retentionDays must be an integer in 1..366, got ${retentionDays}`);
    this.#retentionMs = retentionDays * 24 * 60 * minuteMs;
    this.#tickMs = options.tickMs ?? connectorHealthDefaults.tickMs;
    this.#logger = options.logger;
    this.#minute = floorMinute(this.#clock.now().getTime());
  }

  /** Ticks every tickMs of real time (an unref'd timer) until stop(). */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.tick(), this.#tickMs);
    this.#timer.unref();
  }

  /** Stops ticking and writes what was gathered in the current minute (under that minute); once started. */
  async stop(): Promise<void> {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
    await this.#write(this.#minute);
  }

  /**
   * Writes the minute that ended if the clock's minute has turned, and prunes old rows; the
   * number of rows written. Never runs twice at once (a tick during a write waits for it).
   */
  async tick(): Promise<number> {
    if (this.#running !== undefined) return this.#running;
    const running = this.#tick();
    this.#running = running;
    try {
      return await running;
    } finally {
      this.#running = undefined;
    }
  }

  async #tick(): Promise<number> {
    const now = this.#clock.now().getTime();
    const minute = floorMinute(now);
    const ended = this.#minute;
    if (minute === ended) return 0;
    this.#minute = minute;
    // A clock reset backwards (test clocks only): keep gathering, written at the next turn.
    if (minute < ended) return 0;
    const written = await this.#write(ended);
    try {
      await this.#store.prune(new Date(minute - this.#retentionMs));
    } catch (error) {
      this.#logger?.warn({ err: error }, 'connector health: pruning old rows failed');
    }
    return written;
  }

  async #write(minute: number): Promise<number> {
    const slots = this.#recorder.drain();
    if (slots.length === 0) return 0;
    try {
      await this.#store.write(this.instance, new Date(minute), slots);
      return slots.length;
    } catch (error) {
      // The minute's counts are lost; the next minutes are written as usual.
      this.#logger?.warn({ err: error }, 'connector health: writing a minute failed');
      return 0;
    }
  }

  /** Series ready for uPlot; see ConnectorHealthStore.series. */
  series(request: SeriesRequest): Promise<HealthSeries[]> {
    return this.#store.series(request);
  }

  /**
   * The series of the last `rangeSeconds` by the clock, up to the minute that is running now
   * (its point is null until the minute is written).
   */
  recent(request: {
    readonly connector?: string;
    readonly rangeSeconds: number;
    readonly bucketSeconds: number;
  }): Promise<HealthSeries[]> {
    const to = floorMinute(this.#clock.now().getTime()) + minuteMs;
    return this.#store.series({
      ...(request.connector === undefined ? {} : { connector: request.connector }),
      from: new Date(to - request.rangeSeconds * 1000),
      to: new Date(to),
      bucketSeconds: request.bucketSeconds,
    });
  }

  /**
   * Per connector (every connector of this process, and any other found in the window): success
   * rate, p50/p99 and calls over the last 15 complete minutes of every process, and the breaker
   * state now (this process's live state, other processes' as of their last minute written).
   */
  current(): Promise<ConnectorSummary[]> {
    const to = floorMinute(this.#clock.now().getTime());
    return this.#store.current({
      from: new Date(to - connectorHealthDefaults.currentMinutes * minuteMs),
      to: new Date(to),
      instance: this.instance,
      live: this.#recorder.breakers(),
    });
  }
}

function floorMinute(ms: number): number {
  return Math.floor(ms / minuteMs) * minuteMs;
}
