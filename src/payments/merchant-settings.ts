// Per merchant: which connectors are enabled (priority order, credentials, base URL) and the
// price. Every new merchant gets the default prices; a test merchant also gets the simulated PSPs
// (src/testmode), a live merchant only the connectors the operator sets.
// Credentials are sealed at rest (SecretBox, bound to merchant and connector); rows written in
// plaintext before migration 016 are sealed at start-up and on first read.
import type { ConnectorCredentials } from '../connectors/types.ts';
import { isCurrency, MAX_AMOUNT_MINOR } from '../money/index.ts';
import type { Queryable } from '../storage/database.ts';
import type { SecretBox } from '../vault/secret-box.ts';
import type { Price } from './postings.ts';

export type MerchantConnector = {
  readonly connector: string;
  readonly enabled: boolean;
  readonly priority: number;
  readonly credentials: ConnectorCredentials;
};

/** 2.9 % + 30 cents in usd, 2.9 % elsewhere. */
export const defaultPrices: readonly {
  currency: string;
  percentBps: bigint;
  fixedAmount: bigint;
}[] = [
  { currency: 'usd', percentBps: 290n, fixedAmount: 30n },
  { currency: '*', percentBps: 290n, fixedAmount: 0n },
];

type Secrets = Omit<ConnectorCredentials, 'baseUrl'>;

function sealCredentials(
  secretBox: SecretBox,
  merchantId: string,
  connector: string,
  secrets: Secrets,
): string {
  return secretBox.seal(JSON.stringify(secrets), [merchantId, connector]);
}

/** Writes a connector setting with its credentials sealed. */
export async function setConnector(
  tx: Queryable,
  merchantId: string,
  setting: MerchantConnector,
  secretBox: SecretBox,
): Promise<void> {
  const { baseUrl, ...secrets } = setting.credentials;
  await tx.query(
    `INSERT INTO merchant_connectors (merchant_id, connector, enabled, priority, base_url, credentials, credentials_sealed)
     VALUES ($1, $2, $3, $4, $5, NULL, $6)
     ON CONFLICT (merchant_id, connector) DO UPDATE SET enabled = EXCLUDED.enabled, priority = EXCLUDED.priority,
       base_url = EXCLUDED.base_url, credentials = NULL, credentials_sealed = EXCLUDED.credentials_sealed`,
    [
      merchantId,
      setting.connector,
      setting.enabled,
      setting.priority,
      baseUrl,
      sealCredentials(secretBox, merchantId, setting.connector, secrets),
    ],
  );
}

/** `currency` is a known ISO code or '*' (the fallback); the HTTP layer checks first, this guards the domain. */
export async function setPrice(
  tx: Queryable,
  merchantId: string,
  currency: string,
  price: Price,
): Promise<void> {
  if (currency !== '*' && !isCurrency(currency))
    throw new Error(`merchant settings: unknown currency '${currency}' for a price`);
  if (
    price.percentBps < 0n ||
    price.percentBps > 10_000n ||
    price.fixedAmount < 0n ||
    price.fixedAmount > MAX_AMOUNT_MINOR
  ) {
    throw new Error(
      `merchant settings: price out of range (${price.percentBps} bps + ${price.fixedAmount})`,
    );
  }
  await tx.query(
    `INSERT INTO merchant_prices (merchant_id, currency, percent_bps, fixed_amount) VALUES ($1, $2, $3, $4)
     ON CONFLICT (merchant_id, currency) DO UPDATE SET percent_bps = EXCLUDED.percent_bps, fixed_amount = EXCLUDED.fixed_amount`,
    [merchantId, currency, Number(price.percentBps), price.fixedAmount],
  );
}

/** Called inside the transaction that creates a merchant, of either mode. */
export async function setDefaultPrices(tx: Queryable, merchantId: string): Promise<void> {
  for (const price of defaultPrices) await setPrice(tx, merchantId, price.currency, price);
}

type ConnectorRow = {
  connector: string;
  enabled: boolean;
  priority: number;
  base_url: string;
  credentials: Secrets | null;
  credentials_sealed: string | null;
};

