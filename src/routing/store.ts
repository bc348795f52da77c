// Where a merchant's routing configuration lives (table merchant_routing, migration 008). Read
// on every payment, so cached in the process for a few seconds like MerchantSettings: a change
// through this process applies at once, one made by another process within `ttlMs`.
// PGlite has a single session: call `get` outside any open transaction.
import type { Queryable } from '../storage/database.ts';
import {
  emptyRoutingConfig,
  parseRoutingConfig,
  routingConfigToJson,
  type RoutingConfig,
} from './config.ts';

export type StoredRouting = {
  readonly config: RoutingConfig;
  /** When it was last replaced; null when the merchant never set one. */
  readonly updatedAt: Date | null;
};

type CachedRouting = StoredRouting & { readonly loadedAtMs: number };

type RoutingRow = { config: unknown; updated_at: Date };

export class RoutingStore {
  readonly #database: Queryable;
  readonly #ttlMs: number;
  readonly #cache = new Map<string, CachedRouting>();
  static readonly #merchantsMax = 10_000;

  constructor(database: Queryable, ttlMs = 5_000) {
    this.#database = database;
    this.#ttlMs = ttlMs;
  }

  async get(merchantId: string): Promise<StoredRouting> {
    const cached = this.#cache.get(merchantId);
    if (cached !== undefined && Date.now() - cached.loadedAtMs < this.#ttlMs) return cached;
    const result = await this.#database.query<RoutingRow>(
      'SELECT config, updated_at FROM merchant_routing WHERE merchant_id = $1',
      [merchantId],
    );
    const row = result.rows[0];
    // A stored config that no longer parses is a bug (it was valid when written): fail loudly.
    const stored =
      row === undefined
        ? { config: emptyRoutingConfig, updatedAt: null }
        : { config: parseStored(merchantId, row.config), updatedAt: row.updated_at };
    this.#remember(merchantId, stored);
    return stored;
  }

  /** Replaces the merchant's configuration (already validated by parseRoutingConfig). */
  async put(merchantId: string, config: RoutingConfig): Promise<StoredRouting> {
    const result = await this.#database.query<{ updated_at: Date }>(
      `INSERT INTO merchant_routing (merchant_id, config, updated_at) VALUES ($1, $2::jsonb, now())
       ON CONFLICT (merchant_id) DO UPDATE SET config = EXCLUDED.config, updated_at = EXCLUDED.updated_at
       RETURNING updated_at`,
      [merchantId, JSON.stringify(routingConfigToJson(config))],
    );
    const row = result.rows[0];
    if (row === undefined) throw new Error('merchant_routing upsert returned no row');
    const stored = { config, updatedAt: row.updated_at };
    this.#remember(merchantId, stored);
    return stored;
  }

  invalidate(merchantId: string): void {
    this.#cache.delete(merchantId);
  }

  #remember(merchantId: string, stored: StoredRouting): void {
    if (this.#cache.size >= RoutingStore.#merchantsMax) this.#cache.clear();
    this.#cache.set(merchantId, { ...stored, loadedAtMs: Date.now() });
  }
}

function parseStored(merchantId: string, json: unknown): RoutingConfig {
  try {
    return parseRoutingConfig(json);
  } catch (error) {
    throw new Error(`the stored routing configuration of merchant ${merchantId} is invalid`, {
      cause: error,
    });
  }
}
