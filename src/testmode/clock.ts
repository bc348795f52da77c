// The clock of a process with test clocks enabled: real time plus the offsets stored in the
// database (clock-store.ts), cached and refreshed every `refreshMs` so that a move made by another
// process (`payrail clock advance` beside a running server) is seen within that time. A move made
// through this process is seen at once (the service refreshes after writing).
import { OffsetClock } from '../clock.ts';
import type { Queryable } from '../storage/database.ts';
import { loadOffsets } from './clock-store.ts';

export const clockRefreshMs = 1_000;

export class DatabaseClock extends OffsetClock {
  readonly #database: Queryable;
  #timer: NodeJS.Timeout | undefined;

  constructor(database: Queryable, realNow: () => number = Date.now) {
    super(realNow);
    this.#database = database;
  }

  /** Reads the offsets now. Backwards only after an explicit reset, which the database holds. */
  async refresh(): Promise<void> {
    this.setOffsets(await loadOffsets(this.#database), { allowBackwards: true });
  }

  /** Loads the offsets, then keeps them fresh in the background (an unref'd timer). */
  async start(refreshMs = clockRefreshMs): Promise<void> {
    await this.refresh();
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.refresh().catch(() => undefined), refreshMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
