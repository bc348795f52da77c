// Group commit. Concurrent submissions are gathered into batches while earlier batches are being
// written, so N waiting callers share one statement or transaction (one round trip, one commit
// flush) instead of N. A caller that finds the writer idle goes out at once, so an unloaded
// system waits for nothing. Each caller gets its own result; a batch that fails is run again one
// submission at a time, so one caller's failure is not every caller's.
// Used by the ledger (transfers), the payment ledger (postings) and payments (the statements of
// the busiest path: creating an intent, recording an authorization).
type Waiter<I, R> = { request: I; resolve: (result: R) => void; reject: (error: unknown) => void };

export type BatcherLimits = {
  /** Submissions per batch. */
  readonly batchSizeMax: number;
  /** Batches being written at the same time (each holds one database connection). */
  readonly batchesInFlightMax: number;
};

export class GroupCommit<I, R> {
  readonly #write: (requests: readonly I[]) => Promise<R[]>;
  readonly #limits: BatcherLimits;
  #waiting: Waiter<I, R>[] = [];
  #inFlight = 0;

  constructor(write: (requests: readonly I[]) => Promise<R[]>, limits: BatcherLimits) {
    this.#write = write;
    this.#limits = limits;
  }

  submit(request: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#waiting.push({ request, resolve, reject });
      this.#dispatch();
    });
  }

  #dispatch(): void {
    while (this.#inFlight < this.#limits.batchesInFlightMax && this.#waiting.length > 0) {
      const batch = this.#waiting.splice(0, this.#limits.batchSizeMax);
      this.#inFlight++;
      void this.#run(batch).finally(() => {
        this.#inFlight--;
        this.#dispatch();
      });
    }
  }

  async #run(batch: readonly Waiter<I, R>[]): Promise<void> {
    try {
      const results = await this.#write(batch.map((waiter) => waiter.request));
      batch.forEach((waiter, index) => waiter.resolve(results[index] as R));
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        return;
      }
      // Something failed the whole batch: try each submission alone, so one caller's failure
      // is not every caller's failure.
      await Promise.all(batch.map((waiter) => this.#run([waiter])));
    }
  }
}
