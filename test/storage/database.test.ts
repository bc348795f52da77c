// The storage adapters: bigint for int8, transactions that commit or leave nothing, and the retry
// loop for transient conflicts. Runs on embedded PGlite and on the real PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { Database, Queryable } from '../../src/storage/database.ts';
import { defaultTransactionAttempts, sqlState } from '../../src/storage/database.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/databases.ts';

const beyondDoubles = 2n ** 53n + 1n; // 9007199254740993: not representable as a number
const int8Max = 2n ** 63n - 1n;
const int8Min = -(2n ** 63n);

/** An error shaped like a driver error carrying a SQLSTATE. */
function errorWithCode(code: string, message = `fake ${code}`): Error {
  return Object.assign(new Error(message), { code });
}

/** Resolves every waiter once `parties` of them are waiting. */
function barrier(parties: number): () => Promise<void> {
  let waiting = 0;
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  return () => {
    waiting++;
    if (waiting >= parties) release();
    return released;
  };
}

for (const kind of databaseKinds) {
  describe(`database adapter on ${kind}`, () => {
    let testDatabase: TestDatabase;
    let database: Database;
    before(async () => {
      testDatabase = await openTestDatabase(kind, { migrated: false, poolSize: 4 });
      database = testDatabase.database;
      await database.exec(`
        CREATE TABLE numbers (id int PRIMARY KEY, value bigint, values_list bigint[]);
        CREATE TABLE items (id text PRIMARY KEY, attempt int);
        CREATE TABLE counters (id int PRIMARY KEY, value bigint NOT NULL);
      `);
    });
    after(() => testDatabase.drop());
    beforeEach(async () => {
      await database.exec(
        'DELETE FROM items; DELETE FROM counters; INSERT INTO counters VALUES (1, 0), (2, 0);',
      );
    });

    async function itemIds(): Promise<string[]> {
      return (await database.query<{ id: string }>('SELECT id FROM items ORDER BY id')).rows.map(
        (row) => row.id,
      );
    }

    describe('int8 is bigint', () => {
      test('int8 scalars come back as bigint, exactly, beyond 2^53', async () => {
        const result = await database.query(
          `SELECT 9007199254740993::int8 AS beyond, 9223372036854775807::int8 AS max, (-9223372036854775808)::int8 AS min,
                  0::int8 AS zero, NULL::int8 AS missing, count(*) AS counted, 7::int4 AS small`,
        );
        const row = result.rows[0];
        assert.ok(row !== undefined);
        assert.equal(typeof row.beyond, 'bigint');
        assert.equal(row.beyond, beyondDoubles);
        assert.equal(row.max, int8Max);
        assert.equal(row.min, int8Min);
        assert.equal(row.zero, 0n);
        assert.equal(row.missing, null);
        assert.equal(row.counted, 1n);
        // int4 stays a number.
        assert.equal(row.small, 7);
      });

      test('int8[] comes back as bigint[] (with NULLs and the empty array)', async () => {
        const result = await database.query(
          `SELECT ARRAY[9007199254740993, -9223372036854775808, 9223372036854775807, NULL, 0]::int8[] AS list,
                  '{}'::int8[] AS empty, ARRAY[1, 2]::int8[] AS small`,
        );
        const row = result.rows[0];
        assert.ok(row !== undefined);
        assert.deepEqual(row.list, [beyondDoubles, int8Min, int8Max, null, 0n]);
        assert.deepEqual(row.empty, []);
        assert.deepEqual(row.small, [1n, 2n]);
      });

      test('bigint parameters round-trip, as scalars and arrays, through a table', async () => {
        const echoed = await database.query(
          'SELECT $1::int8 AS a, $2::int8 AS b, $3::int8[] AS list, $1::int8 + 1 AS sum_overflowing_double',
          [int8Max - 1n, int8Min, [beyondDoubles, -beyondDoubles]],
        );
        assert.deepEqual(echoed.rows[0], {
          a: int8Max - 1n,
          b: int8Min,
          list: [beyondDoubles, -beyondDoubles],
          sum_overflowing_double: int8Max,
        });

        await database.query(
          'INSERT INTO numbers (id, value, values_list) VALUES ($1, $2, $3), ($4, $5, $6)',
          [1, beyondDoubles, [int8Max, int8Min], 2, -1n, []],
        );
        const stored = await database.query(
          'SELECT id, value, values_list FROM numbers WHERE value = $1 OR value = $2 ORDER BY id',
          [beyondDoubles, -1n],
        );
        assert.deepEqual(stored.rows, [
          { id: 1, value: beyondDoubles, values_list: [int8Max, int8Min] },
          { id: 2, value: -1n, values_list: [] },
        ]);
        // The value is compared in the database as the exact integer, not a rounded double.
        const neighbour = await database.query('SELECT id FROM numbers WHERE value = $1', [
          beyondDoubles - 1n,
        ]);
        assert.equal(neighbour.rows.length, 0);
      });

      test('int8 inside a transaction is bigint too', async () => {
        const value = await database.transaction(
          async (tx) =>
            (
              await tx.query<{ v: bigint; list: bigint[] }>(
                'SELECT $1::int8 AS v, ARRAY[$1::int8] AS list',
                [beyondDoubles],
              )
            ).rows[0],
        );
        assert.deepEqual(value, { v: beyondDoubles, list: [beyondDoubles] });
      });
    });

    describe('rowCount', () => {
      test('counts the rows written by INSERT, UPDATE and DELETE', async () => {
        assert.equal(
          (await database.query(`INSERT INTO items (id) VALUES ('a'), ('b'), ('c')`)).rowCount,
          3,
        );
        assert.equal(
          (await database.query(`UPDATE items SET attempt = 1 WHERE id <> 'a'`)).rowCount,
          2,
        );
        assert.equal((await database.query(`DELETE FROM items WHERE id = 'zzz'`)).rowCount, 0);
        assert.equal((await database.query(`DELETE FROM items`)).rowCount, 3);
      });

      // node-postgres reports the number of rows a SELECT returned; both adapters share one interface.
      test('counts the rows returned by SELECT, the same on both adapters', async () => {
        await database.query(`INSERT INTO items (id) VALUES ('a'), ('b'), ('c')`);
        const result = await database.query('SELECT id FROM items');
        assert.equal(result.rows.length, 3);
        assert.equal(result.rowCount, 3);
      });
    });

    describe('transaction', () => {
      test('commits all its statements and returns the work result', async () => {
        const result = await database.transaction(async (tx) => {
          await tx.query(`INSERT INTO items (id) VALUES ('a')`);
          await tx.query(`INSERT INTO items (id) VALUES ('b')`);
          await tx.exec(`INSERT INTO items (id) VALUES ('c'); INSERT INTO items (id) VALUES ('d')`);
          // Uncommitted writes are visible inside.
          return (await tx.query<{ n: bigint }>('SELECT count(*) AS n FROM items')).rows[0]?.n;
        });
        assert.equal(result, 4n);
        assert.deepEqual(await itemIds(), ['a', 'b', 'c', 'd']);
      });

      test('an error thrown by the work rolls everything back and is rethrown as is', async () => {
        const failure = new Error('work failed');
        let attempts = 0;
        await assert.rejects(
          database.transaction(async (tx) => {
            attempts++;
            await tx.query(`INSERT INTO items (id) VALUES ('a')`);
            await tx.query(`UPDATE counters SET value = 99 WHERE id = 1`);
            throw failure;
          }),
          (error: unknown) => error === failure,
        );
        assert.equal(attempts, 1);
        assert.deepEqual(await itemIds(), []);
        assert.equal(
          (await database.query('SELECT value FROM counters WHERE id = 1')).rows[0]?.value,
          0n,
        );
      });

      test('a failing statement rolls back the statements before it', async () => {
        await assert.rejects(
          database.transaction(async (tx) => {
            await tx.query(`INSERT INTO items (id) VALUES ('a')`);
            await tx.query('SELECT 1 / 0');
          }),
          (error: unknown) => sqlState(error) === '22012',
        );
        assert.deepEqual(await itemIds(), []);
      });

      test('the connection is usable again after many failed transactions', async () => {
        for (let i = 0; i < 12; i++) {
          await assert.rejects(database.transaction((tx) => tx.query('SELECT 1 / 0')));
          await assert.rejects(
            database.transaction(async () => {
              throw new Error('plain');
            }),
          );
        }
        const result = await database.transaction((tx) =>
          tx.query<{ one: number }>('SELECT 1 AS one'),
        );
        assert.equal(result.rows[0]?.one, 1);
      });

      test('a unique violation is not retried: thrown at once after one attempt', async () => {
        await database.query(`INSERT INTO items (id) VALUES ('taken')`);
        let attempts = 0;
        await assert.rejects(
          database.transaction(async (tx) => {
            attempts++;
            await tx.query(`INSERT INTO items (id) VALUES ('fresh')`);
            await tx.query(`INSERT INTO items (id) VALUES ('taken')`);
          }),
          (error: unknown) => sqlState(error) === '23505',
        );
        assert.equal(attempts, 1);
        assert.deepEqual(await itemIds(), ['taken']);
      });

      test('a transient conflict is retried until the work succeeds; failed attempts leave nothing', async () => {
        let attempts = 0;
        const result = await database.transaction(async (tx) => {
          attempts++;
          await tx.query('INSERT INTO items (id, attempt) VALUES ($1, $2)', [
            `attempt-${attempts}`,
            attempts,
          ]);
          if (attempts === 1) throw errorWithCode('40001', 'could not serialize access');
          if (attempts === 2) throw errorWithCode('40P01', 'deadlock detected');
          return 'done';
        });
        assert.equal(result, 'done');
        assert.equal(attempts, 3);
        assert.deepEqual(await itemIds(), ['attempt-3']);
      });

      test('maxAttempts bounds the retries; the last error is thrown', async () => {
        for (const maxAttempts of [1, 3]) {
          let attempts = 0;
          await assert.rejects(
            database.transaction(
              async (tx) => {
                attempts++;
                await tx.query('INSERT INTO items (id) VALUES ($1)', [
                  `max-${maxAttempts}-${attempts}`,
                ]);
                throw errorWithCode('40001', `attempt ${attempts}`);
              },
              { maxAttempts },
            ),
            (error: unknown) =>
              sqlState(error) === '40001' && (error as Error).message === `attempt ${maxAttempts}`,
          );
          assert.equal(attempts, maxAttempts);
        }
        let attempts = 0;
        await assert.rejects(
          database.transaction(async () => {
            attempts++;
            throw errorWithCode('40P01');
          }),
          (error: unknown) => sqlState(error) === '40P01',
        );
        assert.equal(attempts, defaultTransactionAttempts);
        assert.deepEqual(await itemIds(), []);
      });

      test('retryOn makes other errors retryable, within maxAttempts', async () => {
        let attempts = 0;
        const seen: (string | undefined)[] = [];
        await assert.rejects(
          database.transaction(
            async (tx) => {
              attempts++;
              await tx.query(`INSERT INTO items (id) VALUES ('dup'), ('dup')`);
            },
            {
              maxAttempts: 4,
              retryOn: (shape) => (seen.push(shape.constraint), shape.code === '23505'),
            },
          ),
          (error: unknown) => sqlState(error) === '23505',
        );
        assert.equal(attempts, 4);
        assert.deepEqual(seen, ['items_pkey', 'items_pkey', 'items_pkey', 'items_pkey']);

        let others = 0;
        await assert.rejects(
          database.transaction(
            async (tx) => {
              others++;
              await tx.query('SELECT 1 / 0');
            },
            { maxAttempts: 4, retryOn: (shape) => shape.code === '23505' },
          ),
          (error: unknown) => sqlState(error) === '22012',
        );
        assert.equal(others, 1);
      });
    });
  });
}

