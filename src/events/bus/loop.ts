// A background loop for the embedded dispatcher and the relay: it runs a step again at once while
// the step reports more work, otherwise sleeps until notify(), the step's own wake-up time, or
// the poll interval, whichever comes first. A failing step backs off (and is not woken by
// notify, so a burst of commits cannot turn an outage into a busy loop).
import type { BusLogger } from './types.ts';

export type StepResult = { readonly more: boolean; readonly wakeInMs?: number };

export type LoopOptions = {
  readonly name: string;
  readonly pollIntervalMs: number;
  readonly errorDelayMsMax: number;
  readonly logger: BusLogger;
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
    this.#running = this.#run();
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
    while (!this.#stopping) {
      this.#notified = false;
      let delayMs: number;
      let wakeOnNotify = true;
      try {
        const result = await this.#step();
        failures = 0;
        if (result.more) continue;
        delayMs = Math.min(this.#options.pollIntervalMs, result.wakeInMs ?? Number.POSITIVE_INFINITY);
      } catch (error) {
        failures++;
        delayMs = Math.min(this.#options.errorDelayMsMax, errorDelayMsBase * 2 ** Math.min(failures, 20));
        wakeOnNotify = false;
        this.#options.logger.warn({ err: error, loop: this.#options.name, failures, retryInMs: delayMs }, 'event bus step failed');
      }
      // A commit notified while the step ran may not have been seen by it: look again at once.
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
