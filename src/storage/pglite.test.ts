import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Database } from './database.ts';
import { openPglite } from './pglite.ts';

let database: Database;
before(async () => {
  database = await openPglite('memory://');
});
after(() => database.close());

test('a query on the outer handle from inside a transaction fails at once instead of hanging', async () => {
  await assert.rejects(
    database.transaction(async () => {
      await database.query('SELECT 1');
    }),
    /would deadlock on PGlite/,
  );
  await assert.rejects(
    database.transaction(async () => database.transaction(async () => undefined)),
    /would deadlock on PGlite/,
  );
  const result = await database.transaction(async (tx) =>
    tx.query<{ one: number }>('SELECT 1 AS one'),
  );
  assert.equal(result.rows[0]?.one, 1);
  assert.equal((await database.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one, 1);
});
