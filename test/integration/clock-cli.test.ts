// `payrail clock` against a PostgreSQL database, as an operator runs it beside a server: moves
// forward, shows, refuses going back and bad input, resets; refused unless PAYRAIL_TEST_CLOCKS.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Merchants } from '../../src/merchants/merchants.ts';
import { migrate } from '../../src/storage/migrations.ts';
import { openPostgres } from '../../src/storage/postgres.ts';
import { DatabaseClock } from '../../src/testmode/clock.ts';
import { createPostgresDatabase } from '../support/databases.ts';

const run = promisify(execFile);
const hour = 3_600_000;

describe('payrail clock', () => {
  let postgres: { url: string; drop(): Promise<void> };
  let merchantId: string;

  async function payrail(
    args: string[],
    env: Record<string, string> = { PAYRAIL_TEST_CLOCKS: 'true' },
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, ['src/cli.ts', 'clock', ...args], {
        env: { ...process.env, DATABASE_URL: postgres.url, LOG_LEVEL: 'warn', ...env },
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  }

  before(async () => {
    postgres = await createPostgresDatabase('payrail_clock_cli');
    const database = openPostgres({ connectionString: postgres.url, poolSize: 1 });
    try {
      await migrate(database);
      merchantId = (await new Merchants(database).create({ name: 'Shop' })).merchant.id;
    } finally {
      await database.close();
    }
  });
  after(() => postgres.drop());

  test('advance and set move the clocks forward; a server process sees them', async () => {
    const advanced = await payrail(['advance', '--seconds', '7200']);
    assert.equal(advanced.code, 0, advanced.stderr);
    assert.match(advanced.stdout, /^system: \S+ \(ahead of real time by 7200 s\)/);
    const merchant = await payrail(['advance', '--seconds', '60', '--merchant', merchantId]);
    assert.equal(merchant.code, 0, merchant.stderr);
    assert.match(merchant.stdout, new RegExp(`^merchant ${merchantId}: .* by 7260 s\\)`));
    const target = new Date(Date.now() + 48 * hour).toISOString();
    const set = await payrail(['set', '--to', target]);
    assert.equal(set.code, 0, set.stderr);
    assert.ok(set.stdout.startsWith(`system: ${target.slice(0, 16)}`), set.stdout);

    const database = openPostgres({ connectionString: postgres.url, poolSize: 1 });
    try {
      const clock = new DatabaseClock(database);
      await clock.refresh();
      const aheadMs = clock.now().getTime() - Date.now();
      assert.ok(aheadMs > 47 * hour && aheadMs <= 48 * hour, `${aheadMs}`);
      assert.equal(clock.now(merchantId).getTime() - clock.now().getTime(), 60_000);
    } finally {
      await database.close();
    }
    const shown = await payrail(['show']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.deepEqual(
      shown.stdout
        .trim()
        .split('\n')
        .map((line) => line.split(':')[0]),
      ['system', `merchant ${merchantId}`],
    );
  });

  test('going back, bad input and an unknown merchant are refused with one line', async () => {
    const cases: [string[], number, RegExp][] = [
      [['set', '--to', '2001-01-01T00:00:00Z'], 1, /only moves forward/],
      [['set', '--to', 'tomorrow'], 2, /--to: must be an ISO 8601 time/],
      [['advance', '--seconds', '-5'], 2, /--seconds: must be a whole number/],
      [['advance', '--seconds', '10', '--merchant', 'mch_missing'], 1, /No such merchant/],
    ];
    for (const [args, code, message] of cases) {
      const refused = await payrail(args);
      assert.equal(refused.code, code, `${args.join(' ')}: ${refused.stderr}`);
      assert.match(refused.stderr, message);
    }
    const disabled = await payrail(['advance', '--seconds', '10'], {});
    assert.equal(disabled.code, 2);
    assert.match(disabled.stderr, /PAYRAIL_TEST_CLOCKS: test clocks are disabled/);
  });

  test('reset goes back to real time', async () => {
    const reset = await payrail(['reset']);
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(reset.stdout.trim(), /^system: \S+ \(ahead of real time by 0 s\)$/);
  });
});
