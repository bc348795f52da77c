// The shape comparison itself (shape.ts), on small declarations written here, so it cannot pass
// silently: each kind of difference it must find is shown to be found, and a value in the
// declared shape is shown to pass. The last tests run it on the SDK's own types.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  checkLists,
  compareShape,
  loadTypeSource,
  maxShapeDepth,
  resolvePath,
  stripeTypes,
  type ShapeLists,
  type TypeSource,
} from './shape.ts';
import { extensions, unsupported } from './unsupported.ts';

const declarations = `
type OtherString = string & Record<never, never>;
interface List<T> { object: 'list'; data: Array<T>; has_more: boolean; url: string }
export interface Owner { id: string; object: 'owner'; name: string | null }
export interface DeletedOwner { id: string; object: 'owner'; deleted: true }
export interface Thing {
  id: string;
  object: 'thing';
  status: 'open' | 'closed' | OtherString;
  count: number;
  note: string | null;
  active: boolean;
  tags: Array<string>;
  owner: string | Owner | DeletedOwner | null;
  detail: Thing.Detail | null;
  metadata: { [key: string]: string };
  optional?: string;
  not_yet: string;
}
export declare namespace Thing {
  interface Detail { code: Detail.Code; items: Array<Detail.Item> }
  namespace Detail {
    type Code = 'a' | 'b';
    interface Item { amount: number }
  }
}
export interface Chain { id: string; next: Chain | null }
export type Thing__list = List<Thing>;
`;

let synthetic: TypeSource | undefined;
const source = () =>
  (synthetic ??= loadTypeSource('/virtual/synthetic-shapes.ts', declarations, [
    'Thing',
    'Owner',
    'Chain',
  ]));

const lists: ShapeLists = {
  unsupported: { Thing: { not_yet: 'coming later' } },
  extensions: { Thing: { connector: 'which connector', 'detail.extra': 'ours' } },
};

function thing(changes: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'th_1',
    object: 'thing',
    status: 'open',
    count: 3,
    note: null,
    active: true,
    tags: ['x', 'y'],
    owner: 'own_1',
    detail: { code: 'a', items: [{ amount: 1 }, { amount: 2 }] },
    metadata: { order: '7' },
    connector: 'simulator',
    ...changes,
  };
}

const compare = (value: unknown, shapeLists: ShapeLists = lists) =>
  compareShape(source(), shapeLists, value, 'Thing');

