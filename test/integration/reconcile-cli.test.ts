// `payrail reconcile ingest` and `payrail reconcile run` against a PostgreSQL database, as an
// operator runs them beside a server: a file taken in (and the same file again: nothing new), a
// bad file refused with its name and line (exit code 1, nothing kept but its failed row), a run
// whose figures are printed, a dry run.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { migrate } from '../../src/storage/migrations.ts';
import { openPostgres } from '../../src/storage/postgres.ts';
import { createPostgresDatabase } from '../support/databases.ts';

const run = promisify(execFile);
const adyenReport = 'src/settlement/reports/fixtures/adyen_batch_42.csv';

describe('payrail reconcile', () => {
  let postgres: { url: string; drop(): Promise<void> };
  let directory: string;

  async function payrail(
    args: string[],
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, ['src/cli.ts', 'reconcile', ...args], {
        env: { ...process.env, DATABASE_URL: postgres.url, LOG_LEVEL: 'warn' },
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  }

  async function count(table: string): Promise<number> {
    const database = openPostgres({ connectionString: postgres.url, poolSize: 1 });
    try {
      const result = await database.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
      return result.rows[0]?.n ?? -1;
    } finally {
      await database.close();
    }
  }

  before(async () => {
    postgres = await createPostgresDatabase('payrail_reconcile_cli');
    directory = await mkdtemp(join(tmpdir(), 'payrail-reconcile-cli-'));
    const database = openPostgres({ connectionString: postgres.url, poolSize: 1 });
    try {
      await migrate(database);
    } finally {
      await database.close();
    }
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
    await postgres.drop();
  });

  test('ingest: a report taken in once; the same bytes again change nothing', async () => {
    const first = await payrail(['ingest', adyenReport]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(
      first.stdout,
      /adyen_batch_42\.csv: ingested rcf_\w+ \(adyen_settlement_csv\): [1-9]\d* records, 0 duplicates, 0 quarantined/,
    );
    const records = await count('recon_records');
    const again = await payrail(['ingest', adyenReport]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already ingested/);
    assert.equal(await count('recon_records'), records);
  });

  test('ingest: a truncated file is refused with its name and line; exit code 1', async () => {
    const truncated = join(directory, 'truncated.xml');
    await writeFile(
      truncated,
      '<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">\n<BkToCstmrStmt>\n',
    );
    const records = await count('recon_records');
    const result = await payrail(['ingest', truncated]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /truncated\.xml: FAILED truncated\.xml: line \d+: /);
    assert.equal(await count('recon_records'), records);
  });

  test('run: prints the run with its figures; a dry run changes nothing', async () => {
    const dry = await payrail(['run', '--dry-run', '--as-of', '2026-12-01']);
    const dryRun = JSON.parse(dry.stdout) as {
      object: string;
      dry_run: boolean;
      result_hash: string;
    };
    assert.equal(dryRun.object, 'reconciliation_run');
    assert.equal(dryRun.dry_run, true);
    assert.equal(await count('recon_exceptions'), 0);
    const real = await payrail(['run', '--as-of', '2026-12-01']);
    const realRun = JSON.parse(real.stdout) as {
      dry_run: boolean;
      result_hash: string;
      summary: { open_exceptions: number };
    };
    assert.equal(realRun.dry_run, false);
    assert.equal(realRun.result_hash, dryRun.result_hash, 'the dry run foretold the run');
    // The report's lines name payments this database never had: each one is unexpected.
    assert.ok(realRun.summary.open_exceptions > 0);
    assert.equal(real.code, 1, 'open exceptions: exit code 1');
    assert.equal(await count('recon_exceptions'), realRun.summary.open_exceptions);
  });
});