function secretsOf(row: ConnectorRow, merchantId: string, secretBox: SecretBox): Secrets {
  if (row.credentials_sealed === null) {
    if (row.credentials === null)
      throw new Error(`merchant ${merchantId} has no credentials for connector ${row.connector}`); // the CHECK forbids it
    return row.credentials;
  }
  const secrets = JSON.parse(
    secretBox.open(row.credentials_sealed, [merchantId, row.connector]),
  ) as Secrets;
  if (typeof secrets.apiKey !== 'string')
    throw new Error(
      `the sealed credentials of merchant ${merchantId} for connector ${row.connector} have no API key`,
    );
  return secrets;
}

async function readConnectors(
  queryable: Queryable,
  merchantId: string,
  secretBox: SecretBox,
): Promise<{ settings: MerchantConnector[]; plaintext: boolean }> {
  const result = await queryable.query<ConnectorRow>(
    'SELECT connector, enabled, priority, base_url, credentials, credentials_sealed FROM merchant_connectors WHERE merchant_id = $1 ORDER BY priority, connector',
    [merchantId],
  );
  const settings = result.rows.map((row) => ({
    connector: row.connector,
    enabled: row.enabled,
    priority: row.priority,
    credentials: { ...secretsOf(row, merchantId, secretBox), baseUrl: row.base_url },
  }));
  return { settings, plaintext: result.rows.some((row) => row.credentials_sealed === null) };
}

/** A merchant's connector settings, credentials opened (plaintext rows read as they are). */
export async function connectorsOf(
  queryable: Queryable,
  merchantId: string,
  secretBox: SecretBox,
): Promise<MerchantConnector[]> {
  return (await readConnectors(queryable, merchantId, secretBox)).settings;
}

const sealBatchSize = 100;

/**
 * Seals credentials still in plaintext (written before migration 016),
 * of one merchant or of all. A row changed meanwhile is left to the next run (the update compares
 * the plaintext it sealed). Returns how many rows it sealed.
 */
export async function sealPlaintextCredentials(
  queryable: Queryable,
  secretBox: SecretBox,
  merchantId?: string,
): Promise<number> {
  let sealed = 0;
  let after = { merchantId: '', connector: '' };
  for (;;) {
    const batch = await queryable.query<{
      merchant_id: string;
      connector: string;
      credentials: Secrets;
    }>(
      `SELECT merchant_id, connector, credentials FROM merchant_connectors
       WHERE credentials IS NOT NULL AND ($1::text IS NULL OR merchant_id = $1) AND (merchant_id, connector) > ($2, $3)
       ORDER BY merchant_id, connector LIMIT ${sealBatchSize}`,
      [merchantId ?? null, after.merchantId, after.connector],
    );
    for (const row of batch.rows) {
      const updated = await queryable.query(
        `UPDATE merchant_connectors SET credentials_sealed = $3, credentials = NULL
         WHERE merchant_id = $1 AND connector = $2 AND credentials = $4::jsonb`,
        [
          row.merchant_id,
          row.connector,
          sealCredentials(secretBox, row.merchant_id, row.connector, row.credentials),
          JSON.stringify(row.credentials),
        ],
      );
      sealed += updated.rowCount;
      after = { merchantId: row.merchant_id, connector: row.connector };
    }
    if (batch.rows.length < sealBatchSize) return sealed;
  }
}

export type MerchantPrice = Price & { readonly currency: string };

/** A merchant's prices, per currency, with the '*' fallback last. */
export async function pricesOf(queryable: Queryable, merchantId: string): Promise<MerchantPrice[]> {
  const rows = await queryable.query<{
    currency: string;
    percent_bps: number;
    fixed_amount: bigint;
  }>(
    "SELECT currency, percent_bps, fixed_amount FROM merchant_prices WHERE merchant_id = $1 ORDER BY currency = '*', currency",
    [merchantId],
  );
  return rows.rows.map((row) => ({
    currency: row.currency,
    percentBps: BigInt(row.percent_bps),
    fixedAmount: row.fixed_amount,
  }));
}

