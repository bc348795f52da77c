import assert from 'node:assert/strict';
import { test } from 'node:test';
import { faultPoints, noFaults } from '../fault-points.ts';
import { crashAt, faultInjector } from './faults.ts';

test('without a configured point nothing happens at any point', () => {
  assert.equal(faultInjector(undefined), noFaults);
  for (const point of faultPoints) noFaults.reach(point);
});

test('a configured point kills at that point only', () => {
  for (const configured of faultPoints) {
    const reached: string[] = [];
    const injector = crashAt(configured, () => reached.push(configured));
    for (const point of faultPoints) injector.reach(point);
    assert.deepEqual(reached, [configured]);
  }
});
