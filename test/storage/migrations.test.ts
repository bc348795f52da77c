// Schema migrations: applied once, in order, atomically, guarded by checksums, and safe to start
// from several processes at once (advisory lock on PostgreSQL).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Database } from '../../src/storage/database.ts';
import {
  MigrationError,
  migrate,
  pendingMigrations,
  readMigrations,
  type Migration,
} from '../../src/storage/migrations.ts';
import { openPostgres } from '../../src/storage/postgres.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/databases.ts';

/** The same checksum readMigrations computes: SHA-256 of the SQL text, in hex. */
function migration(name: string, sql: string): Migration {
  return { name, sql, checksum: crypto.createHash('sha256').update(sql).digest('hex') };
}

const onDisk = readMigrations();
const onDiskNames = onDisk.map((m) => m.name);
const extra = migration(
  '900_test_extra.sql',
  'CREATE TABLE test_extra (id int PRIMARY KEY);\nINSERT INTO test_extra VALUES (1), (2);',
);

async function recorded(
  database: Database,
): Promise<{ name: string; checksum: string; applied_at: Date }[]> {
  const result = await database.query<{ name: string; checksum: string; applied_at: Date }>(
    'SELECT name, checksum, applied_at FROM schema_migrations ORDER BY name',
  );
  return result.rows;
}

/** Tables, columns, constraints, triggers and functions of the public schema: "nothing changed". */
async function schemaSnapshot(database: Database): Promise<string> {
  const queries = [
    `SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
      WHERE table_schema = 'public' ORDER BY table_name, column_name`,
    `SELECT conrelid::regclass::text AS table_name, conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint
      WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2`,
    `SELECT tgrelid::regclass::text AS table_name, tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2`,
    `SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace ORDER BY 1`,
    `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1`,
  ];
  const parts: string[] = [];
  for (const sql of queries) parts.push(JSON.stringify((await database.query(sql)).rows));
  return parts.join('\n');
}

async function tableExists(database: Database, name: string): Promise<boolean> {
  const result = await database.query<{ present: boolean }>(
    'SELECT to_regclass($1) IS NOT NULL AS present',
    [name],
  );
  return result.rows[0]?.present === true;
}

test('readMigrations lists the .sql files in name order with their SHA-256', () => {
  assert.ok(onDisk.length >= 2);
  assert.deepEqual(onDiskNames, [...onDiskNames].sort());
  assert.ok(onDiskNames.every((name) => name.endsWith('.sql')));
  for (const m of onDisk) assert.equal(m.checksum, migration(m.name, m.sql).checksum);
});

