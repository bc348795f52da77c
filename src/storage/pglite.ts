// Embedded PGlite adapter: Postgres compiled to WASM, in this process. One session only, so
// transactions are serialized by PGlite itself; concurrency is tested on real PostgreSQL.
import { AsyncLocalStorage } from 'node:async_hooks';
import fs from 'node:fs';
import { PGlite, types } from '@electric-sql/pglite';
import type { Database, Queryable, TransactionOptions } from './database.ts';
import { runWithRetries } from './database.ts';

/** Like node-postgres: rows returned for a SELECT, rows changed for INSERT/UPDATE/DELETE. */
function rowCount(result: { rows: unknown[]; affectedRows?: number }): number {
  return Math.max(result.rows.length, result.affectedRows ?? 0);
}

export async function openPglite(dataDirectory: string): Promise<Database> {
  if (dataDirectory !== 'memory://') fs.mkdirSync(dataDirectory, { recursive: true });
  const lite = await PGlite.create(dataDirectory, {
    parsers: { [types.INT8]: (value: string) => BigInt(value) },
  });
  // PGlite has one session: a query on the database handle from inside a transaction's work
  // would wait for that transaction, which waits for it. Fail loudly instead of hanging.
  const insideTransaction = new AsyncLocalStorage<true>();
  const refuseInsideTransaction = () => {
    if (insideTransaction.getStore() === true) {
      throw new Error(
        'a query on the database handle inside a transaction would deadlock on PGlite; use the transaction handle',
      );
    }
  };
  const query: Queryable['query'] = async (sql, parameters) => {
    refuseInsideTransaction();
    const result = await lite.query<never>(sql, parameters as unknown[] | undefined);
    return { rows: result.rows, rowCount: rowCount(result) };
  };
  return {
    kind: 'pglite',
    query,
    async exec(sql) {
      refuseInsideTransaction();
      await lite.exec(sql);
    },
    transaction<T>(work: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T> {
      refuseInsideTransaction();
      return runWithRetries(
        () =>
          lite.transaction(async (tx) =>
            insideTransaction.run(true, () =>
              work({
                query: async (sql, parameters) => {
                  const result = await tx.query<never>(sql, parameters as unknown[] | undefined);
                  return { rows: result.rows, rowCount: rowCount(result) };
                },
                exec: async (sql) => {
                  await tx.exec(sql);
                },
              }),
            ),
          ),
        options,
      );
    },
    async close() {
      await lite.close();
    },
  };
}
