// PostgreSQL adapter (node-postgres pool). int8 and int8[] come back as bigint.
import crypto from 'node:crypto';
import pg from 'pg';
import type { Database, QueryResult, Queryable, Row, TransactionOptions } from './database.ts';
import { beginStatement, runWithRetries } from './database.ts';

const int8Oid = 20;
const int8ArrayOid = 1016;

function typeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
  if (oid === int8Oid) return (value: string) => BigInt(value);
  if (oid === int8ArrayOid) {
    const parseArray = pg.types.getTypeParser(int8ArrayOid as never, 'text') as (
      value: string,
    ) => (string | null)[];
    return (value: string) =>
      parseArray(value).map((item) => (item === null ? null : BigInt(item)));
  }
  return pg.types.getTypeParser(oid as never, format ?? 'text') as (value: string) => unknown;
}

const statementNames = new Map<string, string>();
const statementNamesMax = 2000;

function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (name === undefined) {
    name = `payrail_${crypto.createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
    // Bounded: the set of statements is fixed by the code, but a cache must never grow unchecked.
    if (statementNames.size >= statementNamesMax) statementNames.clear();
    statementNames.set(sql, name);
  }
  return name;
}

export type PostgresOptions = {
  connectionString: string;
  poolSize: number;
  applicationName?: string;
};

export function openPostgres(options: PostgresOptions): Database {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize,
    application_name: options.applicationName ?? 'payrail',
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    types: { getTypeParser: typeParser } as unknown as pg.CustomTypesConfig,
  });
  // An idle client that loses its connection emits here; without a listener the process would crash.
  pool.on('error', () => {});

  const runQuery = async <R extends Row>(
    client: pg.Pool | pg.PoolClient,
    sql: string,
    parameters?: readonly unknown[],
  ): Promise<QueryResult<R>> => {
    // Parameterized statements are prepared once per connection under a name derived from their
    // text, so PostgreSQL parses and plans each distinct statement once instead of every time.
    const config =
      parameters === undefined || parameters.length === 0
        ? { text: sql }
        : { name: statementName(sql), text: sql, values: parameters as unknown[] };
    const result = await client.query<R>(config);
    return { rows: result.rows, rowCount: result.rowCount ?? 0 };
  };

  return {
    kind: 'postgres',
    query: (sql, parameters) => runQuery(pool, sql, parameters),
    async exec(sql) {
      await pool.query(sql);
    },
    transaction<T>(
      work: (tx: Queryable) => Promise<T>,
      transactionOptions?: TransactionOptions,
    ): Promise<T> {
      return runWithRetries(async () => {
        const client = await pool.connect();
        let broken = false;
        try {
          await client.query(beginStatement(transactionOptions));
          const result = await work({
            query: (sql, parameters) => runQuery(client, sql, parameters),
            exec: async (sql) => {
              await client.query(sql);
            },
          });
          await client.query('COMMIT');
          return result;
        } catch (error) {
          try {
            await client.query('ROLLBACK');
          } catch {
            broken = true;
          }
          throw error;
        } finally {
          client.release(broken);
        }
      }, transactionOptions);
    },
    async close() {
      await pool.end();
    },
  };
}
