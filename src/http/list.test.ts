import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rangeOf } from './list.ts';

const at = (seconds: number) => new Date(seconds * 1000);

test('a created filter is a range of whole seconds, as created shows them', () => {
  assert.equal(rangeOf(undefined), undefined);
  assert.equal(rangeOf({}), undefined);
  // Exact: the whole second.
  assert.deepEqual(rangeOf(10), { gte: at(10), lt: at(11) });
  assert.deepEqual(rangeOf({ gte: 10 }), { gte: at(10), lt: undefined });
  // gt t is from t+1, lte t is before t+1 (stored times have milliseconds).
  assert.deepEqual(rangeOf({ gt: 10 }), { gte: at(11), lt: undefined });
  assert.deepEqual(rangeOf({ lte: 10 }), { gte: undefined, lt: at(11) });
  assert.deepEqual(rangeOf({ lt: 10 }), { gte: undefined, lt: at(10) });
  // Both bounds of a side: the narrower wins.
  assert.deepEqual(rangeOf({ gt: 10, gte: 5, lt: 20, lte: 30 }), { gte: at(11), lt: at(20) });
  assert.deepEqual(rangeOf({ gt: 10, gte: 15, lt: 40, lte: 30 }), { gte: at(15), lt: at(31) });
});
