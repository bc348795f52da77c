// Dashboard benchmark (issue 15): the payments list and a payment's timeline with 1,000,000
// payments in a real PostgreSQL.
//
//   npm run bench:dashboard -- [--payments 1000000] [--merchants 100] [--samples 200] [--json]
//
// Creates a throw-away database on the local PostgreSQL (--database-url / BENCH_DATABASE_URL,
// default postgres://postgres@127.0.0.1:5432/postgres), runs the migrations and seeds it with
// INSERT … SELECT generate_series (not timed; see `seed` for what is there and how realistic it
// is), then VACUUM ANALYZE. Timed, one call after another, each call alone: the list's
// scenarios (first page for the operator and for a merchant, filtered pages, a deep keyset page
// and the page before it, searches by email, last4 and id) and the timeline of random payments.
//
// What is timed is the server's work for a page: a Payrail server on the seeded database (in this
// process, workers off, rate limits off), signed in to the dashboard as the operator, and each
// call a GET of the rendered page over loopback HTTP (`/dashboard/payments?…`, a merchant's scope
// as `?merchant=`; `/dashboard/payments/:id` for a timeline), from the request sent to the last
// byte read. `--queries-only` times the query functions of src/dashboard/queries/payments.ts
// alone (no HTTP, no rendering), to tell the two apart.
//
// With --json the last line on stdout is exactly
//   {"bench":"dashboard","list_p99_ms":…,"timeline_p99_ms":…,"js_gzip_kb":…}
// where list_p99_ms is the p99 of every list call (all the list's scenarios, equally many calls
// each) and timeline_p99_ms that of every timeline call; each scenario's own p50/p99 precede it
// (and the worst scenario's p99 is `list_worst_scenario_p99_ms`). Exit status: 0 ok, 1 an
// error or a target missed (p99 > 50 ms), 2 bad arguments.
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import {
  DashboardPayments,
  type DashboardScope,
  type PaymentFilter,
  type PaymentPageRequest,
} from '../src/dashboard/queries/payments.ts';
import { seededRandom } from '../src/random.ts';
import type { Database } from '../src/storage/database.ts';
import { migrate } from '../src/storage/migrations.ts';
import { openPostgres } from '../src/storage/postgres.ts';
import { Assets } from '../src/web/assets.ts';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/config.ts';
import { formatDecimal } from '../src/money/index.ts';
import { createLogger } from '../src/observability/logger.ts';
import { startServer } from '../src/server.ts';
import {
  benchMain,
  createScratchDatabase,
  integerOption,
  localDatabaseUrl,
  percentile,
  UsageError,
  type ScratchDatabase,
} from './support.ts';

const defaultDatabaseUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
/** The issue's target for each p99. */
const targetMs = 50;
/** What the list page shows at once (the dashboard's page size). */
const pageSize = 25;

export type DashboardBenchOptions = {
  readonly payments: number;
  readonly merchants: number;
  /** Timed calls per scenario. */
  readonly samples: number;
  readonly databaseUrl: string;
  readonly json: boolean;
  readonly verbose: boolean;
  /** Keep the database afterwards (to look at plans) and print its name. */
  readonly keep: boolean;
  /** Time the pages over HTTP (not yet: the pages do not exist). */
  readonly http: boolean;
};

type Scenario = { readonly p50_ms: number; readonly p99_ms: number; readonly max_ms: number };

export type DashboardBenchResult = {
  readonly bench: 'dashboard';
  /** What was timed: the pages over HTTP (the default) or the queries alone. */
  readonly mode: string;
  readonly list_p99_ms: number;
  readonly timeline_p99_ms: number;
  readonly list_p50_ms: number;
  readonly timeline_p50_ms: number;
  readonly list_worst_scenario_p99_ms: number;
  readonly js_gzip_kb: number;
  readonly payments: number;
  readonly merchants: number;
  readonly samples: number;
  readonly seed_s: number;
  readonly scenarios: Readonly<Record<string, Scenario>>;
  readonly cpus: number;
  readonly postgres: string;
  readonly database: string | null;
};

const usage = `usage: node bench/dashboard.ts [options]
  --payments N         payment intents to seed, default 1000000
  --merchants N        merchants, default 100 (the first has about 40 % of the payments)
  --samples N          timed calls per scenario, default 200
  --database-url URL   server for the throw-away database (loopback only;
                       default $BENCH_DATABASE_URL or ${defaultDatabaseUrl})
  --json               end with one line of JSON
  --quiet              no progress lines on stderr
  --keep               keep the throw-away database (to look at plans) and print its name
  --queries-only       time the query functions alone, not the pages over HTTP
  --help`;

