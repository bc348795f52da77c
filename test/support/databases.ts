// Test databases: an in-memory PGlite and a throw-away database on the local PostgreSQL
// (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres). Each Postgres test
// database has a unique name and is dropped afterwards, so runs never collide.
import crypto from 'node:crypto';
import pg from 'pg';
import type { Database } from '../../src/storage/database.ts';
import { migrate } from '../../src/storage/migrations.ts';
import { openPglite } from '../../src/storage/pglite.ts';
import { openPostgres } from '../../src/storage/postgres.ts';

export const adminDatabaseUrl =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export type TestDatabase = { database: Database; url: string | undefined; drop(): Promise<void> };

export async function createPostgresDatabase(
  prefix = 'payrail_test',
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminDatabaseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminDatabaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminDatabaseUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

export async function openTestDatabase(
  kind: 'pglite' | 'postgres',
  options: { poolSize?: number; migrated?: boolean } = {},
): Promise<TestDatabase> {
  if (kind === 'pglite') {
    const database = await openPglite('memory://');
    if (options.migrated !== false) await migrate(database);
    return { database, url: undefined, drop: () => database.close() };
  }
  const created = await createPostgresDatabase();
  const database = openPostgres({
    connectionString: created.url,
    poolSize: options.poolSize ?? 10,
  });
  if (options.migrated !== false) await migrate(database);
  return {
    database,
    url: created.url,
    async drop() {
      await database.close();
      await created.drop();
    },
  };
}

export const databaseKinds = ['pglite', 'postgres'] as const;
