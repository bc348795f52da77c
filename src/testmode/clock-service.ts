// Moving test clocks (like Stripe's test clocks): the whole system's time, or one merchant's
// beyond it. Time only moves forward, because money code assumes it never goes back (a lease, an
// expiry or a schedule computed earlier must stay in the past); `reset` is the one explicit way
// back. Moves are serialised on the system row, so two operators cannot interleave.
import { DomainError } from '../errors.ts';
import type { Database, Queryable } from '../storage/database.ts';
import { mayCreateLiveMerchant, mayMoveMerchantClock, maySystemClockMove } from './clock-policy.ts';
import type { DatabaseClock } from './clock.ts';
import { deleteOffsets, loadOffsets, lockOffset, storeOffset, systemScope } from './clock-store.ts';

/** The furthest a test clock may run ahead of real time: 100 years (as migration 018 checks). */
export const clockOffsetMsMax = 100 * 365 * 24 * 3_600_000;

export type ClockMove =
  | { readonly kind: 'advance'; readonly milliseconds: number }
  | { readonly kind: 'set'; readonly to: Date };

export type TestClockErrorCode =
  'clock_backwards' | 'clock_out_of_range' | 'merchant_not_found' | 'merchant_live_mode';

/** `param` is the request parameter at fault. */
export class TestClockError extends DomainError<TestClockErrorCode> {
  constructor(code: TestClockErrorCode, param: string, message: string) {
    super(code, code === 'merchant_not_found' ? 'not_found' : 'invalid', message, param);
    this.name = 'TestClockError';
  }
}

export type ClockScopeView = {
  readonly merchantId: string | undefined;
  readonly now: Date;
  /** How far this clock runs ahead of real time (a merchant's includes the system's). */
  readonly offsetMs: number;
};

export type ClockView = {
  readonly system: ClockScopeView;
  readonly merchants: readonly ClockScopeView[];
};

export class TestClocks {
  readonly #database: Database;
  readonly #clock: DatabaseClock;
  readonly #realNow: () => number;

  constructor(database: Database, clock: DatabaseClock, realNow: () => number = Date.now) {
    this.#database = database;
    this.#clock = clock;
    this.#realNow = realNow;
  }

  async show(): Promise<ClockView> {
    const offsets = await loadOffsets(this.#database);
    const realMs = this.#realNow();
    const scope = (merchantId: string | undefined, offsetMs: number): ClockScopeView => ({
      merchantId,
      now: new Date(realMs + offsetMs),
      offsetMs,
    });
    return {
      system: scope(undefined, offsets.systemMs),
      merchants: [...offsets.merchantsMs]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([merchantId, offsetMs]) => scope(merchantId, offsets.systemMs + offsetMs)),
    };
  }

  /** Moves the system's clock, or the merchant's; returns the moved clock. */
  async move(move: ClockMove, merchantId?: string): Promise<ClockScopeView> {
    if (merchantId !== undefined) await this.#assertMovable(this.#database, merchantId);
    const moved = await this.#database.transaction(async (tx) => {
      const systemMs = await lockOffset(tx, systemScope);
      if (merchantId === undefined) await assertSystemMovable(tx);
      const ownMs = merchantId === undefined ? systemMs : await lockOffset(tx, merchantId);
      // A merchant's offset counts beyond the system's: its base is the system time.
      const baseMs = this.#realNow() + (merchantId === undefined ? 0 : systemMs);
      const offsetMs = nextOffset(move, ownMs, baseMs);
      await storeOffset(tx, merchantId ?? systemScope, offsetMs);
      return { merchantId, offsetMs: offsetMs + (merchantId === undefined ? 0 : systemMs) };
    });
    await this.#clock.refresh();
    return { ...moved, now: this.#clock.now(merchantId) };
  }

  /** The explicit way back: one merchant's clock to the system time, or every clock to real time. */
  async reset(merchantId?: string): Promise<ClockView> {
    if (merchantId !== undefined) await this.#assertMovable(this.#database, merchantId);
    await this.#database.transaction((tx) => deleteOffsets(tx, merchantId));
    await this.#clock.refresh();
    return this.show();
  }

  async #assertMovable(database: Queryable, merchantId: string): Promise<void> {
    const answer = await mayMoveMerchantClock(database, merchantId);
    if (answer === 'merchant_not_found')
      throw new TestClockError(
        'merchant_not_found',
        'merchant',
        `No such merchant: '${merchantId}'.`,
      );
    if (answer === 'live_mode')
      throw new TestClockError(
        'merchant_live_mode',
        'merchant',
        `The merchant '${merchantId}' is in live mode: its clock is real time.`,
      );
  }
}

async function assertSystemMovable(tx: Queryable): Promise<void> {
  if ((await maySystemClockMove(tx)) === 'live_mode')
    throw new TestClockError(
      'merchant_live_mode',
      'merchant',
      "A live merchant exists, whose time is real time: move a test merchant's clock instead.",
    );
}

/** A live merchant's time is real time: refused while the system clock runs ahead (in `tx`). */
export async function assertLiveMerchantAllowed(tx: Queryable): Promise<void> {
  if ((await mayCreateLiveMerchant(tx)) === 'live_mode')
    throw new TestClockError(
      'merchant_live_mode',
      'livemode',
      "The system's test clock runs ahead of real time, and a live merchant's time is real time: " +
        'reset the system clock first.',
    );
}

/** The offset after a move, refused when it would take the clock back or too far ahead. */
function nextOffset(move: ClockMove, currentMs: number, baseMs: number): number {
  const param = move.kind === 'advance' ? 'seconds' : 'to';
  const offsetMs =
    move.kind === 'advance' ? currentMs + move.milliseconds : move.to.getTime() - baseMs;
  if (offsetMs < currentMs)
    throw new TestClockError(
      'clock_backwards',
      param,
      `A test clock only moves forward: it is already ${new Date(baseMs + currentMs).toISOString()}. Reset it to go back.`,
    );
  if (offsetMs > clockOffsetMsMax)
    throw new TestClockError(
      'clock_out_of_range',
      param,
      'A test clock may run at most 100 years ahead of real time.',
    );
  return offsetMs;
}