function assertOne(problems: string[], ...fragments: string[]) {
  assert.equal(problems.length, 1, problems.join('\n'));
  for (const fragment of fragments) assert.match(problems[0]!, new RegExp(escape(fragment)));
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('the shape comparison', () => {
  test('a value in the declared shape passes, lists and all', () => {
    assert.deepEqual(compare(thing()), []);
    const full = thing({
      optional: 'given',
      owner: { id: 'own_1', object: 'owner', name: 'Ada' },
      detail: { code: 'b', items: [], extra: true },
    });
    assert.deepEqual(compare(full), []);
  });

  test('a field Stripe has that is neither returned nor listed fails', () => {
    const { note: _omitted, ...value } = thing();
    assertOne(compare(value), 'Thing.note', 'does not return it');
  });

  test('an optional field may be left out', () => {
    assert.deepEqual(compare(thing()), []);
    assert.equal(Object.hasOwn(thing(), 'optional'), false);
  });

  test('a field listed as unsupported that is returned fails: the list only shrinks', () => {
    assertOne(compare(thing({ not_yet: 'here' })), 'Thing.not_yet', 'remove it from the list');
  });

  test('a listed mismatch passes while it differs and fails once it matches', () => {
    const mismatch: ShapeLists = { ...lists, unsupported: { Thing: { count: 'mismatch: text' } } };
    assert.deepEqual(compare(thing({ count: 'three', not_yet: 'x' }), mismatch), []);
    assertOne(compare(thing({ not_yet: 'x' }), mismatch), 'Thing.count', 'now matches');
  });

  test('a wrong JSON type fails, naming the field and both types', () => {
    assertOne(compare(thing({ count: '3' })), 'Thing.count', 'string "3"', 'number');
    assertOne(compare(thing({ active: 'yes' })), 'Thing.active', 'boolean');
    assertOne(compare(thing({ id: null })), 'Thing.id', 'returns null');
    assertOne(compare(thing({ tags: 'x' })), 'Thing.tags', 'array');
    assertOne(compare(thing({ detail: 'd' })), 'Thing.detail', 'object | null');
  });

  test('a literal outside the union fails, even where the SDK leaves the union open', () => {
    assertOne(compare(thing({ status: 'failed' })), 'Thing.status', '"failed" is not among');
    const detail = { code: 'c', items: [] };
    assertOne(compare(thing({ detail })), 'Thing.detail.code', '"c"');
  });

  test('array elements and nested objects are compared', () => {
    assertOne(compare(thing({ tags: ['x', 2] })), 'Thing.tags[]', 'number 2');
    const detail = { code: 'a', items: [{ amount: 1 }, { amount: 'two' }] };
    assertOne(compare(thing({ detail })), 'Thing.detail.items[].amount');
    const { items: _items, ...withoutItems } = { code: 'a', items: [] };
    assertOne(compare(thing({ detail: withoutItems })), 'Thing.detail.items', 'does not return');
    assertOne(compare(thing({ metadata: { order: 7 } })), 'Thing.metadata.order', 'number 7');
  });

  test('a field Stripe does not have fails unless listed as an extension', () => {
    assertOne(compare(thing({ surprise: 1 })), 'Thing.surprise', 'Stripe does not have it');
    const detail = { code: 'a', items: [], other: 1 };
    assertOne(compare(thing({ detail })), 'Thing.detail.other', 'extension');
    const noExtensions: ShapeLists = { ...lists, extensions: {} };
    assertOne(compare(thing(), noExtensions), 'Thing.connector', 'Stripe does not have it');
  });

  test('an expandable field takes an id or the expanded object, compared under its own name', () => {
    assert.deepEqual(compare(thing({ owner: null })), []);
    const deleted = { id: 'own_1', object: 'owner', deleted: true };
    assert.deepEqual(compare(thing({ owner: deleted })), []);
    const expanded = { id: 'own_1', object: 'owner', name: 5 };
    assertOne(compare(thing({ owner: expanded })), 'Owner.name (at owner.name)', 'number 5');
    const stranger = { id: 'car_1', object: 'car' };
    assertOne(compare(thing({ owner: stranger })), 'Thing.owner', 'no Stripe type fits');
    assertOne(compare(thing({ owner: 42 })), 'Thing.owner', 'string | object | null');
  });

  test('a list envelope is compared with its items', () => {
    const list = { object: 'list', data: [thing(), thing({ count: 'x' })], has_more: false };
    const problems = compareShape(source(), lists, { ...list, url: '/v1/things' }, 'Thing', {
      envelope: 'list',
    });
    assertOne(problems, 'Thing.count (at data[].count)');
    const bare = compareShape(source(), lists, { ...list, data: [] }, 'Thing', {
      envelope: 'list',
    });
    assertOne(bare, 'list of Thing.url', 'does not return');
  });

  test('the walk is bounded in depth', () => {
    let chain: Record<string, unknown> = { id: 'c0', next: null };
    for (let level = 1; level <= maxShapeDepth + 5; level += 1) {
      chain = { id: `c${level}`, next: chain };
    }
    const problems = compareShape(source(), lists, chain, 'Chain');
    assert.ok(problems.length > 0);
    for (const problem of problems) assert.match(problem, /nested deeper than \d+, not compared/);
    let shallow: Record<string, unknown> = { id: 'c0', next: null };
    for (let level = 1; level < maxShapeDepth / 2; level += 1) {
      shallow = { id: `c${level}`, next: shallow };
    }
    assert.deepEqual(compareShape(source(), lists, shallow, 'Chain'), []);
  });

  test('the lists must name fields the type has, and extensions fields it lacks', () => {
    assert.deepEqual(checkLists(source(), lists), []);
    const wrong: ShapeLists = {
      unsupported: { Thing: { nope: 'x', 'detail.items[].amount': 'fine' }, Ghost: { a: 'x' } },
      extensions: { Thing: { count: 'x', 'nowhere.deep': 'x' } },
    };
    assert.deepEqual(checkLists(source(), wrong), [
      "unsupported.Thing: Stripe's Thing has no field nope",
      'unsupported.Ghost: no such object type in the type source',
      'extensions.Thing: count is a Stripe field, not an extension',
      'extensions.Thing: nowhere.deep sits under nowhere, which Stripe lacks',
    ]);
  });
});

describe("the shape comparison on the SDK's types", () => {
  const projectLists: ShapeLists = { unsupported, extensions };

  test('nested namespaces, literal unions and expandables of Stripe.PaymentIntent resolve', () => {
    const types = stripeTypes();
    const intent = types.objects.get('PaymentIntent')!;
    const code = resolvePath(types.checker, intent, 'last_payment_error.code');
    assert.ok(code && code.length === 1);
    assert.match(types.checker.typeToString(code[0]!), /Code/);
    assert.ok(resolvePath(types.checker, intent, 'latest_charge.outcome.risk_level'));
    assert.equal(resolvePath(types.checker, intent, 'latest_charge.no_such_field'), undefined);
  });

  test('a search result envelope', () => {
    const result = {
      object: 'search_result',
      data: [],
      has_more: false,
      next_page: null,
      url: '/v1/payment_intents/search',
    };
    const compare = (value: unknown) =>
      compareShape(stripeTypes(), projectLists, value, 'PaymentIntent', { envelope: 'search' });
    assert.deepEqual(compare(result), []);
    assert.ok(compare({ ...result, next_page: 3 }).some((p) => /next_page: .*number 3/.test(p)));
    const { next_page: _omitted, ...withoutNext } = result;
    assert.ok(compare(withoutNext).some((p) => /search of PaymentIntent\.next_page/.test(p)));
  });

  test('a PaymentIntent status Stripe does not have, and a wrong nested type, are found', () => {
    const problems = compareShape(
      stripeTypes(),
      projectLists,
      { object: 'payment_intent', status: 'failed', last_payment_error: { code: 7 } },
      'PaymentIntent',
    );
    assert.ok(problems.some((p) => /PaymentIntent\.status: "failed" is not among/.test(p)));
    assert.ok(problems.some((p) => /PaymentIntent\.last_payment_error\.code: .*number 7/.test(p)));
    assert.ok(problems.some((p) => /PaymentIntent\.amount: .*does not return it/.test(p)));
  });

  test('an event is compared with the event type its `type` names, and its object too', () => {
    const event = {
      id: 'evt_1',
      object: 'event',
      api_version: null,
      created: 1,
      livemode: false,
      type: 'payment_intent.created',
      data: { object: { id: 'pi_1', object: 'payment_intent', amount: 'ten' } },
    };
    const problems = compareShape(stripeTypes(), projectLists, event, 'Event');
    assert.ok(problems.some((p) => /PaymentIntent\.amount \(at data\.object\.amount\)/.test(p)));
    const unknown = compareShape(
      stripeTypes(),
      projectLists,
      { ...event, type: 'payment_intent.exploded' },
      'Event',
    );
    assert.ok(
      unknown.some((p) => /no Stripe type fits/.test(p)),
      unknown.join('\n'),
    );
  });
});
