// The one source of business time (architecture §11). Every module that decides something by the time
// (created timestamps, leases, expiries, retry and sync schedules, the authorization void) asks an
// injected Clock, never Date.now() or SQL now(), so that test clocks (src/testmode/clock*.ts) can
// move a merchant's or the whole system's time forward and due work happens without sleeping.
//
// A merchant's objects take the merchant's time; everything else takes the system time. Work that
// scans many merchants' rows at once (status sync, webhook deliveries) takes one ClockReading and
// compares each row with its own merchant's time in SQL (see `clockSql`).
//
// Timers (setInterval of a worker loop) and latency measurements for metrics stay on the real,
// monotonic clock: they measure how long this process waited or worked, not business time.
import { textArrayLiteral } from './storage/arrays.ts';

export type ClockReading = {
  /** The system time: for objects that belong to no merchant. */
  readonly system: Date;
  /** Merchants whose own time differs from the system time (test clocks only; usually empty). */
  readonly merchants: ReadonlyMap<string, Date>;
};

export interface Clock {
  /** The time for this merchant's objects; the system time when no merchant is given. */
  now(merchantId?: string): Date;
  /** The system time and every merchant time that differs from it, read at one instant. */
  reading(): ClockReading;
  /**
   * How far the system time runs ahead of real time (0 but under test clocks): for SQL that must
   * keep the database's own clock_timestamp() order (the ledger) yet show this clock's time.
   */
  systemAheadMs(): number;
}

const noMerchants: ReadonlyMap<string, Date> = new Map();

/** Real time: production, and every process without test clocks. */
export const systemClock: Clock = {
  now: () => new Date(),
  reading: () => ({ system: new Date(), merchants: noMerchants }),
  systemAheadMs: () => 0,
};

/** A clock with one time for everyone, read from `now` (tests that shift the time a little). */
export function clockFrom(now: () => Date): Clock {
  return {
    now,
    reading: () => ({ system: now(), merchants: noMerchants }),
    systemAheadMs: () => now().getTime() - Date.now(),
  };
}

/** The time a reading gives one merchant's objects. */
export function timeFor(reading: ClockReading, merchantId: string | undefined): Date {
  if (merchantId === undefined) return reading.system;
  return reading.merchants.get(merchantId) ?? reading.system;
}

/**
 * A clock that moves only when told (unit tests, and the base of test clocks): the real time plus
 * a system offset, plus an extra offset per merchant. Offsets only grow, so time never goes back.
 */
export class OffsetClock implements Clock {
  readonly #realNow: () => number;
  #systemOffsetMs = 0;
  #merchantOffsetsMs = new Map<string, number>();

  constructor(realNow: () => number = Date.now) {
    this.#realNow = realNow;
  }

  now(merchantId?: string): Date {
    const merchantOffsetMs =
      merchantId === undefined ? 0 : (this.#merchantOffsetsMs.get(merchantId) ?? 0);
    return new Date(this.#realNow() + this.#systemOffsetMs + merchantOffsetMs);
  }

  systemAheadMs(): number {
    return this.#systemOffsetMs;
  }

  reading(): ClockReading {
    const systemMs = this.#realNow() + this.#systemOffsetMs;
    const merchants = new Map<string, Date>();
    for (const [merchantId, offsetMs] of this.#merchantOffsetsMs)
      if (offsetMs > 0) merchants.set(merchantId, new Date(systemMs + offsetMs));
    return { system: new Date(systemMs), merchants };
  }

  /** Replaces the offsets (from the database, or a test); refuses to make time go back. */
  setOffsets(offsets: ClockOffsets, options: { allowBackwards?: boolean } = {}): void {
    if (options.allowBackwards !== true) assertForward(this.offsets(), offsets);
    this.#systemOffsetMs = offsets.systemMs;
    this.#merchantOffsetsMs = new Map(offsets.merchantsMs);
  }

  offsets(): ClockOffsets {
    return { systemMs: this.#systemOffsetMs, merchantsMs: new Map(this.#merchantOffsetsMs) };
  }

  /** Tests: moves the system's (or one merchant's) time forward. */
  advance(milliseconds: number, merchantId?: string): void {
    if (!Number.isSafeInteger(milliseconds) || milliseconds < 0)
      throw new RangeError(`a clock moves forward only, by whole milliseconds: ${milliseconds}`);
    const current = this.offsets();
    if (merchantId === undefined) current.systemMs += milliseconds;
    else
      current.merchantsMs.set(
        merchantId,
        (current.merchantsMs.get(merchantId) ?? 0) + milliseconds,
      );
    this.setOffsets(current);
  }
}

/** How far test clocks run ahead of real time: the system, and each merchant beyond the system. */
export type ClockOffsets = { systemMs: number; merchantsMs: Map<string, number> };

function assertForward(before: ClockOffsets, after: ClockOffsets): void {
  const back =
    after.systemMs < before.systemMs ||
    [...before.merchantsMs].some(
      ([merchantId, offsetMs]) => (after.merchantsMs.get(merchantId) ?? 0) < offsetMs,
    );
  if (back) throw new RangeError('a clock never goes back in time (reset it explicitly)');
}

/**
 * A SQL expression for "now" of the row's merchant, from one reading, with the values it binds
 * from parameter `first` on. With no merchant clocks (always so in production) it is one
 * timestamptz parameter; otherwise each row looks its merchant up and falls back to the system
 * time (the alias `clock(merchant, at)` is taken). `bound` is the latest time of the reading:
 * comparing with it as well keeps an index on the compared column usable.
 */
export function clockSql(
  reading: ClockReading,
  merchantColumn: string,
  first: number,
): { readonly now: string; readonly bound: string; readonly values: readonly unknown[] } {
  const system = `$${first}::timestamptz`;
  if (reading.merchants.size === 0) return { now: system, bound: system, values: [reading.system] };
  const ids = [...reading.merchants.keys()];
  const times = ids.map((id) => (reading.merchants.get(id) as Date).toISOString());
  const merchantTimes = `$${first + 2}::timestamptz[]`;
  return {
    now: `coalesce((SELECT clock.at FROM unnest($${first + 1}::text[], ${merchantTimes}) AS clock(merchant, at) WHERE clock.merchant = ${merchantColumn}), ${system})`,
    // Uncorrelated: computed once per statement, so an index on the compared column still serves.
    bound: `greatest(${system}, (SELECT max(at) FROM unnest(${merchantTimes}) AS clock(at)))`,
    values: [reading.system, textArrayLiteral(ids), textArrayLiteral(times)],
  };
}
