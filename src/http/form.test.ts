import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FormError, formEncoded, parseForm, parseQuery, queryError } from './form.ts';

test('bracket notation becomes nested objects and arrays', () => {
  const parsed = parseForm(
    'amount=2000&currency=usd&metadata[order_id]=6735&card[exp_month]=12' +
      '&items[0][price]=5&items[1][price]=6&tags[]=a&tags[]=b&note=a+b%26c',
  );
  assert.deepEqual(
    { ...parsed },
    {
      amount: '2000',
      currency: 'usd',
      metadata: { order_id: '6735' },
      card: { exp_month: '12' },
      items: [{ price: '5' }, { price: '6' }],
      tags: ['a', 'b'],
      note: 'a b&c',
    },
  );
  assert.equal((parsed as Record<symbol, unknown>)[formEncoded], true);
});

test('malformed forms are refused with a clear error', () => {
  assert.throws(() => parseForm('a=%E0%A4%A'), FormError);
  assert.throws(() => parseForm('a]=1'), FormError);
  assert.throws(() => parseForm('a=1&a[b]=2'), FormError);
  assert.throws(() => parseForm('__proto__[x]=1'), FormError);
  assert.throws(() => parseForm('a[b][c][d][e][f][g]=1'), FormError);
  assert.throws(
    () => parseForm(Array.from({ length: 1001 }, (_, index) => `k${index}=1`).join('&')),
    FormError,
  );
});

test('a field given twice or holding U+0000 is refused naming the field', () => {
  for (const [text, param] of [
    ['amount=1000&amount=5', 'amount'],
    ['card[number]=4242&card[number]=1', 'card[number]'],
    ['card[cvc]=1&card=2', 'card'],
    ['note=a%00b', 'note'],
  ] as const) {
    assert.throws(
      () => parseForm(text),
      (error: unknown) =>
        error instanceof FormError && error.param === param && error.message.includes(param),
      text,
    );
  }
  assert.throws(
    () => parseForm('a%00=1'),
    (error: unknown) => error instanceof FormError && error.param === undefined,
  );
  assert.deepEqual({ ...parseForm('tags[]=a&tags[]=a') }, { tags: ['a', 'a'] });
});

test('a form nested too deep is refused naming its top-level field, whatever the depth', () => {
  for (const depth of [6, 100_000]) {
    assert.throws(
      () => parseForm(`metadata${'[a]'.repeat(depth)}=1`),
      (error: unknown) => error instanceof FormError && error.param === 'metadata',
      String(depth),
    );
  }
});

test('a query string is read in the same notation and never throws', () => {
  assert.deepEqual(
    { ...parseQuery('types[]=a&types[]=b&created[gte]=10&expand[0]=customer&limit=3') },
    { types: ['a', 'b'], created: { gte: '10' }, expand: ['customer'], limit: '3' },
  );
  const malformed = parseQuery('limit=1&limit=2');
  const error = (malformed as Record<symbol, unknown>)[queryError];
  assert.ok(error instanceof FormError);
  assert.equal(error.message, "The query parameter 'limit' is given more than once.");
  assert.equal(error.param, 'limit');
  assert.deepEqual(Object.keys(malformed), []);
});
