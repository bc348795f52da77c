// Applies the plain .sql files in ./migrations in name order, each recorded with a SHA-256
// checksum. An applied migration whose file changed afterwards stops the start: the database
// would no longer match the code that reads it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Database, Queryable } from './database.ts';

export const migrationsDirectory = path.join(import.meta.dirname, 'migrations');

export type Migration = { readonly name: string; readonly sql: string; readonly checksum: string };

export class MigrationError extends Error {
  readonly migration: string;
  constructor(migration: string, message: string) {
    super(message);
    this.name = 'MigrationError';
    this.migration = migration;
  }
}

export function readMigrations(directory: string = migrationsDirectory): Migration[] {
  return fs
    .readdirSync(directory)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => {
      const sql = fs.readFileSync(path.join(directory, file), 'utf8');
      return { name: file, sql, checksum: crypto.createHash('sha256').update(sql).digest('hex') };
    });
}

const createTableSql = `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    name text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`;

// Any constant works; it only has to be the same in every Payrail process sharing a database.
const migrationLockKey = 7_250_001;

async function appliedMigrations(tx: Queryable): Promise<Map<string, string>> {
  const result = await tx.query<{ name: string; checksum: string }>(
    'SELECT name, checksum FROM schema_migrations',
  );
  return new Map(result.rows.map((row) => [row.name, row.checksum]));
}

function checkUnchanged(migrations: readonly Migration[], applied: Map<string, string>): void {
  for (const migration of migrations) {
    const checksum = applied.get(migration.name);
    if (checksum !== undefined && checksum !== migration.checksum) {
      throw new MigrationError(
        migration.name,
        `migration ${migration.name} was changed after it was applied (checksum ${checksum.slice(0, 12)}… in the database, ` +
          `${migration.checksum.slice(0, 12)}… on disk); restore the file and add a new migration instead`,
      );
    }
  }
}

/** Applies every pending migration in one transaction; returns the names it applied. */
export async function migrate(
  database: Database,
  migrations: readonly Migration[] = readMigrations(),
): Promise<string[]> {
  return database.transaction(async (tx) => {
    // Serializes concurrent starts of several processes against one database.
    await tx.query('SELECT pg_advisory_xact_lock($1)', [migrationLockKey]);
    await tx.exec(createTableSql);
    const applied = await appliedMigrations(tx);
    checkUnchanged(migrations, applied);
    const newlyApplied: string[] = [];
    for (const migration of migrations) {
      if (applied.has(migration.name)) continue;
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [
        migration.name,
        migration.checksum,
      ]);
      newlyApplied.push(migration.name);
    }
    return newlyApplied;
  });
}

/** For /readyz: every migration on disk is applied, unchanged. */
export async function pendingMigrations(
  database: Database,
  migrations: readonly Migration[] = readMigrations(),
): Promise<string[]> {
  const exists = await database.query<{ present: boolean }>(
    "SELECT to_regclass('schema_migrations') IS NOT NULL AS present",
  );
  if (exists.rows[0]?.present !== true) return migrations.map((migration) => migration.name);
  const applied = await appliedMigrations(database);
  checkUnchanged(migrations, applied);
  return migrations
    .filter((migration) => !applied.has(migration.name))
    .map((migration) => migration.name);
}
