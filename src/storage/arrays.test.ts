import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { integerArrayLiteral, textArrayLiteral } from './arrays.ts';
import type { Database } from './database.ts';
import { openPglite } from './pglite.ts';

let database: Database;
before(async () => {
  database = await openPglite('memory://');
});
after(() => database.close());

test('text arrays round-trip any content, including quotes, backslashes, braces, commas and NULL', async () => {
  const values = [
    'plain',
    'with "quotes"',
    'back\\slash',
    '{braces}',
    'a,b',
    '',
    'NULL',
    ' spaced ',
    'ünïcödé',
    null,
  ];
  const result = await database.query<{ value: string | null }>(
    'SELECT unnest($1::text[]) AS value',
    [textArrayLiteral(values)],
  );
  assert.deepEqual(
    result.rows.map((row) => row.value),
    values,
  );
});

test('integer arrays round-trip bigint beyond 2^53', async () => {
  const values = [0n, -5n, 2n ** 62n, 9_007_199_254_740_993n];
  const result = await database.query<{ value: bigint }>('SELECT unnest($1::bigint[]) AS value', [
    integerArrayLiteral(values),
  ]);
  assert.deepEqual(
    result.rows.map((row) => row.value),
    values,
  );
  const empty = await database.query('SELECT unnest($1::bigint[]) AS value', [
    integerArrayLiteral([]),
  ]);
  assert.equal(empty.rows.length, 0);
});