export function parseOptions(argv: readonly string[]): DashboardBenchOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      payments: { type: 'string' },
      merchants: { type: 'string' },
      samples: { type: 'string' },
      'database-url': { type: 'string' },
      json: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      'queries-only': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const databaseUrl =
    values['database-url'] ?? process.env.BENCH_DATABASE_URL ?? defaultDatabaseUrl;
  localDatabaseUrl(databaseUrl);
  const payments = integerOption(values.payments, 'payments', 1_000_000, 1_000, 10_000_000);
  const merchants = integerOption(values.merchants, 'merchants', 100, 2, 10_000);
  if (merchants * 10 > payments)
    throw new UsageError('--merchants must be at most --payments / 10');
  return {
    payments,
    merchants,
    samples: integerOption(values.samples, 'samples', 200, 10, 100_000),
    databaseUrl,
    json: values.json,
    verbose: !values.quiet,
    keep: values.keep,
    http: !values['queries-only'],
  };
}

// ---------------------------------------------------------------------------------------------
// Seeding: SQL only, set-based. Payment k (1 … N) is created at T0 - (N - k) × (one year / N), so
// the newest is k = N. Its group g = k / 4 (four payments per card and customer) decides the
// merchant (40 % of the groups to the first merchant, the rest spread evenly), the card, and the
// customer (70 % of groups; the others pay as guests with a receipt email).

const newest = '2026-12-01T00:00:00Z';
const brands = ['visa', 'mastercard', 'amex', 'discover'];
const connectors = ['stripe', 'adyen', 'razorpay'];
const declineCodes = ['insufficient_funds', 'do_not_honor', 'card_declined', 'expired_card'];
/** The newest 1/denominator of the payments have events and deliveries / postings / keys. */
const eventsShare = 10;
const ledgerShare = 5;
const keysShare = 100;
/** The creation time from which the newest 1/share of the payments are. */
const newestFrom = (share: number) => createdSql(`$1::bigint - $1::bigint / ${share}`);

const merchantSql = (group: string) =>
  `'mch_bench' || lpad((CASE WHEN (${group}) % 10 < 4 THEN 0 ELSE (${group}) % $2 END)::text, 8, '0')`;
const pad = (value: string) => `lpad((${value})::text, 10, '0')`;
const createdSql = (k: string) =>
  `('${newest}'::timestamptz - (($1::bigint - (${k})) * (interval '365 days' / $1::bigint)))`;
/** The status of payment k: 80 % succeeded, 8 % declined, 4 % canceled, 4 % awaiting capture … */
const statusSql = (k: string) => `(CASE
  WHEN (${k}) * 13 % 100 < 80 THEN 'succeeded'
  WHEN (${k}) * 13 % 100 < 88 THEN 'requires_payment_method'
  WHEN (${k}) * 13 % 100 < 92 THEN 'canceled'
  WHEN (${k}) * 13 % 100 < 96 THEN 'requires_capture'
  WHEN (${k}) * 13 % 100 < 98 THEN 'processing'
  WHEN (${k}) * 13 % 100 < 99 THEN 'requires_action'
  ELSE 'requires_confirmation' END)`;
/** The tables the seed loads in bulk (their secondary indexes are built after the load). */
const loadedTables = [
  'customers',
  'payment_methods',
  'payment_intents',
  'payment_attempts',
  'refunds',
  'events',
  'webhook_deliveries',
  'idempotency_keys',
  'ledger_transactions',
  'ledger_entries',
];
const textArray = (values: readonly string[]) => `ARRAY['${values.join("','")}']`;

