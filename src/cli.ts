// The `payrail` command: start, serve, worker, migrate, verify, dlq, admin-key, merchants, clock.
import { Command } from 'commander';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { listConnectorNames } from './connectors/registry.ts';
import { verifyLedger } from './ledger/index.ts';
import { registerMoneyOutCommands } from './money-out/commands.ts';
import { verifyMoneyOut } from './money-out/verify.ts';
import { AdminKeys } from './merchants/merchants.ts';
import { createLogger } from './observability/logger.ts';
import { openServices, startServer, type RunningServer } from './server.ts';
import { DataDirectoryInUseError } from './storage/lock.ts';
import { MigrationError } from './storage/migrations.ts';
import { startSimulatorProcess } from './testmode/simulator-process.ts';
import { DeadLetterError } from './events/bus/index.ts';
import { presentDeadLetter } from './api-objects/dead-letter.ts';
import { openRuntime, type Runtime } from './runtime.ts';
import { toJson } from './api-objects/json.ts';
import { configureSimulatorWebhooks } from './testmode/simulator.ts';
import { demoDashboardUser, demoMerchant } from './testmode/demo-merchant.ts';
import { randomBytes } from 'node:crypto';
import { DashboardUsers } from './dashboard/users.ts';
import { isRole } from './dashboard/principal.ts';
import { DomainError } from './errors.ts';
import { registerClockCommands } from './testmode/clock-command.ts';
import { registerReconcileCommands } from './reconciliation/commands.ts';
import { TestClockError } from './testmode/clock-service.ts';

function describeDataLocation(config: Config): string {
  if (config.databaseUrl !== undefined) return `PostgreSQL at ${new URL(config.databaseUrl).host}`;
  return config.dataDirectory === 'memory://'
    ? 'embedded PGlite, in memory (nothing is kept)'
    : `embedded PGlite in ${config.dataDirectory}`;
}

function printBanner(
  server: RunningServer,
  config: Config,
  simulatorUrl: string | undefined,
  demo: {
    id: string;
    secretKey: string;
    user: { email: string; password: string };
    paymentLink: string;
  },
): void {
  const lines = [
    '',
    `Payrail is listening on ${server.url}`,
    `  data:      ${describeDataLocation(config)}`,
    `  API docs:  ${server.url}/docs`,
    `  PSPs:      ${simulatorUrl === undefined ? config.simulatorUrl : `simulator at ${simulatorUrl} (${listConnectorNames().join(', ')} test modes)`}`,
    `  merchant:  ${demo.id} (Demo shop), secret key for this run: ${demo.secretKey}`,
    '',
    '  Make a payment:',
    `    curl -s ${server.url}/v1/payment_intents -u ${demo.secretKey}: \\`,
    '      -d amount=2000 -d currency=usd -d payment_method=pm_card_visa -d confirm=true',
    `  Then: curl -s ${server.url}/v1/balance -u ${demo.secretKey}:`,
    `  Pay on the hosted checkout page (with a Stripe test card): ${demo.paymentLink}`,
    '  A narrated tour of payments, captures, refunds, a decline and a timeout: npm run demo',
    '',
    `  Dashboard: ${server.url}/dashboard`,
    `    sign in as ${demo.user.email} with the password ${demo.user.password} (this run only),`,
    '    or with the secret key above; the admin key opens the operator view of every merchant.',
    '',
  ];
  if (server.generatedAdminKey !== undefined) {
    lines.push(
      `  admin key: ${server.generatedAdminKey}`,
      '             (generated on this first start and shown only now; only its hash is stored.',
      '              Set PAYRAIL_ADMIN_KEY to choose your own, or run `npm run payrail -- admin-key rotate` for a new one.)',
      '',
      '  Create another merchant:',
      `    curl -s -X POST ${server.url}/v1/admin/merchants -H "Authorization: Bearer ${server.generatedAdminKey}" \\`,
      `      -H 'Content-Type: application/json' -d '{"name":"Another shop"}'`,
    );
  } else {
    lines.push(
      config.adminKey !== undefined
        ? '  admin key: the one in PAYRAIL_ADMIN_KEY'
        : '  admin key: printed at the first start; run `npm run payrail -- admin-key rotate` to make a new one',
    );
  }
  console.log(`${lines.join('\n')}\n`);
}

