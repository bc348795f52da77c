// Per merchant: which connectors are enabled (priority order, credentials, base URL) and the
// price. A merchant created in test mode gets the three simulated PSPs and a default price.
import type { ConnectorCredentials } from '../connectors/types.ts';
import type { Queryable } from '../storage/database.ts';
import type { Price } from './postings.ts';

export type MerchantConnector = {
  readonly connector: string;
  readonly enabled: boolean;
  readonly priority: number;
  readonly credentials: ConnectorCredentials;
};

/**
 * The webhook signing secret of the simulator's PSP `connector` in test mode: a fixed development
 * value, the same for every test-mode merchant, because the simulator has one secret per PSP.
 * configureSimulatorWebhooks (psp-webhooks.ts) gives the simulator the same value.
 */
export function simulatorWebhookSecret(connector: string): string {
  return `whsec_payrail_simulator_${connector}`;
}

/** The simulator's test credentials (sim/CONTRACT.md). */
export function simulatorConnectors(simulatorUrl: string): MerchantConnector[] {
  return [
    {
      connector: 'stripe', enabled: true, priority: 10,
      credentials: { baseUrl: `${simulatorUrl}/stripe`, apiKey: 'sk_test_sim', webhookSecret: simulatorWebhookSecret('stripe') },
    },
    {
      connector: 'razorpay', enabled: true, priority: 20,
      credentials: { baseUrl: `${simulatorUrl}/razorpay`, apiKey: 'rzp_test_sim', apiSecret: 'sim_secret', webhookSecret: simulatorWebhookSecret('razorpay') },
    },
    {
      connector: 'paytm', enabled: true, priority: 30,
      credentials: {
        baseUrl: `${simulatorUrl}/paytm`, apiKey: 'SIMMID00000000000001', apiSecret: 'sim_merchant_key', merchantAccount: 'SIMMID00000000000001',
        webhookSecret: simulatorWebhookSecret('paytm'),
      },
    },
  ];
}

/** 2.9 % + 30 cents in usd, 2.9 % elsewhere. */
export const defaultPrices: readonly { currency: string; percentBps: bigint; fixedAmount: bigint }[] = [
  { currency: 'usd', percentBps: 290n, fixedAmount: 30n },
  { currency: '*', percentBps: 290n, fixedAmount: 0n },
];

export async function setConnector(tx: Queryable, merchantId: string, setting: MerchantConnector): Promise<void> {
  const { baseUrl, ...secrets } = setting.credentials;
  await tx.query(
    `INSERT INTO merchant_connectors (merchant_id, connector, enabled, priority, base_url, credentials)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb)
     ON CONFLICT (merchant_id, connector) DO UPDATE SET enabled = EXCLUDED.enabled, priority = EXCLUDED.priority,
       base_url = EXCLUDED.base_url, credentials = EXCLUDED.credentials`,
    [merchantId, setting.connector, setting.enabled, setting.priority, baseUrl, JSON.stringify(secrets)],
  );
}

export async function setPrice(tx: Queryable, merchantId: string, currency: string, price: Price): Promise<void> {
  await tx.query(
    `INSERT INTO merchant_prices (merchant_id, currency, percent_bps, fixed_amount) VALUES ($1, $2, $3, $4)
     ON CONFLICT (merchant_id, currency) DO UPDATE SET percent_bps = EXCLUDED.percent_bps, fixed_amount = EXCLUDED.fixed_amount`,
    [merchantId, currency, Number(price.percentBps), price.fixedAmount],
  );
}

/** Called inside the transaction that creates a test-mode merchant. */
export async function setUpTestMerchant(tx: Queryable, merchantId: string, simulatorUrl: string): Promise<void> {
  for (const setting of simulatorConnectors(simulatorUrl)) await setConnector(tx, merchantId, setting);
  for (const price of defaultPrices) await setPrice(tx, merchantId, price.currency, price);
}

type ConnectorRow = { connector: string; enabled: boolean; priority: number; base_url: string; credentials: Omit<ConnectorCredentials, 'baseUrl'> };

export async function connectorsOf(queryable: Queryable, merchantId: string): Promise<MerchantConnector[]> {
  const result = await queryable.query<ConnectorRow>(
    'SELECT connector, enabled, priority, base_url, credentials FROM merchant_connectors WHERE merchant_id = $1 ORDER BY priority, connector',
    [merchantId],
  );
  return result.rows.map((row) => ({ connector: row.connector, enabled: row.enabled, priority: row.priority, credentials: { ...row.credentials, baseUrl: row.base_url } }));
}


type CachedSettings = { readonly connectors: MerchantConnector[]; readonly prices: Map<string, Price>; readonly loadedAt: number };

/**
 * Connector settings and prices per merchant, read on every payment, so cached in the process
 * for a few seconds. A change through this process applies at once (invalidate); one made by
 * another process applies within `ttlMs`.
 */
export class MerchantSettings {
  readonly #database: Queryable;
  readonly #ttlMs: number;
  readonly #cache = new Map<string, CachedSettings>();
  static readonly #merchantsMax = 10_000;

  constructor(database: Queryable, ttlMs = 5_000) {
    this.#database = database;
    this.#ttlMs = ttlMs;
  }

  async #load(merchantId: string): Promise<CachedSettings> {
    const cached = this.#cache.get(merchantId);
    if (cached !== undefined && Date.now() - cached.loadedAt < this.#ttlMs) return cached;
    const connectors = await connectorsOf(this.#database, merchantId);
    const rows = await this.#database.query<{ currency: string; percent_bps: number; fixed_amount: bigint }>(
      'SELECT currency, percent_bps, fixed_amount FROM merchant_prices WHERE merchant_id = $1',
      [merchantId],
    );
    const prices = new Map(rows.rows.map((row) => [row.currency, { percentBps: BigInt(row.percent_bps), fixedAmount: row.fixed_amount }]));
    const loaded = { connectors, prices, loadedAt: Date.now() };
    if (this.#cache.size >= MerchantSettings.#merchantsMax) this.#cache.clear();
    this.#cache.set(merchantId, loaded);
    return loaded;
  }

  async connectors(merchantId: string): Promise<readonly MerchantConnector[]> {
    return (await this.#load(merchantId)).connectors;
  }

  async credentials(merchantId: string, connector: string): Promise<ConnectorCredentials> {
    const setting = (await this.#load(merchantId)).connectors.find((candidate) => candidate.connector === connector);
    if (setting === undefined) throw new Error(`merchant ${merchantId} has no settings for connector ${connector}`);
    return setting.credentials;
  }

  /** The price for a currency, else the merchant's '*' price, else none. */
  async price(merchantId: string, currency: string): Promise<Price> {
    const prices = (await this.#load(merchantId)).prices;
    return prices.get(currency) ?? prices.get('*') ?? { percentBps: 0n, fixedAmount: 0n };
  }

  invalidate(merchantId: string): void {
    this.#cache.delete(merchantId);
  }
}