function seedStatements(): readonly (readonly [string, string])[] {
  const k = 'k';
  return [
    [
      'merchants',
      `INSERT INTO merchants (id, name, created_at)
       SELECT 'mch_bench' || lpad(i::text, 8, '0'), 'Bench merchant ' || i, '2025-01-01'
         FROM generate_series(0, $2 - 1) i WHERE $1::bigint > 0`,
    ],
    [
      'vault data key',
      `INSERT INTO vault_data_keys (id, master_key_id, wrapped_key, wrap_iv, wrap_tag)
       SELECT 'dk_benchkey01', '0123456789abcdef', decode(repeat('00', 32), 'hex'),
              decode(repeat('00', 12), 'hex'), decode(repeat('00', 16), 'hex')
        WHERE $1::bigint > 0 AND $2::int > 0`,
    ],
    [
      'customers',
      `INSERT INTO customers (id, merchant_id, email, name, created_at, updated_at)
       SELECT 'cus_bench' || ${pad('g')}, ${merchantSql('g')}, 'customer' || g || '@example.com',
              'Customer ' || g, ${createdSql('g * 4')}, ${createdSql('g * 4')}
         FROM generate_series(0, $1::bigint / 4) g WHERE g % 10 < 7`,
    ],
    [
      'payment methods',
      `INSERT INTO payment_methods (id, merchant_id, brand, last4, exp_month, exp_year, fingerprint,
         ciphertext, iv, auth_tag, data_key_id, country, bin, created_at)
       SELECT 'pm_bench' || ${pad('g')}, ${merchantSql('g')}, (${textArray(brands)})[g % 4 + 1],
              lpad(((g * 7919) % 10000)::text, 4, '0'), 1 + g % 12, 2027 + g % 5,
              substr(md5(g::text), 1, 16), decode(repeat('ab', 64), 'hex'),
              decode(repeat('00', 12), 'hex'), decode(repeat('00', 16), 'hex'), 'dk_benchkey01',
              'US', '424242', ${createdSql('g * 4')}
         FROM generate_series(0, $1::bigint / 4) g`,
    ],
    [
      'payment intents',
      `INSERT INTO payment_intents (id, merchant_id, amount, currency, status, capture_method,
         payment_method_id, connector, amount_capturable, amount_received, amount_refunded,
         client_secret, receipt_email, customer_id, description, created_at, updated_at)
       SELECT 'pi_bench' || ${pad(k)}, ${merchantSql(`${k} / 4`)}, amount,
              CASE WHEN ${k} % 10 < 7 THEN 'usd' WHEN ${k} % 10 < 9 THEN 'eur' ELSE 'gbp' END,
              status, CASE WHEN status = 'requires_capture' THEN 'manual' ELSE 'automatic' END,
              'pm_bench' || ${pad(`${k} / 4`)},
              CASE WHEN status = 'requires_confirmation' THEN NULL
                   ELSE (${textArray(connectors)})[${k} % 3 + 1] END,
              CASE WHEN status = 'requires_capture' THEN amount ELSE 0 END,
              CASE WHEN status = 'succeeded' THEN amount ELSE 0 END,
              CASE WHEN status = 'succeeded' AND ${k} % 25 = 0 THEN amount / 2 ELSE 0 END,
              'pi_bench' || ${pad(k)} || '_secret_bench',
              CASE WHEN (${k} / 4) % 10 < 7 THEN NULL ELSE 'buyer' || (${k} / 4) || '@example.net' END,
              CASE WHEN (${k} / 4) % 10 < 7 THEN 'cus_bench' || ${pad(`${k} / 4`)} END,
              'Order ' || ${k}, ${createdSql(k)}, ${createdSql(k)}
         FROM (SELECT ${k}, 500 + (${k} * 7919) % 99500 AS amount, ${statusSql(k)} AS status
                 FROM generate_series(1, $1::bigint) ${k} WHERE $2::int > 0) p`,
    ],
    [
      'payment attempts',
      // One per confirmed payment; 3 % of the captured ones failed over from a soft decline first.
      `INSERT INTO payment_attempts (id, payment_intent_id, merchant_id, connector, status, amount,
         currency, capture_method, psp_idempotency_key, psp_reference, amount_authorized,
         amount_captured, decline_code, psp_code, failure_message, psp_latency_ms, risk,
         created_at, updated_at)
       SELECT a.id, pi.id, pi.merchant_id, a.connector, a.status, pi.amount, pi.currency,
              pi.capture_method, 'payrail_' || a.id, 'psp_' || a.id,
              CASE WHEN a.status IN ('captured', 'authorized', 'voided') THEN pi.amount ELSE 0 END,
              CASE WHEN a.status = 'captured' THEN pi.amount ELSE 0 END,
              a.decline_code, CASE WHEN a.decline_code IS NOT NULL THEN 'declined' END,
              CASE WHEN a.decline_code IS NOT NULL THEN 'The card was declined.' END,
              CASE WHEN a.status NOT IN ('pending') THEN 80 + (a.k * 31) % 400 END,
              jsonb_build_object('action', 'none', 'riskScore', a.k % 60, 'riskLevel', 'normal',
                'rule', NULL, 'matched', '[]'::jsonb, 'entities', '{}'::jsonb,
                'cardFingerprint', NULL, 'amountInUsd', NULL),
              pi.created_at + a.offset_s * interval '1 second', pi.updated_at
         FROM (
           SELECT ${k}, 'pa_bench' || ${pad(k)} AS id, (${textArray(connectors)})[${k} % 3 + 1] AS connector,
                  CASE ${statusSql(k)} WHEN 'succeeded' THEN 'captured'
                    WHEN 'requires_payment_method' THEN 'failed' WHEN 'canceled' THEN 'voided'
                    WHEN 'requires_capture' THEN 'authorized' ELSE 'pending' END AS status,
                  CASE WHEN ${statusSql(k)} = 'requires_payment_method'
                    THEN (${textArray(declineCodes)})[${k} % 4 + 1] END AS decline_code,
                  1 AS offset_s
             FROM generate_series(1, $1::bigint) ${k}
            WHERE ${statusSql(k)} <> 'requires_confirmation'
           UNION ALL
           SELECT ${k}, 'pa_benchf' || ${pad(k)}, (${textArray(connectors)})[(${k} + 1) % 3 + 1],
                  'failed', 'do_not_honor', 0
             FROM generate_series(1, $1::bigint) ${k}
            WHERE ${k} % 33 = 0 AND ${statusSql(k)} = 'succeeded' AND $2::int > 0
         ) a JOIN payment_intents pi ON pi.id = 'pi_bench' || ${pad('a.k')}`,
    ],
    [
      'refunds',
      `INSERT INTO refunds (id, merchant_id, payment_intent_id, attempt_id, amount, currency, status,
         reason, psp_idempotency_key, psp_reference, created_at, updated_at, sent_at, send_claims)
       SELECT 're_bench' || ${pad(k)}, pi.merchant_id, pi.id, 'pa_bench' || ${pad(k)}, pi.amount_refunded,
              pi.currency, 'succeeded', 'requested_by_customer', 'payrail_re_bench' || ${k},
              'psp_re_' || ${k}, pi.created_at + interval '1 day', pi.created_at + interval '1 day',
              pi.created_at + interval '1 day', 1
         FROM payment_intents pi, LATERAL (SELECT substr(pi.id, 9)::bigint AS ${k}) n
        WHERE pi.amount_refunded > 0 AND $1::bigint > 0 AND $2::int > 0`,
    ],
    [
      'webhook endpoints',
      `INSERT INTO webhook_endpoints (id, merchant_id, url, enabled_events, secret_sealed, created_at, updated_at)
       SELECT 'we_bench' || lpad(i::text, 8, '0'), 'mch_bench' || lpad(i::text, 8, '0'),
              'https://merchant' || i || '.example.com/webhooks', ARRAY['*'], 'sealed', '2025-01-01', '2025-01-01'
         FROM generate_series(0, $2 - 1) i WHERE $1::bigint > 0`,
    ],
    [
      'events',
      // The newest payments' events (Stripe keeps 30 days of them): created, then the outcome,
      // with the charge's; the created one names its API request and Idempotency-Key.
      `INSERT INTO events (id, merchant_id, type, object_id, data, request_id, idempotency_key, created_at)
       SELECT 'evt_bench' || ${pad('p.k')} || e.n, p.merchant_id, e.type, e.object_id,
              json_build_object('object', json_build_object('id', e.object_id, 'object', e.object)),
              CASE WHEN e.n = 1 THEN 'req_bench' || p.k END,
              CASE WHEN e.n = 1 THEN 'idem_bench' || p.k END,
              p.created_at + (e.n - 1) * interval '1 second'
         FROM (SELECT pi.*, substr(pi.id, 9)::bigint AS k FROM payment_intents pi
                WHERE pi.created_at > ${newestFrom(eventsShare)} AND $2::int > 0) p,
         LATERAL (VALUES
           (1, 'payment_intent.created', p.id, 'payment_intent'),
           (2, CASE WHEN p.status = 'succeeded' THEN 'charge.succeeded' ELSE 'charge.failed' END,
               'ch_bench' || ${pad('p.k')}, 'charge'),
           (3, CASE WHEN p.status = 'succeeded' THEN 'payment_intent.succeeded'
                    ELSE 'payment_intent.payment_failed' END, p.id, 'payment_intent')) e (n, type, object_id, object)
        WHERE p.status IN ('succeeded', 'requires_payment_method')`,
    ],
    [
      'webhook deliveries',
      `INSERT INTO webhook_deliveries (id, endpoint_id, event_id, merchant_id, status, attempt_count,
         round_attempt_count, last_http_status, created_at, updated_at)
       SELECT 'wd_' || substr(ev.id, 5), 'we_bench' || substr(ev.merchant_id, 10), ev.id, ev.merchant_id,
              'succeeded', 1, 1, 200, ev.created_at, ev.created_at + interval '1 second'
         FROM events ev WHERE $1::bigint > 0 AND $2::int > 0`,
    ],
    [
      'webhook delivery attempts',
      `INSERT INTO webhook_delivery_attempts (delivery_id, attempt_number, http_status, duration_ms, attempted_at)
       SELECT d.id, 1, 200, 40 + length(d.id) % 7 * 10, d.updated_at
         FROM webhook_deliveries d WHERE $1::bigint > 0 AND $2::int > 0`,
    ],
    [
      'idempotency keys',
      `INSERT INTO idempotency_keys (merchant_id, key, request_method, request_path, request_hash,
         status, resource_id, response_status, response_body, created_at, updated_at)
       SELECT ev.merchant_id, ev.idempotency_key, 'POST', '/v1/payment_intents', md5(ev.id), 'finished',
              ev.object_id, 200, '{}'::jsonb, ev.created_at, ev.created_at
         FROM events ev
        WHERE ev.idempotency_key IS NOT NULL
          AND ev.created_at > ${newestFrom(keysShare)} AND $2::int > 0`,
    ],
    [
      'ledger accounts',
      `INSERT INTO ledger_accounts (id, type, currency, owner, limit_rule)
       SELECT DISTINCT a.id, a.type, a.currency, a.owner, 'none'
         FROM (SELECT DISTINCT merchant_id, currency, connector FROM payment_intents
                WHERE status = 'succeeded' AND $1::bigint > 0 AND $2::int > 0) p,
         LATERAL (VALUES
           ('psp_receivable:' || p.connector || ':' || p.currency, 'asset', p.currency, 'psp:' || p.connector),
           ('merchant:' || p.merchant_id || ':pending:' || p.currency, 'liability', p.currency, p.merchant_id),
           ('platform:fees:' || p.currency, 'revenue', p.currency, 'platform')) a (id, type, currency, owner)`,
    ],
    [
      'ledger transactions',
      // The newest captured payments' capture and fee, and their refunds (ids as postings.ts).
      `INSERT INTO ledger_transactions (id, kind, request, description, created_at)
       SELECT t.id, 'posted', '{}'::jsonb, t.description, t.at
         FROM (SELECT a.* FROM payment_attempts a
                WHERE a.status = 'captured' AND a.created_at > ${newestFrom(ledgerShare)}
                  AND $2::int > 0) a,
         LATERAL (VALUES
           ('capture:' || a.id, 'capture of attempt ' || a.id, a.created_at),
           ('fee:' || a.id, 'fee for attempt ' || a.id, a.created_at)) t (id, description, at)
       UNION ALL
       SELECT 'refund:' || r.id, 'posted', '{}'::jsonb, 'refund ' || r.id, r.created_at
         FROM refunds r
        WHERE r.created_at > ${newestFrom(ledgerShare)}`,
    ],
    [
      'ledger entries',
      // Two legs each; account sequences unique (one numbering across all accounts).
      `INSERT INTO ledger_entries (transaction_id, leg, account_id, currency, layer, direction, amount,
         account_sequence, posted_debits_after, posted_credits_after, pending_debits_after,
         pending_credits_after, hash, created_at)
       SELECT x.transaction_id, x.leg, x.account_id, x.currency, 'posted', x.direction, x.amount,
              row_number() OVER (), 0, 0, 0, 0, decode(md5(x.transaction_id || x.leg), 'hex'), x.created_at
         FROM (
           SELECT t.id AS transaction_id, t.created_at, l.leg, l.account_id, pi.currency, l.direction, v.amount
             FROM ledger_transactions t
             JOIN payment_attempts a ON a.id = substr(t.id, strpos(t.id, ':') + 1)
             JOIN payment_intents pi ON pi.id = a.payment_intent_id,
             LATERAL (SELECT CASE WHEN t.id LIKE 'fee:%' THEN 30 + pi.amount * 29 / 1000
                                  ELSE pi.amount END AS amount) v,
             LATERAL (VALUES
               (0, CASE WHEN t.id LIKE 'fee:%' THEN 'merchant:' || pi.merchant_id || ':pending:' || pi.currency
                        ELSE 'psp_receivable:' || a.connector || ':' || pi.currency END, 'debit'),
               (1, CASE WHEN t.id LIKE 'fee:%' THEN 'platform:fees:' || pi.currency
                        ELSE 'merchant:' || pi.merchant_id || ':pending:' || pi.currency END, 'credit')
             ) l (leg, account_id, direction)
            WHERE t.id NOT LIKE 'refund:%'
           UNION ALL
           SELECT t.id, t.created_at, l.leg, l.account_id, r.currency, l.direction, r.amount
             FROM ledger_transactions t
             JOIN refunds r ON r.id = substr(t.id, 8)
             JOIN payment_attempts a ON a.id = r.attempt_id,
             LATERAL (VALUES
               (0, 'merchant:' || r.merchant_id || ':pending:' || r.currency, 'debit'),
               (1, 'psp_receivable:' || a.connector || ':' || r.currency, 'credit')
             ) l (leg, account_id, direction)
            WHERE t.id LIKE 'refund:%'
         ) x WHERE $1::bigint > 0 AND $2::int > 0`,
    ],
  ];
}

