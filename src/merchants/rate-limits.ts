// A merchant's API rate limits set by the operator (table rate_limit_overrides, migration 038).
// Read on every API request, so cached in the process for a few seconds: a change through this
// process applies at once, one made through another process within `ttlMs`.
import type { Queryable } from '../storage/database.ts';

/** What the operator set; an absent field keeps the process default (config.ts rateLimits). */
export type RateLimitOverride = {
  readonly livePerSecond?: number;
  readonly testPerSecond?: number;
  readonly endpointPerSecond?: number;
  readonly concurrent?: number;
};

export type StoredRateLimitOverride = {
  readonly override: RateLimitOverride;
  /** When the operator last changed it; null when never set. */
  readonly updatedAt: Date | null;
};

/** A field given as null clears it (back to the default); an absent field is left as it was. */
export type RateLimitOverridePatch = {
  readonly [Field in keyof RateLimitOverride]?: number | null;
};

/** The bound of every limit: above it a limit means nothing and only risks overflow. */
export const rateLimitValueMax = 1_000_000;

type OverrideRow = {
  live_per_second: number | null;
  test_per_second: number | null;
  endpoint_per_second: number | null;
  concurrent: number | null;
  updated_at: Date;
};

const columns = {
  livePerSecond: 'live_per_second',
  testPerSecond: 'test_per_second',
  endpointPerSecond: 'endpoint_per_second',
  concurrent: 'concurrent',
} as const satisfies Record<keyof RateLimitOverride, keyof OverrideRow>;

const fields = Object.keys(columns) as (keyof RateLimitOverride)[];

function fromRow(row: OverrideRow | undefined): StoredRateLimitOverride {
  if (row === undefined) return { override: {}, updatedAt: null };
  const override: Record<string, number> = {};
  for (const field of fields) {
    const value = row[columns[field]];
    if (value !== null) override[field] = value;
  }
  return { override, updatedAt: row.updated_at };
}

type Cached = StoredRateLimitOverride & { readonly loadedAtMs: number };

export class RateLimitOverrides {
  readonly #database: Queryable;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, Cached>();
  static readonly #merchantsMax = 10_000;

  constructor(database: Queryable, options: { ttlMs?: number; now?: () => number } = {}) {
    this.#database = database;
    this.#ttlMs = options.ttlMs ?? 5_000;
    this.#now = options.now ?? Date.now;
  }

  async get(merchantId: string): Promise<StoredRateLimitOverride> {
    const cached = this.#cache.get(merchantId);
    if (cached !== undefined && this.#now() - cached.loadedAtMs < this.#ttlMs) return cached;
    const result = await this.#database.query<OverrideRow>(
      'SELECT live_per_second, test_per_second, endpoint_per_second, concurrent, updated_at ' +
        'FROM rate_limit_overrides WHERE merchant_id = $1',
      [merchantId],
    );
    const stored = fromRow(result.rows[0]);
    this.#remember(merchantId, stored);
    return stored;
  }

  /** Applies the patch (the caller checked the merchant exists and the values' bounds). */
  async set(merchantId: string, patch: RateLimitOverridePatch): Promise<StoredRateLimitOverride> {
    for (const field of fields) {
      const value = patch[field];
      if (value === undefined || value === null) continue;
      if (!Number.isInteger(value) || value < 1 || value > rateLimitValueMax)
        throw new Error(`rate limit ${field} out of bounds: ${value}`);
    }
    // Each column: the patch's value when given (null clears), else the stored one.
    const given = fields.map((field) => patch[field] !== undefined);
    const values = fields.map((field) => patch[field] ?? null);
    const result = await this.#database.query<OverrideRow>(
      `INSERT INTO rate_limit_overrides
         (merchant_id, live_per_second, test_per_second, endpoint_per_second, concurrent, updated_at)
       VALUES ($1, $2, $3, $4, $5, now())
       ON CONFLICT (merchant_id) DO UPDATE SET
         live_per_second = CASE WHEN $6 THEN EXCLUDED.live_per_second ELSE rate_limit_overrides.live_per_second END,
         test_per_second = CASE WHEN $7 THEN EXCLUDED.test_per_second ELSE rate_limit_overrides.test_per_second END,
         endpoint_per_second = CASE WHEN $8 THEN EXCLUDED.endpoint_per_second ELSE rate_limit_overrides.endpoint_per_second END,
         concurrent = CASE WHEN $9 THEN EXCLUDED.concurrent ELSE rate_limit_overrides.concurrent END,
         updated_at = now()
       RETURNING live_per_second, test_per_second, endpoint_per_second, concurrent, updated_at`,
      [merchantId, ...values, ...given],
    );
    const stored = fromRow(result.rows[0]);
    this.#remember(merchantId, stored);
    return stored;
  }

  #remember(merchantId: string, stored: StoredRateLimitOverride): void {
    // A bound on the cache: past it, start over (every entry is cheap to load again).
    if (this.#cache.size >= RateLimitOverrides.#merchantsMax) this.#cache.clear();
    this.#cache.set(merchantId, { ...stored, loadedAtMs: this.#now() });
  }
}
