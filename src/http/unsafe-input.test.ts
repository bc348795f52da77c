import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findNonFiniteNumber, findUnsafeInput, nestingDepthMax } from './unsafe-input.ts';

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let level = 0; level < depth; level++) value = level % 2 === 0 ? { a: value } : [value];
  return value;
}

test('nesting a million levels deep is refused without overflowing the stack', () => {
  const issue = findUnsafeInput({ metadata: nested(1_000_000) });
  assert.equal(issue?.keyword, 'maxDepth');
  assert.equal(issue?.instancePath, '/metadata');
  // The same value parsed from JSON text, as a request body would be.
  const text = `{"x":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
  assert.equal(findUnsafeInput(JSON.parse(text))?.instancePath, '/x');
});

test('nesting up to the limit is accepted', () => {
  assert.equal(findUnsafeInput(nested(nestingDepthMax)), undefined);
  assert.equal(findUnsafeInput(nested(nestingDepthMax + 1))?.keyword, 'maxDepth');
});

test('lone surrogates and U+0000 are found in values and keys, naming where', () => {
  assert.deepEqual(
    [
      { description: 'a\ud800' },
      { metadata: { k: 'x\udc00y' } },
      { metadata: { 'k\ud800': 'v' } },
      { 'top\udfff': 'v' },
      { list: ['ok', 'a\u0000b'] },
      { 'a/b~c': '\u0000' },
    ].map((value) => {
      const issue = findUnsafeInput(value);
      return [issue?.instancePath, issue?.propertyName, issue?.message];
    }),
    [
      ['/description', undefined, 'must not contain an unpaired UTF-16 surrogate'],
      ['/metadata/k', undefined, 'must not contain an unpaired UTF-16 surrogate'],
      ['/metadata', 'k\ud800', 'must not contain an unpaired UTF-16 surrogate'],
      ['/top\udfff', undefined, 'must not contain an unpaired UTF-16 surrogate'],
      ['/list/1', undefined, 'must not contain the character U+0000'],
      ['/a~1b~0c', undefined, 'must not contain the character U+0000'],
    ],
  );
  // A surrogate pair is a character like any other.
  assert.equal(findUnsafeInput({ name: 'caf\u00e9 \ud83d\ude00' }), undefined);
});

test('non-finite numbers are found wherever the validator put them', () => {
  assert.equal(findNonFiniteNumber({ a: 1, b: [2, Infinity] })?.instancePath, '/b/1');
  assert.equal(findNonFiniteNumber({ a: Number.NaN })?.instancePath, '/a');
  assert.equal(findNonFiniteNumber({ a: 1e300, b: -5 }), undefined);
});
