// Progress of a money-out run on a terminal (`payrail settle`, `payrail payouts run`): one bar per
// step, sized by what the step says is due, on stderr so that stdout stays the report. Without a
// terminal (CI, pipes) nothing.
import cliProgress from 'cli-progress';
import type { MoneyOutStep, StepProgress } from './runner.ts';

export type ProgressDisplay = {
  readonly onProgress: (progress: StepProgress) => void;
  stop(): void;
};

export async function progressDisplay(
  steps: readonly MoneyOutStep[],
  stream: NodeJS.WriteStream = process.stderr,
): Promise<ProgressDisplay> {
  // Without a terminal (CI, pipes) no bars: the report printed at the end says it all.
  if (!stream.isTTY) return { onProgress: () => {}, stop: () => {} };
  const bars = new cliProgress.MultiBar(
    {
      stream,
      format: ' {step} |{bar}| {value}/{total} {unit}',
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const byStep = new Map<string, cliProgress.SingleBar>();
  for (const step of steps) {
    const due = (await step.due?.()) ?? 0;
    byStep.set(step.name, bars.create(due, 0, { step: step.name.padEnd(14), unit: step.unit }));
  }
  return {
    onProgress: (progress) => {
      const bar = byStep.get(progress.step);
      if (bar === undefined) return;
      // What was due was counted before the run; work that became due meanwhile grows the bar.
      if (progress.done > bar.getTotal() || progress.finished) bar.setTotal(progress.done);
      bar.update(progress.done);
    },
    stop: () => bars.stop(),
  };
}
