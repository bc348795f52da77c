// The module-level import cycle check of `npm run deps`: it must find a cycle through several
// modules, and none in a layered graph.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cyclesOf } from '../../scripts/module-cycles.ts';

test('a cycle through three modules is found, with only its members', () => {
  const edges = new Map([
    ['src/http', ['src/payments']],
    ['src/payments', ['src/events']],
    ['src/events', ['src/webhooks']],
    ['src/webhooks', ['src/payments', 'src/storage']],
    ['src/storage', []],
  ]);
  assert.deepEqual(cyclesOf(edges), [['src/events', 'src/payments', 'src/webhooks']]);
});

test('a layered graph has no cycle, and two separate cycles are both found', () => {
  const layered = new Map([
    ['src/http', ['src/payments', 'src/storage']],
    ['src/payments', ['src/storage']],
    ['src/storage', []],
  ]);
  assert.deepEqual(cyclesOf(layered), []);
  const two = new Map([
    ['a', ['b']],
    ['b', ['a']],
    ['c', ['d']],
    ['d', ['c']],
  ]);
  assert.deepEqual(cyclesOf(two).sort(), [
    ['a', 'b'],
    ['c', 'd'],
  ]);
});
