import type { Config } from '../config.ts';
import type { Ledger } from '../ledger/index.ts';
import type { AdminKeys, Merchants } from '../merchants/merchants.ts';
import type { Logger } from '../observability/logger.ts';
import type { Database } from '../storage/database.ts';
import type { IdempotencyKeys } from '../idempotency/keys.ts';
import type { PaymentsService } from '../payments/service.ts';
import type { Vault } from '../vault/index.ts';
import type { Webhooks } from '../webhooks/index.ts';
import type { DeadLetters } from '../events/bus/index.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { RoutingStore } from '../routing/index.ts';
import type { TestMode } from '../testmode/index.ts';

/** Everything the HTTP layer needs; built once by the server and passed to every route module. */
export type AppContext = {
  readonly config: Config;
  readonly database: Database;
  readonly ledger: Ledger;
  readonly merchants: Merchants;
  readonly adminKeys: AdminKeys;
  readonly logger: Logger;
  readonly payments: PaymentsService;
  readonly vault: Vault;
  readonly idempotency: IdempotencyKeys;
  /** Webhook endpoints and their deliverer; without it the webhook routes answer 503. */
  readonly webhooks?: Webhooks;
  readonly routing: RoutingStore;
  readonly deadLetters: DeadLetters;
  readonly metrics: Metrics;
  /** Keeps live merchants off the simulated PSPs (the operator's connector settings). */
  readonly testMode: TestMode;
};
