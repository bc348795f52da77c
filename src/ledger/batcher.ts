// Group commit for single transfers. Concurrent `transfer()` calls are gathered into batches
// while earlier batches are being written, so N waiting callers share one database transaction
// and one commit flush instead of N. A caller that finds the writer idle goes out at once, so an
// unloaded ledger adds no latency. Each caller still gets its own result.
// Generic over what is batched: the ledger batches transfers, payments batch their postings.
type Waiter<I, R> = { request: I; resolve: (result: R) => void; reject: (error: unknown) => void };

export type BatcherLimits = {
  /** Transfers per database transaction. */
  readonly batchSizeMax: number;
  /** Batches being written at the same time (each holds one database connection). */
  readonly batchesInFlightMax: number;
};

export class TransferBatcher<I, R> {
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
      // Something failed the whole transaction: try each transfer alone, so one caller's
      // failure is not every caller's failure.
      await Promise.all(batch.map((waiter) => this.#run([waiter])));
    }
  }
}