async function seed(
  database: Database,
  options: DashboardBenchOptions,
  log: (line: string) => void,
): Promise<void> {
  // A bulk load of rows the code would have written one by one: no foreign-key checks or
  // triggers (the ledger's balance and reference triggers, the hash chain), which this read
  // benchmark does not exercise. The seeded ledger balances per transaction, but its materialized
  // account balances and hashes are not what the ledger would have written.
  // The secondary indexes of the loaded tables are dropped first and built again afterwards: a
  // bulk build sorts once, where row-by-row inserts into a dozen random-order indexes thrash a
  // small shared_buffers. The indexes measured are exactly the migrations' ones.
  const rebuilt = await database.transaction(async (tx) => {
    await tx.exec("SET LOCAL session_replication_role = 'replica'");
    await tx.exec('SET LOCAL synchronous_commit = off');
    const indexes = await tx.query<{ name: string; definition: string }>(
      `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
         FROM pg_index i
        WHERE i.indrelid = ANY($1::regclass[]) AND NOT i.indisprimary AND NOT i.indisunique`,
      [`{${loadedTables.join(',')}}`],
    );
    for (const index of indexes.rows) await tx.exec(`DROP INDEX ${index.name}`);
    for (const [name, sql] of seedStatements()) {
      const started = performance.now();
      const result = await tx.query(sql, [options.payments, options.merchants]);
      log(
        `seeded ${name}: ${result.rowCount} rows in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
    }
    return indexes.rows;
  });
  const building = performance.now();
  const queue = [...rebuilt];
  // Two builds at a time (one per CPU of the benchmark machine).
  await Promise.all(
    [0, 1].map(async () => {
      for (let index = queue.shift(); index !== undefined; index = queue.shift())
        await database.exec(`SET maintenance_work_mem = '256MB'; ${index.definition}`);
    }),
  );
  log(`${rebuilt.length} indexes built in ${((performance.now() - building) / 1000).toFixed(1)} s`);
  const started = performance.now();
  await database.exec('VACUUM ANALYZE');
  log(`VACUUM ANALYZE in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

// ---------------------------------------------------------------------------------------------
// Drivers: how a list or timeline call is made. In process today; over HTTP once the pages exist.

type Driver = {
  list(scope: DashboardScope, filter: PaymentFilter, page: PaymentPageRequest): Promise<unknown>;
  timeline(scope: DashboardScope, id: string): Promise<unknown>;
};

function inProcessDriver(database: Database): Driver {
  const queries = new DashboardPayments(database);
  return {
    list: (scope, filter, page) => queries.list(scope, filter, page),
    timeline: async (scope, id) => {
      const found = await queries.timeline(scope, id);
      if (found === undefined) throw new Error(`no timeline for ${id}`);
      return found;
    },
  };
}

/** The URL query of a list call, as the payments page reads it (amounts in the currency's units). */
function listQuery(scope: DashboardScope, filter: PaymentFilter, page: PaymentPageRequest): string {
  const query = new URLSearchParams();
  if (scope.merchantId !== undefined) query.set('merchant', scope.merchantId);
  if (filter.statuses !== undefined) query.set('status', filter.statuses.join(','));
  if (filter.connector !== undefined) query.set('connector', filter.connector);
  // The page takes amounts as decimals of a currency: an amount filter without one is in USD.
  const currency =
    filter.currency ??
    (filter.amountMin !== undefined || filter.amountMax !== undefined ? 'usd' : undefined);
  if (currency !== undefined) query.set('currency', currency);
  if (filter.amountMin !== undefined && currency !== undefined)
    query.set('amount_min', formatDecimal(filter.amountMin, currency));
  if (filter.amountMax !== undefined && currency !== undefined)
    query.set('amount_max', formatDecimal(filter.amountMax, currency));
  // The page filters by whole UTC days, both ends included.
  const from = filter.created?.gte ?? filter.created?.gt;
  const to = filter.created?.lt ?? filter.created?.lte;
  if (from !== undefined) query.set('from', from.toISOString().slice(0, 10));
  if (to !== undefined) query.set('to', new Date(to.getTime() - 1).toISOString().slice(0, 10));
  if (filter.q !== undefined) query.set('q', filter.q);
  if (page.startingAfter !== undefined) query.set('starting_after', page.startingAfter);
  if (page.endingBefore !== undefined) query.set('ending_before', page.endingBefore);
  return query.toString();
}

/** A Payrail server on the bench's database, signed in to the dashboard as the operator. */
async function httpDriver(databaseUrl: string): Promise<Driver & { close(): Promise<void> }> {
  const adminKey = `ak_bench_${randomBytes(16).toString('hex')}`;
  const server = await startServer(
    loadConfig({
      DATABASE_URL: databaseUrl,
      PAYRAIL_ADMIN_KEY: adminKey,
      HOST: '127.0.0.1',
      PORT: '0',
      PAYRAIL_RUN_WORKERS: 'false',
      PAYRAIL_RATE_LIMITS: 'off',
      PAYRAIL_DATA_DIR: 'memory://',
      LOG_LEVEL: 'warn',
    }),
    createLogger('warn'),
  );
  const cookies = new Map<string, string>();
  const cookieHeader = () => [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  const remember = (response: Response) => {
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      if (at > 0) cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
  };
  const signInPage = await fetch(`${server.url}/dashboard/sign-in`);
  remember(signInPage);
  const token = /name="_csrf" value="([^"]+)"/.exec(await signInPage.text())?.[1] ?? '';
  const signedIn = await fetch(`${server.url}/dashboard/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader() },
    body: new URLSearchParams({ _csrf: token, key: adminKey }).toString(),
  });
  remember(signedIn);
  if (signedIn.status !== 303) throw new Error(`dashboard sign-in answered ${signedIn.status}`);
  const get = async (path: string) => {
    const response = await fetch(`${server.url}${path}`, { headers: { cookie: cookieHeader() } });
    const body = await response.text();
    if (response.status !== 200)
      throw new Error(`${path}: ${response.status} ${body.slice(0, 300)}`);
    return body;
  };
  return {
    list: (scope, filter, page) => get(`/dashboard/payments?${listQuery(scope, filter, page)}`),
    timeline: (_scope, id) => get(`/dashboard/payments/${id}`),
    close: () => server.close(),
  };
}

// ---------------------------------------------------------------------------------------------
// ---------------------------------------------------------------------------------------------
// Scenarios

const rareStatuses = ['requires_capture', 'requires_action', 'canceled'] as const;
const merchantIdOf = (index: number) => `mch_bench${String(index).padStart(8, '0')}`;
const intentIdOf = (k: number) => `pi_bench${String(k).padStart(10, '0')}`;

type Call = (driver: Driver, random: () => number) => Promise<unknown>;

function scenarios(
  options: DashboardBenchOptions,
): Record<string, { kind: 'list' | 'timeline'; call: Call }> {
  const n = options.payments;
  const groups = Math.floor(n / 4);
  const pick = (random: () => number, below: number) => Math.floor(random() * below);
  const anyMerchant = (random: () => number): DashboardScope => ({
    kind: 'merchant',
    merchantId: merchantIdOf(pick(random, options.merchants)),
  });
  const operator: DashboardScope = { kind: 'operator' };
  const page = { limit: pageSize };
  return {
    list_first_page_operator: { kind: 'list', call: (d) => d.list(operator, {}, page) },
    list_first_page_merchant: {
      kind: 'list',
      call: (d, random) => d.list(anyMerchant(random), {}, page),
    },
    list_status_merchant: {
      kind: 'list',
      call: (d, random) =>
        d.list(
          { kind: 'merchant', merchantId: merchantIdOf(0) },
          {
            statuses: [rareStatuses[pick(random, rareStatuses.length)] ?? 'canceled'],
          },
          page,
        ),
    },
    list_statuses_connector_operator: {
      kind: 'list',
      call: (d, random) =>
        d.list(
          operator,
          {
            statuses: ['requires_payment_method', 'requires_action'],
            connector: connectors[pick(random, 3)],
          },
          page,
        ),
    },
    list_amount_currency_dates_merchant: {
      kind: 'list',
      call: (d, random) => {
        const to = Date.parse(newest) - pick(random, 300) * 86_400_000;
        return d.list(
          anyMerchant(random),
          {
            currency: 'eur',
            amountMin: 10_000n,
            amountMax: 60_000n,
            created: { gte: new Date(to - 30 * 86_400_000), lt: new Date(to) },
          },
          page,
        );
      },
    },
    list_unused_connector_or_currency: {
      kind: 'list',
      // A connector or currency with no payment at all: an empty page, found without a scan.
      call: (d, random) =>
        d.list(
          random() < 0.5 ? operator : { kind: 'merchant', merchantId: merchantIdOf(0) },
          random() < 0.5 ? { connector: 'paytm' } : { currency: 'jpy', statuses: ['succeeded'] },
          page,
        ),
    },
    list_exact_amount_operator: {
      kind: 'list',
      call: (d, random) => {
        const k = 1 + pick(random, n);
        const amount = 500n + ((BigInt(k) * 7919n) % 99500n);
        return d.list(operator, { amountMin: amount, amountMax: amount }, page);
      },
    },
    list_deep_keyset_page: {
      kind: 'list',
      // A page after a payment 80-100 % down the list (the oldest year-end), and the page before it.
      call: async (d, random) => {
        const cursor = intentIdOf(1 + pick(random, Math.max(1, Math.floor(n / 5))));
        return d.list(operator, {}, { limit: pageSize, startingAfter: cursor });
      },
    },
    list_previous_page_merchant: {
      kind: 'list',
      call: (d, random) => {
        // A payment of the first merchant (group % 10 < 4), somewhere in the list.
        const group = pick(random, Math.floor(groups / 10)) * 10 + 1;
        return d.list(
          { kind: 'merchant', merchantId: merchantIdOf(0) },
          {},
          { limit: pageSize, endingBefore: intentIdOf(group * 4) },
        );
      },
    },
    list_search_email: {
      kind: 'list',
      call: (d, random) => {
        const group = pick(random, groups);
        const email = group % 10 < 7 ? `Customer${group}@Example.com` : `buyer${group}@example.net`;
        return d.list(operator, { q: email }, page);
      },
    },
    list_search_email_merchant: {
      kind: 'list',
      call: (d, random) => {
        const group = pick(random, Math.floor(groups / 10)) * 10 + 8;
        return d.list(
          { kind: 'merchant', merchantId: merchantIdOf(0) },
          { q: `buyer${group}@example.net` },
          page,
        );
      },
    },
    list_search_last4: {
      kind: 'list',
      call: (d, random) =>
        d.list(operator, { q: String(pick(random, 10_000)).padStart(4, '0') }, page),
    },
    list_search_last4_merchant: {
      kind: 'list',
      call: (d, random) =>
        d.list(
          { kind: 'merchant', merchantId: merchantIdOf(0) },
          { q: String(pick(random, 10_000)).padStart(4, '0') },
          page,
        ),
    },
    list_search_id: {
      kind: 'list',
      call: (d, random) => {
        const k = 1 + pick(random, n);
        const prefix = ['pi_bench', 'ch_bench', 'pi_bench'][k % 3] as string;
        return d.list(operator, { q: `${prefix}${String(k).padStart(10, '0')}` }, page);
      },
    },
    timeline: {
      kind: 'timeline',
      // A payment among the newest (those with events, deliveries, postings and keys), as
      // support opens them; its merchant's scope.
      call: (d, random) => {
        const k = n - pick(random, Math.floor(n / eventsShare));
        return d.timeline({ kind: 'operator' }, intentIdOf(k));
      },
    },
    timeline_any_payment: {
      kind: 'timeline',
      call: (d, random) => d.timeline({ kind: 'operator' }, intentIdOf(1 + pick(random, n))),
    },
  };
}

function summary(timesMs: number[]): Scenario {
  const sorted = timesMs.toSorted((a, b) => a - b);
  const round = (value: number) => Math.round(value * 100) / 100;
  return {
    p50_ms: round(percentile(sorted, 50)),
    p99_ms: round(percentile(sorted, 99)),
    max_ms: round(sorted.at(-1) ?? Number.NaN),
  };
}

/** The whole benchmark: database, seed, timed scenarios; the database is dropped unless kept. */
export async function runDashboardBench(
  options: DashboardBenchOptions,
  log: (line: string) => void = () => {},
): Promise<DashboardBenchResult> {
  const scratch: ScratchDatabase = await createScratchDatabase(options.databaseUrl);
  log(`database ${scratch.name}`);
  const database = openPostgres({ connectionString: scratch.url, poolSize: 4 });
  try {
    await migrate(database);
    const seedStarted = performance.now();
    await seed(database, options, log);
    const seedS = (performance.now() - seedStarted) / 1000;
    log(`seeded ${options.payments} payments in ${seedS.toFixed(1)} s`);
    const version = await database.query<{ server_version: string }>('SHOW server_version');
    const http = options.http ? await httpDriver(scratch.url) : undefined;
    const driver = http ?? inProcessDriver(database);
    try {
      const random = seededRandom(15);
      const results: Record<string, Scenario> = {};
      const byKind = { list: [] as number[], timeline: [] as number[] };
      const worst = { list: 0, timeline: 0 };
      for (const [name, scenario] of Object.entries(scenarios(options))) {
        // Warm-up: the first calls prepare the statements and bring the pages into the cache.
        for (let index = 0; index < 10; index++) await scenario.call(driver, random);
        const times: number[] = [];
        for (let index = 0; index < options.samples; index++) {
          const started = performance.now();
          await scenario.call(driver, random);
          times.push(performance.now() - started);
        }
        results[name] = summary(times);
        byKind[scenario.kind].push(...times);
        worst[scenario.kind] = Math.max(worst[scenario.kind], results[name].p99_ms);
        log(
          `${name}: p50 ${results[name].p50_ms} ms, p99 ${results[name].p99_ms} ms, max ${results[name].max_ms} ms`,
        );
      }
      return {
        bench: 'dashboard',
        mode: options.http ? 'pages over HTTP' : 'queries in process',
        list_p99_ms: summary(byKind.list).p99_ms,
        timeline_p99_ms: summary(byKind.timeline).p99_ms,
        list_p50_ms: summary(byKind.list).p50_ms,
        timeline_p50_ms: summary(byKind.timeline).p50_ms,
        list_worst_scenario_p99_ms: worst.list,
        js_gzip_kb: Math.round((new Assets().javascriptGzipBytes() / 1024) * 10) / 10,
        payments: options.payments,
        merchants: options.merchants,
        samples: options.samples,
        seed_s: Math.round(seedS * 10) / 10,
        scenarios: results,
        cpus: os.cpus().length,
        postgres: version.rows[0]?.server_version ?? 'unknown',
        database: options.keep ? scratch.name : null,
      };
    } finally {
      await http?.close();
    }
  } finally {
    await database.close();
    if (!options.keep) await scratch.drop();
  }
}

function report(result: DashboardBenchResult, options: DashboardBenchOptions): number {
  const met = result.list_p99_ms <= targetMs && result.timeline_p99_ms <= targetMs;
  if (options.json) {
    console.log(JSON.stringify(result));
    console.log(
      JSON.stringify({
        bench: 'dashboard',
        list_p99_ms: result.list_p99_ms,
        timeline_p99_ms: result.timeline_p99_ms,
        js_gzip_kb: result.js_gzip_kb,
      }),
    );
  } else {
    console.log(
      `dashboard with ${result.payments} payments (PostgreSQL ${result.postgres}, ${result.cpus} CPUs)`,
    );
    for (const [name, scenario] of Object.entries(result.scenarios))
      console.log(
        `  ${name.padEnd(40)} p50 ${scenario.p50_ms} ms  p99 ${scenario.p99_ms} ms  max ${scenario.max_ms} ms`,
      );
    console.log(
      `list p99 ${result.list_p99_ms} ms, timeline p99 ${result.timeline_p99_ms} ms (target ≤ ${targetMs}), JavaScript ${result.js_gzip_kb} KB gzipped`,
    );
    if (result.database !== null) console.log(`kept database ${result.database}`);
  }
  return met ? 0 : 1;
}

if (import.meta.main)
  process.exitCode = await benchMain({
    name: 'dashboard',
    argv: process.argv.slice(2),
    seedJobVariable: 'PAYRAIL_BENCH_DASHBOARD_SEED',
    seed: () => Promise.reject(new Error('the dashboard benchmark seeds in SQL, in this process')),
    parseOptions,
    usage,
    run: runDashboardBench,
    report,
  });
