import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newSortableId } from './keys.ts';

test('sortable ids: fixed shape, time order, and creation order within one millisecond', () => {
  const now = Date.UTC(2026, 10, 21, 12, 0, 0);
  const sameMillisecond = Array.from({ length: 1000 }, () => newSortableId('evt', now));
  for (const id of sameMillisecond) assert.match(id, /^evt_[0-9A-Za-z]{22}$/);
  assert.deepEqual([...sameMillisecond].sort(), sameMillisecond, 'made in one millisecond, they sort as made');
  assert.equal(new Set(sameMillisecond).size, sameMillisecond.length);
  assert.ok(newSortableId('evt', now - 1) < newSortableId('evt', now), 'an earlier millisecond sorts first');
  assert.ok(newSortableId('evt', now) < newSortableId('evt', now + 1));
});