for (const kind of databaseKinds) {
  describe(`migrations on ${kind}`, () => {
    let testDatabase: TestDatabase;
    let database: Database;
    before(async () => {
      testDatabase = await openTestDatabase(kind, { migrated: false });
      database = testDatabase.database;
    });
    after(() => testDatabase.drop());

    test('a fresh database has every migration pending and no bookkeeping table yet', async () => {
      assert.equal(await tableExists(database, 'schema_migrations'), false);
      assert.deepEqual(await pendingMigrations(database), onDiskNames);
      // Asking changes nothing.
      assert.equal(await tableExists(database, 'schema_migrations'), false);
    });

    test('migrate applies every file in order and records its checksum', async () => {
      assert.deepEqual(await migrate(database), onDiskNames);
      const rows = await recorded(database);
      assert.deepEqual(
        rows.map((row) => [row.name, row.checksum]),
        onDisk.map((m) => [m.name, m.checksum]),
      );
      for (const table of [
        'merchants',
        'api_keys',
        'ledger_accounts',
        'ledger_transactions',
        'ledger_entries',
        'ledger_holds',
      ]) {
        assert.equal(await tableExists(database, table), true, table);
      }
      assert.deepEqual(await pendingMigrations(database), []);
    });

    test('a second migrate applies nothing and changes nothing', async () => {
      const schemaBefore = await schemaSnapshot(database);
      const recordedBefore = await recorded(database);
      assert.deepEqual(await migrate(database), []);
      assert.deepEqual(await migrate(database, readMigrations()), []);
      assert.equal(await schemaSnapshot(database), schemaBefore);
      assert.deepEqual(await recorded(database), recordedBefore);
      assert.deepEqual(await pendingMigrations(database), []);
    });

    test('an applied migration whose SQL was edited stops migrate, naming the file, and applies nothing', async () => {
      const edited = onDisk.map((m, index) =>
        index === onDisk.length - 1
          ? migration(m.name, `${m.sql}\n-- edited after it was applied\n`)
          : m,
      );
      const editedName = onDisk[onDisk.length - 1]?.name ?? '';
      assert.notEqual(edited.at(-1)?.checksum, onDisk.at(-1)?.checksum);
      // A new migration after the edited one must not be applied either.
      const withNew = [
        ...edited,
        migration('900_after_edit.sql', 'CREATE TABLE after_edit (id int PRIMARY KEY);'),
      ];
      const schemaBefore = await schemaSnapshot(database);
      const recordedBefore = await recorded(database);

      for (const migrations of [edited, withNew]) {
        await assert.rejects(migrate(database, migrations), (error: unknown) => {
          assert.ok(
            error instanceof MigrationError,
            `expected MigrationError, got ${String(error)}`,
          );
          assert.equal(error.name, 'MigrationError');
          assert.equal(error.migration, editedName);
          assert.ok(error.message.includes(editedName), error.message);
          return true;
        });
      }
      await assert.rejects(
        pendingMigrations(database, withNew),
        (error: unknown) => error instanceof MigrationError && error.migration === editedName,
      );

      assert.equal(await tableExists(database, 'after_edit'), false);
      assert.equal(await schemaSnapshot(database), schemaBefore);
      assert.deepEqual(await recorded(database), recordedBefore);
    });

    test('an edit to the first migration is caught too', async () => {
      const first = onDisk[0];
      assert.ok(first !== undefined);
      const edited = [
        migration(
          first.name,
          first.sql.replace('CREATE TABLE merchants', 'CREATE TABLE  merchants'),
        ),
        ...onDisk.slice(1),
      ];
      assert.notEqual(edited[0]?.checksum, first.checksum);
      await assert.rejects(
        migrate(database, edited),
        (error: unknown) => error instanceof MigrationError && error.message.includes(first.name),
      );
    });

    test('a migration appended later is applied on the next run, and only it', async () => {
      const migrations = [...onDisk, extra];
      assert.deepEqual(await pendingMigrations(database, migrations), [extra.name]);
      const schemaBefore = await schemaSnapshot(database);
      assert.deepEqual(await migrate(database, migrations), [extra.name]);
      assert.notEqual(await schemaSnapshot(database), schemaBefore);
      const rows = await database.query<{ n: bigint }>('SELECT count(*) AS n FROM test_extra');
      assert.equal(rows.rows[0]?.n, 2n);
      assert.deepEqual(
        (await recorded(database)).map((row) => [row.name, row.checksum]),
        migrations.map((m) => [m.name, m.checksum]),
      );
      assert.deepEqual(await pendingMigrations(database, migrations), []);
      assert.deepEqual(await migrate(database, migrations), []);
      // The default list (the files on disk) is still fully applied; the extra row is simply unknown to it.
      assert.deepEqual(await pendingMigrations(database), []);
    });

    test('a failing migration rolls back the whole run: earlier new migrations are not kept either', async () => {
      const good = migration('910_good.sql', 'CREATE TABLE run_good (id int);');
      const bad = migration(
        '911_bad.sql',
        'CREATE TABLE run_bad (id int);\nSELECT no_such_function();',
      );
      const migrations = [...onDisk, extra, good, bad];
      const recordedBefore = await recorded(database);
      await assert.rejects(migrate(database, migrations), /no_such_function/);
      assert.equal(await tableExists(database, 'run_good'), false);
      assert.equal(await tableExists(database, 'run_bad'), false);
      assert.deepEqual(await recorded(database), recordedBefore);
      assert.deepEqual(await pendingMigrations(database, migrations), [good.name, bad.name]);
    });
  });
}

describe('concurrent migrate on postgres', () => {
  test('two processes migrating one fresh database both succeed and record each migration once', async () => {
    for (let round = 0; round < 3; round++) {
      const testDatabase = await openTestDatabase('postgres', { migrated: false, poolSize: 2 });
      // A second, independent pool: another Payrail process starting against the same database.
      const other = openPostgres({ connectionString: testDatabase.url ?? '', poolSize: 2 });
      try {
        const [first, second] = await Promise.all([migrate(testDatabase.database), migrate(other)]);
        const applied = [first, second].sort((a, b) => b.length - a.length);
        assert.deepEqual(
          applied,
          [onDiskNames, []],
          `round ${round}: ${JSON.stringify([first, second])}`,
        );
        const rows = await testDatabase.database.query<{ name: string; n: bigint }>(
          'SELECT name, count(*) AS n FROM schema_migrations GROUP BY name ORDER BY name',
        );
        assert.deepEqual(
          rows.rows,
          onDiskNames.map((name) => ({ name, n: 1n })),
        );
        assert.deepEqual(await pendingMigrations(other), []);
      } finally {
        await other.close();
        await testDatabase.drop();
      }
    }
  });

  test('many concurrent migrate calls through one pool', async () => {
    const testDatabase = await openTestDatabase('postgres', { migrated: false, poolSize: 6 });
    try {
      const results = await Promise.all(
        Array.from({ length: 6 }, () => migrate(testDatabase.database)),
      );
      assert.equal(results.filter((names) => names.length > 0).length, 1);
      assert.deepEqual(
        results.find((names) => names.length > 0),
        onDiskNames,
      );
      const rows = await testDatabase.database.query<{ n: bigint }>(
        'SELECT count(*) AS n FROM schema_migrations',
      );
      assert.equal(rows.rows[0]?.n, BigInt(onDiskNames.length));
    } finally {
      await testDatabase.drop();
    }
  });
});
