import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { progressDisplay } from './progress.ts';
import { runMoneyOut, type MoneyOutStep } from './runner.ts';

/** A stream that says it is a terminal, and keeps what was drawn on it. */
function fakeTerminal(): NodeJS.WriteStream & { text(): string } {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & { text(): string };
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  Object.assign(stream, {
    isTTY: true,
    columns: 100,
    rows: 40,
    cursorTo: () => true,
    moveCursor: () => true,
    clearLine: () => true,
    clearScreenDown: () => true,
    text: () => chunks.join(''),
  });
  return stream;
}

const steps: MoneyOutStep[] = [
  { name: 'close', unit: 'items', run: stepOf([600, 400]), due: async () => 1000 },
  { name: 'send', unit: 'payouts', run: stepOf([]), due: async () => 0 },
];

function stepOf(counts: number[]): () => Promise<number> {
  return async () => counts.shift() ?? 0;
}

test('on a terminal a bar per step, sized by what was due, ending at what was done', async () => {
  const terminal = fakeTerminal();
  const display = await progressDisplay(steps, terminal);
  await runMoneyOut(steps, { onProgress: display.onProgress });
  display.stop();
  await new Promise((resolve) => setImmediate(resolve));
  const text = terminal.text();
  assert.match(text, /close\s+\|[█░]+\| 1000\/1000 items/);
  assert.match(text, /send\s+\|[█░]+\| 0\/0 payouts/);
});

test('without a terminal nothing is drawn', async () => {
  const pipe = fakeTerminal();
  Object.assign(pipe, { isTTY: false });
  const display = await progressDisplay(steps, pipe);
  display.onProgress({ step: 'close', unit: 'items', done: 5, finished: true });
  display.stop();
  assert.equal(pipe.text(), '');
});