type CachedSettings = {
  readonly connectors: MerchantConnector[];
  readonly prices: Map<string, Price>;
  readonly loadedAt: number;
};

export type MerchantSettingsOptions = {
  /** Seals and opens credentials. */
  readonly secretBox: SecretBox;
  readonly ttlMs?: number;
  /** For tests of the cache's lifetime. */
  readonly now?: () => number;
};

/**
 * Connector settings and prices per merchant, read on every payment, so cached in the process
 * for a few seconds. A change through this process applies at once (the setters invalidate);
 * one made by another process applies within `ttlMs`.
 */
export class MerchantSettings {
  readonly #database: Queryable;
  readonly #secretBox: SecretBox;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, CachedSettings>();
  // Bumped by every invalidation: a load that started before one does not cache what it read.
  #generation = 0;
  static readonly #merchantsMax = 10_000;

  constructor(database: Queryable, options: MerchantSettingsOptions) {
    this.#database = database;
    this.#secretBox = options.secretBox;
    this.#ttlMs = options.ttlMs ?? 5_000;
    this.#now = options.now ?? Date.now;
  }

  async #load(merchantId: string): Promise<CachedSettings> {
    const cached = this.#cache.get(merchantId);
    if (cached !== undefined && this.#now() - cached.loadedAt < this.#ttlMs) return cached;
    const generation = this.#generation;
    const { settings: connectors, plaintext } = await readConnectors(
      this.#database,
      merchantId,
      this.#secretBox,
    );
    if (plaintext) await sealPlaintextCredentials(this.#database, this.#secretBox, merchantId);
    const prices = new Map(
      (await pricesOf(this.#database, merchantId)).map(({ currency, ...price }) => [
        currency,
        price,
      ]),
    );
    const loaded = { connectors, prices, loadedAt: this.#now() };
    if (generation !== this.#generation) return loaded;
    if (this.#cache.size >= MerchantSettings.#merchantsMax) this.#cache.clear();
    this.#cache.set(merchantId, loaded);
    return loaded;
  }

  async connectors(merchantId: string): Promise<readonly MerchantConnector[]> {
    return (await this.#load(merchantId)).connectors;
  }

  async credentials(merchantId: string, connector: string): Promise<ConnectorCredentials> {
    const setting = (await this.#load(merchantId)).connectors.find(
      (candidate) => candidate.connector === connector,
    );
    if (setting === undefined)
      throw new Error(`merchant ${merchantId} has no settings for connector ${connector}`);
    return setting.credentials;
  }

  /** The price for a currency, else the merchant's '*' price, else none. */
  async price(merchantId: string, currency: string): Promise<Price> {
    const prices = (await this.#load(merchantId)).prices;
    return prices.get(currency) ?? prices.get('*') ?? { percentBps: 0n, fixedAmount: 0n };
  }

  /** As stored now, bypassing the cache (operator views). */
  async storedConnectors(merchantId: string): Promise<MerchantConnector[]> {
    return connectorsOf(this.#database, merchantId, this.#secretBox);
  }

  async storedPrices(merchantId: string): Promise<MerchantPrice[]> {
    return pricesOf(this.#database, merchantId);
  }

  async setConnector(merchantId: string, setting: MerchantConnector): Promise<void> {
    await setConnector(this.#database, merchantId, setting, this.#secretBox);
    this.invalidate(merchantId);
  }

  async setPrice(merchantId: string, currency: string, price: Price): Promise<void> {
    await setPrice(this.#database, merchantId, currency, price);
    this.invalidate(merchantId);
  }

  /** Seals every plaintext row (at start-up); returns how many. */
  async sealPlaintextCredentials(): Promise<number> {
    return sealPlaintextCredentials(this.#database, this.#secretBox);
  }

  invalidate(merchantId: string): void {
    this.#generation++;
    this.#cache.delete(merchantId);
  }
}