describe('transient conflicts on postgres', () => {
  let testDatabase: TestDatabase;
  let database: Database;
  before(async () => {
    testDatabase = await openTestDatabase('postgres', { migrated: false, poolSize: 6 });
    database = testDatabase.database;
    await database.exec('CREATE TABLE counters (id int PRIMARY KEY, value bigint NOT NULL)');
  });
  after(() => testDatabase.drop());
  beforeEach(async () => {
    await database.exec('DELETE FROM counters; INSERT INTO counters VALUES (1, 0), (2, 0);');
  });

  async function counter(id: number): Promise<bigint | undefined> {
    return (
      await database.query<{ value: bigint }>('SELECT value FROM counters WHERE id = $1', [id])
    ).rows[0]?.value;
  }

  /** Read-then-write increment; the first attempt of each waits until both have read. */
  function increment(bothRead: () => Promise<void>, attempts: { n: number }) {
    return async (tx: Queryable): Promise<void> => {
      attempts.n++;
      const read = await tx.query<{ value: bigint }>('SELECT value FROM counters WHERE id = 1');
      if (attempts.n === 1) await bothRead();
      await tx.query('UPDATE counters SET value = $1 WHERE id = 1', [
        (read.rows[0]?.value ?? 0n) + 1n,
      ]);
    };
  }

  test('the isolation option sets the transaction isolation level', async () => {
    for (const isolation of ['read committed', 'repeatable read', 'serializable'] as const) {
      const level = await database.transaction(
        (tx) =>
          tx.query<{ level: string }>("SELECT current_setting('transaction_isolation') AS level"),
        { isolation },
      );
      assert.equal(level.rows[0]?.level, isolation);
    }
  });

  test('without retries, one of two conflicting SERIALIZABLE read-then-write transactions fails with 40001', async () => {
    const bothRead = barrier(2);
    const a = { n: 0 };
    const b = { n: 0 };
    const outcomes = await Promise.allSettled([
      database.transaction(increment(bothRead, a), { isolation: 'serializable', maxAttempts: 1 }),
      database.transaction(increment(bothRead, b), { isolation: 'serializable', maxAttempts: 1 }),
    ]);
    const failures = outcomes.filter((outcome) => outcome.status === 'rejected');
    assert.equal(failures.length, 1, JSON.stringify(outcomes.map((outcome) => outcome.status)));
    assert.equal(sqlState((failures[0] as PromiseRejectedResult).reason), '40001');
    assert.equal(a.n + b.n, 2);
    // The lost update is prevented, not silently merged.
    assert.equal(await counter(1), 1n);
  });

  test('with the retry loop both SERIALIZABLE increments succeed and both are counted', async () => {
    const bothRead = barrier(2);
    const a = { n: 0 };
    const b = { n: 0 };
    await Promise.all([
      database.transaction(increment(bothRead, a), { isolation: 'serializable' }),
      database.transaction(increment(bothRead, b), { isolation: 'serializable' }),
    ]);
    assert.equal(await counter(1), 2n);
    assert.ok(a.n + b.n >= 3, `a conflict must have been retried (attempts ${a.n} + ${b.n})`);
  });

  test('many concurrent REPEATABLE READ increments all land', async () => {
    const workers = 5;
    const perWorker = 4;
    let attempts = 0;
    await Promise.all(
      Array.from({ length: workers }, async () => {
        for (let i = 0; i < perWorker; i++) {
          await database.transaction(
            async (tx) => {
              attempts++;
              const read = await tx.query<{ value: bigint }>(
                'SELECT value FROM counters WHERE id = 1',
              );
              await tx.query('UPDATE counters SET value = $1 WHERE id = 1', [
                (read.rows[0]?.value ?? 0n) + 1n,
              ]);
            },
            { isolation: 'repeatable read', maxAttempts: 50 },
          );
        }
      }),
    );
    assert.equal(await counter(1), BigInt(workers * perWorker));
    assert.ok(attempts >= workers * perWorker);
  });

  test('a deadlock (40P01) is retried and both transactions complete', async () => {
    const bothLocked = barrier(2);
    const attempts = { a: 0, b: 0 };
    const lockBoth =
      (first: number, second: number, key: 'a' | 'b') =>
      async (tx: Queryable): Promise<void> => {
        attempts[key]++;
        await tx.query(`SET LOCAL deadlock_timeout = '50ms'`);
        await tx.query('UPDATE counters SET value = value + 1 WHERE id = $1', [first]);
        if (attempts[key] === 1) await bothLocked();
        await tx.query('UPDATE counters SET value = value + 1 WHERE id = $1', [second]);
      };
    await Promise.all([
      database.transaction(lockBoth(1, 2, 'a')),
      database.transaction(lockBoth(2, 1, 'b')),
    ]);
    assert.equal(await counter(1), 2n);
    assert.equal(await counter(2), 2n);
    assert.equal(attempts.a + attempts.b, 3);
  });

  test('a serialization failure stops after maxAttempts when it keeps happening', async () => {
    // Transaction B keeps conflicting because A commits a new write each time B has read.
    let attempts = 0;
    await assert.rejects(
      database.transaction(
        async (tx) => {
          attempts++;
          const read = await tx.query<{ value: bigint }>('SELECT value FROM counters WHERE id = 1');
          await database.query('UPDATE counters SET value = value + 100 WHERE id = 1');
          await tx.query('UPDATE counters SET value = $1 WHERE id = 1', [
            (read.rows[0]?.value ?? 0n) + 1n,
          ]);
        },
        { isolation: 'repeatable read', maxAttempts: 3 },
      ),
      (error: unknown) => sqlState(error) === '40001',
    );
    assert.equal(attempts, 3);
    assert.equal(await counter(1), 300n);
  });
});
