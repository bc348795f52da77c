import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WakeableLoop } from './loop.ts';
import { silentLogger } from './types.ts';

function countingLoop(coalesceMs: number): { loop: WakeableLoop; steps: number[] } {
  const steps: number[] = [];
  const loop = new WakeableLoop(
    async () => {
      steps.push(performance.now());
      return { more: false };
    },
    {
      name: 'test',
      pollIntervalMs: 60_000,
      errorDelayMsMax: 1000,
      logger: silentLogger,
      coalesceMs,
    },
  );
  return { loop, steps };
}

test('while notifications keep coming, a step starts at most every coalesceMs', async () => {
  const { loop, steps } = countingLoop(100);
  loop.start();
  await sleep(20);
  const startedAt = performance.now();
  // One notify every 2 ms for 500 ms: without coalescing, one step per notify.
  while (performance.now() - startedAt < 500) {
    loop.notify();
    await sleep(2);
  }
  await loop.stop();
  const during = steps.filter((at) => at >= startedAt);
  assert.ok(during.length >= 2, `steps: ${during.length}`);
  assert.ok(
    during.length <= 7,
    `at most one step per 100 ms (and one at once), got ${during.length}`,
  );
  for (let index = 1; index < during.length; index++)
    assert.ok((during[index] as number) - (during[index - 1] as number) >= 95);
});

test('a loop idle for longer than coalesceMs answers a notify at once', async () => {
  const { loop, steps } = countingLoop(100);
  loop.start();
  await sleep(300);
  assert.equal(steps.length, 1, 'the first step runs on start');
  const notifiedAt = performance.now();
  loop.notify();
  await sleep(300);
  await loop.stop();
  assert.equal(steps.length, 2);
  assert.ok((steps[1] as number) - notifiedAt < 50);
});

test('a step that reports more work is followed at once, notified or not', async () => {
  let steps = 0;
  const loop = new WakeableLoop(
    async () => {
      steps++;
      loop.notify();
      return { more: steps < 20 };
    },
    {
      name: 'test',
      pollIntervalMs: 60_000,
      errorDelayMsMax: 1000,
      logger: silentLogger,
      coalesceMs: 1_000,
    },
  );
  const startedAt = performance.now();
  loop.start();
  while (steps < 20 && performance.now() - startedAt < 900) await sleep(5);
  await loop.stop();
  assert.ok(steps >= 20, `a backlog of 20 steps is worked off without waiting (${steps} steps)`);
});
