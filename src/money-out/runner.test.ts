import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runMoneyOut, type MoneyOutStep, type StepProgress } from './runner.ts';

function countingStep(name: string, batches: number[]): MoneyOutStep & { calls: number } {
  const step = {
    name,
    unit: 'items',
    calls: 0,
    async run() {
      step.calls++;
      return batches.shift() ?? 0;
    },
  };
  return step;
}

test('each step runs until it finds nothing, in order, and the report sums its work', async () => {
  const order: string[] = [];
  const close = countingStep('close', [3, 2]);
  const submit = countingStep('submit', [1]);
  const progress: StepProgress[] = [];
  const report = await runMoneyOut(
    [
      { ...close, run: () => (order.push('close'), close.run()) },
      { ...submit, run: () => (order.push('submit'), submit.run()) },
    ],
    { onProgress: (entry) => progress.push(entry) },
  );
  assert.deepEqual(report, { close: 5, submit: 1 });
  assert.deepEqual(order, ['close', 'close', 'close', 'submit', 'submit']);
  assert.deepEqual(
    progress.map((entry) => `${entry.step}:${entry.done}:${entry.finished}`),
    ['close:3:false', 'close:5:false', 'close:5:true', 'submit:1:false', 'submit:1:true'],
  );
});

test('a step that keeps finding work is bounded by callsPerStepMax', async () => {
  const endless = countingStep(
    'endless',
    Array.from({ length: 100 }, () => 1),
  );
  const report = await runMoneyOut([endless], { callsPerStepMax: 7 });
  assert.equal(report.endless, 7);
  assert.equal(endless.calls, 7);
});

test('a step that returns something other than a count is a bug and stops the run', async () => {
  const broken: MoneyOutStep = { name: 'broken', unit: 'x', run: async () => -1 };
  await assert.rejects(runMoneyOut([broken]), /broken returned -1/);
});