async function serve(development: boolean): Promise<void> {
  let config = loadConfig();
  // `npm start` is for development: test clocks are on unless PAYRAIL_TEST_CLOCKS says otherwise.
  if (development && process.env.PAYRAIL_TEST_CLOCKS === undefined)
    config = { ...config, testClocks: true };
  const logger = createLogger(config.logLevel);
  // `npm start` brings its own PSP simulator unless PAYRAIL_SIMULATOR_URL points at one.
  const simulator =
    development && process.env.PAYRAIL_SIMULATOR_URL === undefined
      ? await startSimulatorProcess(Number(process.env.SIM_PORT ?? 8090))
      : undefined;
  if (simulator !== undefined) config = { ...config, simulatorUrl: simulator.url };
  const server = await startServer(config, logger);
  // The bundled simulator sends its PSP webhooks to this server.
  if (simulator !== undefined) await configureSimulatorWebhooks(simulator.url, server.url);
  if (development) {
    const demo = await demoMerchant(server.context.merchants);
    const user = await demoDashboardUser(server.context.dashboard.users, demo.id);
    const paymentLink = await server.context.checkout.demoLink(
      demo.id,
      config.publicUrl ?? server.url,
    );
    printBanner(server, config, simulator?.url, { ...demo, user, paymentLink });
  } else console.log(`Payrail listening on ${server.url}`);
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    Promise.all([server.close(), simulator?.stop()]).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

/** `payrail worker`: the event consumers, webhook deliveries and status sync, without the API. */
async function worker(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const runtime = await openRuntime(config, logger, 'worker');
  await runtime.start();
  console.log(`Payrail worker running (event bus: ${runtime.bus.mode})`);
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    runtime.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

/** Runs a short command with the runtime built but not started (no workers, no bus). */
async function withRuntime<T>(work: (runtime: Runtime) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const runtime = await openRuntime(
    config,
    createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel),
    'worker',
  );
  try {
    return await work(runtime);
  } finally {
    await runtime.close();
  }
}

/** Runs a short command against the database and closes it. */
async function withDatabase<T>(
  work: (
    services: Awaited<ReturnType<typeof openServices>>['database'],
    config: Config,
  ) => Promise<T>,
): Promise<T> {
  const config = loadConfig();
  const { database, release } = await openServices(
    config,
    createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel),
  );
  try {
    return await work(database, config);
  } finally {
    await database.close();
    release();
  }
}

