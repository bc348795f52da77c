import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupCommit } from './batcher.ts';
import type { TransferRequest } from '../ledger/types.ts';

const request = (id: string): TransferRequest => ({ kind: 'void_pending', id, pendingId: 'h' });

test('concurrent submissions are grouped while a batch is in flight, each caller gets its own result', async () => {
  const batches: string[][] = [];
  const batcher = new GroupCommit<TransferRequest, string>(
    async (requests) => {
      batches.push(requests.map((r) => r.id));
      await new Promise((resolve) => setTimeout(resolve, 10));
      return requests.map((r) => `done:${r.id}`);
    },
    { batchSizeMax: 100, batchesInFlightMax: 1 },
  );
  const results = await Promise.all(
    Array.from({ length: 7 }, (_, index) => batcher.submit(request(`t${index}`))),
  );
  assert.deepEqual(
    results,
    Array.from({ length: 7 }, (_, index) => `done:t${index}`),
  );
  // The first goes out alone at once; the six that arrived meanwhile share the next batch.
  assert.deepEqual(batches, [['t0'], ['t1', 't2', 't3', 't4', 't5', 't6']]);
});

test('batch size and batches in flight are bounded', async () => {
  let inFlight = 0;
  let inFlightMax = 0;
  const sizes: number[] = [];
  const batcher = new GroupCommit<TransferRequest, number>(
    async (requests) => {
      inFlight++;
      inFlightMax = Math.max(inFlightMax, inFlight);
      sizes.push(requests.length);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return requests.map(() => 1);
    },
    { batchSizeMax: 3, batchesInFlightMax: 2 },
  );
  await Promise.all(Array.from({ length: 20 }, (_, index) => batcher.submit(request(`t${index}`))));
  assert.equal(inFlightMax, 2);
  assert.ok(sizes.every((size) => size <= 3));
  assert.equal(
    sizes.reduce((a, b) => a + b, 0),
    20,
  );
});

test('when a whole batch fails, each transfer is retried alone so only the bad one fails', async () => {
  const batcher = new GroupCommit<TransferRequest, string>(
    async (requests) => {
      await new Promise((resolve) => setTimeout(resolve, 2));
      if (requests.some((r) => r.id === 'poison')) throw new Error('database refused the batch');
      return requests.map((r) => r.id);
    },
    { batchSizeMax: 10, batchesInFlightMax: 1 },
  );
  const first = batcher.submit(request('first'));
  const outcomes = await Promise.allSettled([
    first,
    batcher.submit(request('a')),
    batcher.submit(request('poison')),
    batcher.submit(request('b')),
  ]);
  assert.deepEqual(
    outcomes.map((outcome) => outcome.status),
    ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
  );
});
