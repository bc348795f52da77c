// `payrail settle` and `payrail payouts run`: the money-out pipeline on demand (architecture §12),
// with a progress bar per step on a terminal and the report on stdout.
import type { Command } from 'commander';
import type { MoneyOut } from './index.ts';
import type { PipelinePart } from './pipeline.ts';
import { progressDisplay } from './progress.ts';

type WithMoneyOut = (work: (runtime: { moneyOut: MoneyOut }) => Promise<void>) => Promise<void>;

async function runPart(moneyOut: MoneyOut, part: PipelinePart): Promise<void> {
  const steps = moneyOut.steps(part);
  const display = await progressDisplay(steps);
  try {
    const report = await moneyOut.run(part, { onProgress: display.onProgress });
    display.stop();
    for (const [step, completed] of Object.entries(report)) console.log(`${step}: ${completed}`);
  } finally {
    display.stop();
  }
}

export function registerMoneyOutCommands(program: Command, withRuntime: WithMoneyOut): void {
  program
    .command('settle')
    .description(
      'close the clearing batches due at each cutoff, submit them, read PSP reports and bank statements, make due funds available, release reserves',
    )
    .action(() => withRuntime((runtime) => runPart(runtime.moneyOut, 'settle')));
  program
    .command('payouts')
    .description('payouts to merchants')
    .command('run')
    .description('create the automatic payouts due by each schedule and send pending payouts')
    .action(() => withRuntime((runtime) => runPart(runtime.moneyOut, 'payouts')));
}
