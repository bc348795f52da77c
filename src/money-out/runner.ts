// The money-out pipeline run as a sequence of steps (architecture §12): close due settlement
// batches, submit them, read the PSPs' reports and the bank's statements, make due funds
// available, release reserves, create and send payouts. Each step does a bounded amount of work
// per call and says how much it did; the runner calls a step again while it keeps finding work
// (bounded by `callsPerStepMax`), then moves to the next. Workers run the pipeline on a timer,
// `payrail settle` / `payrail payouts run` and the operator route on demand. Every step is
// idempotent and crash-safe on its own, so running the pipeline twice at once, or after a crash
// at any line, is harmless.

/** One step: does some due work, returns how many units it handled (0: nothing was due). */
export type MoneyOutStep = {
  readonly name: string;
  /** What a unit is, for progress output (items, groups, payouts …). */
  readonly unit: string;
  run(): Promise<number>;
  /** How many units are due now, when the step can count them cheaply (sizes a progress bar). */
  due?(): Promise<number>;
};

export type StepProgress = {
  readonly step: string;
  readonly unit: string;
  /** Units handled by this step so far in this run. */
  readonly done: number;
  /** True once the step has found nothing more to do (or reached its call bound). */
  readonly finished: boolean;
};

export type RunOptions = {
  /** Stop calling a step after this many calls in one run (a bound on one run's length). */
  readonly callsPerStepMax?: number;
  readonly onProgress?: (progress: StepProgress) => void;
};

export type RunReport = Readonly<Record<string, number>>;

const defaultCallsPerStepMax = 10_000;

/** Runs the steps in order, each until it finds nothing more to do. */
export async function runMoneyOut(
  steps: readonly MoneyOutStep[],
  options: RunOptions = {},
): Promise<RunReport> {
  const callsMax = options.callsPerStepMax ?? defaultCallsPerStepMax;
  const report: Record<string, number> = {};
  for (const step of steps) {
    let done = 0;
    for (let call = 0; call < callsMax; call++) {
      const handled = await step.run();
      if (!Number.isInteger(handled) || handled < 0)
        throw new Error(`money-out step ${step.name} returned ${handled}, not a count`);
      done += handled;
      if (handled === 0) break;
      options.onProgress?.({ step: step.name, unit: step.unit, done, finished: false });
    }
    report[step.name] = done;
    options.onProgress?.({ step: step.name, unit: step.unit, done, finished: true });
  }
  return report;
}
