import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from './errors.ts';
import { expand, expansionPlan, type Expandable, type ExpandScope } from './expand.ts';

// A registry of its own: a → b → c → d, each field naming the next object's id.
const reads: string[] = [];
const link = (type: string): Expandable => ({
  type,
  resolve: async (_scope, id) => {
    reads.push(id);
    return id === 'missing' ? undefined : { id, object: type, next: `${id}+`, other: null };
  },
});
const registry = {
  a: { next: link('b'), other: link('b') },
  b: { next: link('c') },
  c: { next: link('d') },
  d: { next: link('e') },
  e: {},
};
const scope = {} as ExpandScope;

function refused(run: () => unknown, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.param, 'expand');
    assert.match(error.message, message);
    return true;
  });
}

test('paths are checked against the registry, four levels at most, data. in lists', () => {
  assert.equal(expansionPlan('a', undefined, 'object', registry).size, 0);
  const plan = expansionPlan('a', ['next.next', 'next', 'other'], 'object', registry);
  assert.deepEqual([...plan.keys()], ['next', 'other']);
  assert.deepEqual([...(plan.get('next')?.keys() ?? [])], ['next']);
  expansionPlan('a', ['next.next.next.next'], 'object', registry);
  refused(() => expansionPlan('a', ['next.next.next.next.next'], 'object', registry), /4 levels/);
  refused(() => expansionPlan('a', ['nope'], 'object', registry), /cannot be expanded \(nope\)/);
  refused(() => expansionPlan('a', ['next.other'], 'object', registry), /next\.other/);
  refused(() => expansionPlan('a', ['__proto__'], 'object', registry), /cannot be expanded/);
  refused(() => expansionPlan('a', [''], 'object', registry), /cannot be expanded/);
  refused(() => expansionPlan('a', ['next'], 'list', registry), /data\./);
  assert.equal(expansionPlan('a', ['data.next.next.next'], 'list', registry).size, 1);
  refused(() => expansionPlan('a', ['data.next.next.next.next'], 'list', registry), /4 levels/);
  refused(
    () =>
      expansionPlan(
        'a',
        Array.from({ length: 21 }, () => 'next'),
        'object',
        registry,
      ),
    /At most 20/,
  );
});

test('expansion replaces ids level by level; null and unresolved ids stay', async () => {
  reads.length = 0;
  const object = { id: 'x', next: 'b1', other: null as unknown };
  const plan = expansionPlan('a', ['next.next.next', 'other'], 'object', registry);
  await expand(object, 'a', plan, scope, registry);
  assert.deepEqual(reads, ['b1', 'b1+', 'b1++']);
  assert.deepEqual(object, {
    id: 'x',
    other: null,
    next: {
      id: 'b1',
      object: 'b',
      other: null,
      next: {
        id: 'b1+',
        object: 'c',
        other: null,
        next: { id: 'b1++', object: 'd', other: null, next: 'b1+++' },
      },
    },
  });
  const missing = { next: 'missing' };
  await expand(
    missing,
    'a',
    expansionPlan('a', ['next.next'], 'object', registry),
    scope,
    registry,
  );
  assert.deepEqual(missing, { next: 'missing' });
});
