// A background loop for the embedded dispatcher and the relay: it runs a step again at once while
// the step reports more work, otherwise sleeps until notify(), the step's own wake-up time, or
// the poll interval, whichever comes first. A step started by notify() starts at least
// `coalesceMs` after the previous one started: while commits keep coming (a busy API) each step
// takes what many of them wrote instead of one step per commit, and a loop that was idle longer
// than that answers at once. A step that reports more work is followed at once. A failing step backs off (and is not woken by
// notify, so a burst of commits cannot turn an outage into a busy loop).
import { outsideRequest } from '../request.ts';
import type { BusLogger } from './types.ts';

export type StepResult = { readonly more: boolean; readonly wakeInMs?: number };

export type LoopOptions = {
  readonly name: string;
  readonly pollIntervalMs: number;
  readonly errorDelayMsMax: number;
  readonly logger: BusLogger;
  /** Least time from the start of one step to the next when woken by notify() (default 0). */
  readonly coalesceMs?: number;
};

const errorDelayMsBase = 100;

export class WakeableLoop {
  readonly #step: () => Promise<StepResult>;
  readonly #options: LoopOptions;
  #running: Promise<void> | undefined;
  #stopping = false;
  #notified = false;
  #wake: (() => void) | undefined;
  #wakeOnNotify = false;

  constructor(step: () => Promise<StepResult>, options: LoopOptions) {
    this.#step = step;
    this.#options = options;
  }

  start(): void {
    if (this.#running !== undefined) return;
    this.#stopping = false;
    // Consumers' events are Payrail's own, even when a request started the loop (a test, a CLI).
    this.#running = outsideRequest(() => this.#run());
  }

  notify(): void {
    this.#notified = true;
    if (this.#wakeOnNotify) this.#wake?.();
  }

  /** Returns once the step that is running (if any) has finished. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#running;
    this.#running = undefined;
  }

  async #run(): Promise<void> {
    let failures = 0;
    let startedAt = Number.NEGATIVE_INFINITY;
    let backlog = false;
    while (!this.#stopping) {
      const waitMs = (this.#options.coalesceMs ?? 0) - (performance.now() - startedAt);
      if (!backlog && this.#notified && waitMs > 0) {
        await this.#sleep(waitMs, false);
        if (this.#stopping) break;
      }
      this.#notified = false;
      let delayMs: number;
      let wakeOnNotify = true;
      startedAt = performance.now();
      backlog = false;
      try {
        const result = await this.#step();
        failures = 0;
        backlog = result.more;
        if (result.more) continue;
        delayMs = Math.min(
          this.#options.pollIntervalMs,
          result.wakeInMs ?? Number.POSITIVE_INFINITY,
        );
      } catch (error) {
        failures++;
        delayMs = Math.min(
          this.#options.errorDelayMsMax,
          errorDelayMsBase * 2 ** Math.min(failures, 20),
        );
        wakeOnNotify = false;
        this.#options.logger.warn(
          { err: error, loop: this.#options.name, failures, retryInMs: delayMs },
          'event bus step failed',
        );
      }
      // A commit notified while the step ran may not have been seen by it: look again.
      if (this.#stopping || (wakeOnNotify && this.#notified)) continue;
      await this.#sleep(Math.max(0, delayMs), wakeOnNotify);
    }
  }

  #sleep(delayMs: number, wakeOnNotify: boolean): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        this.#wakeOnNotify = false;
        resolve();
      };
      const timer = setTimeout(done, delayMs);
      this.#wake = done;
      this.#wakeOnNotify = wakeOnNotify;
    });
  }
}
