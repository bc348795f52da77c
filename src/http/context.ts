import type { Config } from '../config.ts';
import type { Ledger } from '../ledger/index.ts';
import type { AdminKeys, Merchants } from '../merchants/merchants.ts';
import type { Logger } from '../observability/logger.ts';
import type { Database } from '../storage/database.ts';
import type { IdempotencyKeys } from '../idempotency/keys.ts';
import type { PaymentsService } from '../payments/service.ts';
import type { CustomersService } from '../customers/service.ts';
import type { SetupIntentsService } from '../customers/setup-intents.ts';
import type { RiskService } from '../risk/service.ts';
import type { CheckoutService } from '../checkout/service.ts';
import type { BalancesService } from '../balances/index.ts';
import type { Vault } from '../vault/index.ts';
import type { Webhooks } from '../webhooks/index.ts';
import type { DeadLetters } from '../events/bus/index.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { RoutingStore } from '../routing/index.ts';
import type { TestClocks } from '../testmode/clock-service.ts';
import type { EventLog } from '../events/events.ts';
import type { VerifyReport } from '../ledger/index.ts';
import type { PspWebhooks } from '../payments/psp-webhooks.ts';
import type { Readiness } from '../storage/readiness.ts';
import type { TestMode } from '../testmode/index.ts';
import type { SettlementService } from '../settlement/service.ts';
import type { PayoutsService } from '../payouts/payouts.ts';
import type { MoneyOut } from '../money-out/index.ts';
import type {
  FeeSchedules,
  ReconciliationFiles,
  ReconciliationService,
} from '../reconciliation/index.ts';
import type { Redis } from '../storage/redis.ts';
import type { RateLimitOverrides } from '../merchants/rate-limits.ts';
import type { ApiRateLimits } from './rate-limit.ts';
import type { DashboardServices } from '../dashboard/index.ts';
import type { ApiKeys } from '../merchants/api-keys.ts';
import type { ConnectorHealth } from '../observability/connector-health.ts';

/** Everything the HTTP layer needs; built once by the server and passed to every route module. */
export type AppContext = {
  readonly config: Config;
  /** For the server's owner (tests, the CLI); routes reach data only through the services. */
  readonly database: Database;
  readonly ledger: Ledger;
  readonly merchants: Merchants;
  readonly adminKeys: AdminKeys;
  readonly logger: Logger;
  readonly payments: PaymentsService;
  /** Customers, saved cards and erasure (src/customers). */
  readonly customers: CustomersService;
  /** SetupIntents: saving a card without a payment. */
  readonly setupIntents: SetupIntentsService;
  /** Radar: risk rules, value lists and settings (src/risk/service.ts). */
  readonly radar: RiskService;
  /** Hosted checkout: Checkout Sessions, Payment Links and the /pay pages (src/checkout). */
  readonly checkout: CheckoutService;
  /** The balance and balance transactions a merchant reads (src/balances). */
  readonly balances: BalancesService;
  readonly vault: Vault;
  readonly idempotency: IdempotencyKeys;
  /** Webhook endpoints and their deliverer; without it the webhook routes answer 503. */
  readonly webhooks?: Webhooks;
  readonly routing: RoutingStore;
  readonly deadLetters: DeadLetters;
  readonly metrics: Metrics;
  /** Moving test clocks; undefined (and no route) unless test clocks are enabled. */
  readonly testClocks?: TestClocks;
  readonly events: EventLog;
  /** Receives PSPs' webhooks (each verified by its own signature). */
  readonly pspWebhooks: PspWebhooks;
  /** Recomputes the whole ledger and re-checks every invariant. */
  verifyLedger(): Promise<VerifyReport>;
  /** The readiness probe: the database reachable, every migration applied. */
  readiness(): Promise<Readiness>;
  /** Keeps live merchants off the simulated PSPs (the operator's connector settings). */
  readonly testMode: TestMode;
  /** Clearing batches with the acquirer, connector cutoffs (architecture §12). */
  readonly settlement: SettlementService;
  /** Payout settings, bank accounts and payouts (architecture §12). */
  readonly payouts: PayoutsService;
  /** The money-out pipeline, run on demand by the operator (architecture §12). */
  readonly moneyOut: MoneyOut;
  /** Reconciliation runs and exceptions (architecture §13). */
  readonly reconciliation: ReconciliationService;
  /** Reconciliation files taken in (architecture §13). */
  readonly reconciliationFiles: ReconciliationFiles;
  /** The PSPs' fee schedules reconciliation checks reported fees against. */
  readonly reconciliationFeeSchedules: FeeSchedules;
  /** The process's one Redis client (REDIS_URL), shared by its users; undefined without one. */
  readonly redis?: Redis;
  /** The operator's per-merchant rate limits (src/merchants/rate-limits.ts). */
  readonly rateLimitOverrides: RateLimitOverrides;
  /** API rate limits (src/http/rate-limit.ts); undefined: no limits (a test's own app). */
  readonly rateLimits?: ApiRateLimits;
  /** The dashboard's users, sessions and audit log (src/dashboard). */
  readonly dashboard: DashboardServices;
  /** A merchant's API keys: list, create, roll, revoke (the dashboard's developers page). */
  readonly apiKeys: ApiKeys;
  /** Connector health per minute: series() and current() (the dashboard's connectors page). */
  readonly connectorHealth: ConnectorHealth;
};

/**
 * What the route modules get: the services, never the database (a route validates, calls one
 * service method and presents; reading or writing data is the services' work).
 */
export type RouteContext = Omit<AppContext, 'database'>;
