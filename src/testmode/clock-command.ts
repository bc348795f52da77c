// `payrail clock show|advance|set|reset`: test clocks from the command line, straight on the
// database (as `payrail migrate` is), so a running server and workers see the move within a
// second. Refused unless PAYRAIL_TEST_CLOCKS=true: a production database never runs ahead.
import type { Command } from 'commander';
import { ConfigError, type Config } from '../config.ts';
import type { Database } from '../storage/database.ts';
import { DatabaseClock } from './clock.ts';
import { clockOffsetMsMax, TestClocks, type ClockScopeView } from './clock-service.ts';

type WithDatabase = <T>(work: (database: Database, config: Config) => Promise<T>) => Promise<T>;

function describe(view: ClockScopeView): string {
  const who = view.merchantId === undefined ? 'system' : `merchant ${view.merchantId}`;
  return `${who}: ${view.now.toISOString()} (ahead of real time by ${view.offsetMs / 1000} s)`;
}

function withTestClocks(
  withDatabase: WithDatabase,
  work: (clocks: TestClocks) => Promise<void>,
): Promise<void> {
  return withDatabase(async (database, config) => {
    if (!config.testClocks)
      throw new ConfigError(
        'PAYRAIL_TEST_CLOCKS',
        'test clocks are disabled; set PAYRAIL_TEST_CLOCKS=true (never on a production database)',
      );
    const clock = new DatabaseClock(database);
    await clock.refresh();
    await work(new TestClocks(database, clock));
  });
}

export function parseSeconds(raw: string): number {
  const seconds = Number(raw);
  if (!/^\d+$/.test(raw) || seconds < 1 || seconds > clockOffsetMsMax / 1000)
    throw new ConfigError('--seconds', `must be a whole number of seconds from 1, got "${raw}"`);
  return seconds;
}

export function parseTime(raw: string): Date {
  const time = new Date(raw);
  if (
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(raw) ||
    Number.isNaN(time.getTime())
  )
    throw new ConfigError(
      '--to',
      `must be an ISO 8601 time with its offset, such as 2030-01-31T12:00:00Z, got "${raw}"`,
    );
  return time;
}

export function registerClockCommands(program: Command, withDatabase: WithDatabase): void {
  const clock = program
    .command('clock')
    .description(
      "test clocks: move the system's or a merchant's time forward (PAYRAIL_TEST_CLOCKS=true)",
    );
  clock
    .command('show')
    .description('the system time and every merchant clock ahead of it')
    .action(() =>
      withTestClocks(withDatabase, async (clocks) => {
        const view = await clocks.show();
        for (const scope of [view.system, ...view.merchants]) console.log(describe(scope));
      }),
    );
  clock
    .command('advance')
    .description('move a clock forward by whole seconds')
    .requiredOption('--seconds <n>', 'how far, in seconds')
    .option('--merchant <id>', "this merchant's clock (the system's when left out)")
    .action((options: { seconds: string; merchant?: string }) =>
      withTestClocks(withDatabase, async (clocks) => {
        const milliseconds = parseSeconds(options.seconds) * 1000;
        console.log(
          describe(await clocks.move({ kind: 'advance', milliseconds }, options.merchant)),
        );
      }),
    );
  clock
    .command('set')
    .description('move a clock forward to a given time (never back)')
    .requiredOption('--to <time>', 'ISO 8601, e.g. 2030-01-31T12:00:00Z')
    .option('--merchant <id>', "this merchant's clock (the system's when left out)")
    .action((options: { to: string; merchant?: string }) =>
      withTestClocks(withDatabase, async (clocks) => {
        const to = parseTime(options.to);
        console.log(describe(await clocks.move({ kind: 'set', to }, options.merchant)));
      }),
    );
  clock
    .command('reset')
    .description("back to real time: one merchant's clock, or every clock")
    .option('--merchant <id>', "only this merchant's clock")
    .action((options: { merchant?: string }) =>
      withTestClocks(withDatabase, async (clocks) => {
        const view = await clocks.reset(options.merchant);
        for (const scope of [view.system, ...view.merchants]) console.log(describe(scope));
      }),
    );
}