export function buildProgram(): Command {
  const program = new Command('payrail')
    .description('Payrail: payments, a double-entry ledger, settlement and webhooks')
    .showHelpAfterError();
  program
    .command('start')
    .description(
      'run Payrail for development: server on embedded PGlite unless DATABASE_URL is set',
    )
    .action(() => serve(true));
  program
    .command('serve')
    .description('run the API server (production: set DATABASE_URL and PAYRAIL_ADMIN_KEY)')
    .action(() => serve(false));
  program
    .command('worker')
    .description(
      'run the workers (event consumers, webhook deliveries, status sync) in their own process',
    )
    .action(() => worker());
  const dlq = program
    .command('dlq')
    .description('events a consumer could not handle after its last attempt');
  dlq
    .command('list')
    .description('list dead letters, newest first')
    .option('--consumer <name>', 'only this consumer')
    .option('--status <status>', 'pending or replayed')
    .option('--limit <n>', '1 to 100', '20')
    .action((options: { consumer?: string; status?: string; limit: string }) =>
      withRuntime(async (runtime) => {
        const limit = Number(options.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 100)
          throw new ConfigError('--limit', 'must be an integer from 1 to 100');
        if (
          options.status !== undefined &&
          options.status !== 'pending' &&
          options.status !== 'replayed'
        )
          throw new ConfigError('--status', 'must be pending or replayed');
        const page = await runtime.deadLetters.list({
          limit,
          consumer: options.consumer,
          status: options.status,
        });
        for (const deadLetter of page.deadLetters)
          console.log(toJson(presentDeadLetter(deadLetter)));
        if (page.deadLetters.length === 0) console.log('no dead letters');
      }),
    );
  dlq
    .command('replay')
    .description('handle a dead-lettered event again')
    .argument('<id>', 'the dead letter id (dl_…)')
    .action((id: string) =>
      withRuntime(async (runtime) => {
        const result = await runtime.deadLetters.replay(id);
        console.log(
          `${id}: ${result.outcome}${result.error === undefined ? '' : ` (${result.error})`}`,
        );
        if (result.outcome === 'failed') process.exitCode = 1;
      }),
    );
  program
    .command('migrate')
    .description('apply pending database migrations')
    .action(() => withDatabase(async () => console.log('migrations are up to date')));
  program
    .command('verify')
    .description(
      'recompute the ledger, check every invariant and that balance transactions and payouts agree with it; exits 1 on any problem',
    )
    .action(() =>
      withDatabase(async (database) => {
        const report = await verifyLedger(database);
        console.log(
          `ledger verify: ${report.ok ? 'ok' : 'FAILED'} (${report.accounts} accounts, ${report.transactions} transactions, ${report.entries} entries)`,
        );
        for (const problem of report.problems) console.log(`  - ${problem}`);
        const moneyOut = await verifyMoneyOut(database);
        console.log(`money-out verify: ${moneyOut.ok ? 'ok' : 'FAILED'}`);
        for (const problem of moneyOut.problems) console.log(`  - ${problem}`);
        if (!report.ok || !moneyOut.ok) process.exitCode = 1;
      }),
    );
  program
    .command('admin-key')
    .description('manage the operator key')
    .command('rotate')
    .description('replace the generated admin key and print the new one once')
    .action(() =>
      withDatabase(async (database, config) => {
        if (config.adminKey !== undefined)
          console.log(
            'note: PAYRAIL_ADMIN_KEY is set; the server uses that key, not the generated one',
          );
        console.log(await new AdminKeys(database, undefined).rotate());
      }),
    );
  program
    .command('merchant-create')
    .description(
      'create a merchant and print its secret key once (a test merchant, with the simulated PSPs, unless --live)',
    )
    .requiredOption('--name <name>', 'display name')
    .option('--live', 'a live merchant: sk_live_ keys, and only the connectors the operator sets')
    .action((options: { name: string; live?: boolean }) =>
      withRuntime(async (runtime) => {
        const { merchant, secretKey } = await runtime.merchants.create({
          name: options.name,
          livemode: options.live === true,
        });
        console.log(`${merchant.id} ${secretKey}`);
      }),
    );
  program
    .command('user-create')
    .description(
      "create a dashboard user and print a first password once (the operator's, or --merchant's)",
    )
    .requiredOption('--email <email>', 'their email: they sign in with it')
    .requiredOption('--role <role>', 'admin, developer, finance or support')
    .option('--merchant <id>', "a merchant's user (without it: the operator's staff)")
    .action((options: { email: string; role: string; merchant?: string }) =>
      withRuntime(async (runtime) => {
        if (!isRole(options.role))
          throw new ConfigError('--role', 'must be admin, developer, finance or support');
        const password = randomBytes(15).toString('base64url');
        const user = await new DashboardUsers(runtime.database, runtime.clock).create({
          email: options.email,
          password,
          role: options.role,
          merchantId: options.merchant ?? null,
        });
        console.log(`${user.id} ${user.email} ${user.role} password: ${password}`);
      }),
    );
  registerClockCommands(program, withDatabase);
  registerReconcileCommands(program, withRuntime);
  registerMoneyOutCommands(program, withRuntime);
  return program;
}

export async function main(argv: readonly string[]): Promise<void> {
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`payrail: invalid configuration: ${error.message}`);
      process.exit(2);
    }
    if (
      error instanceof MigrationError ||
      error instanceof DataDirectoryInUseError ||
      error instanceof DeadLetterError ||
      error instanceof DomainError ||
      error instanceof TestClockError
    ) {
      console.error(`payrail: ${error.message}`);
      process.exit(1);
    }
    console.error('payrail: failed:', error);
    process.exit(1);
  }
}

if (import.meta.main) await main(process.argv);
