// Merchants, their API keys, and the operator (admin) key. Domain code: no HTTP here.
import { systemClock, type Clock } from '../clock.ts';
import { platformAccountId } from './platform.ts';
import type { Database, Queryable } from '../storage/database.ts';
import { keysetPage, type PageRequest } from '../storage/pagination.ts';
import { newId } from '../ids.ts';
import { hashSecret, newSecret, secretHint } from './keys.ts';
import { keyPrefix, modeOfKey, type KeyKind } from './mode.ts';

export type Merchant = {
  readonly id: string;
  readonly name: string;
  readonly email: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  /** Live or test, for the merchant's whole life (docs/decisions.md); its keys have the same mode. */
  readonly livemode: boolean;
  readonly createdAt: Date;
};

export type MerchantInput = {
  readonly name: string;
  readonly email?: string;
  readonly metadata?: Record<string, string>;
  /** Default false: a test merchant. */
  readonly livemode?: boolean;
};

/**
 * Runs inside the transaction that creates a merchant (its connectors, prices …), so a merchant
 * is whole or absent.
 */
export type MerchantSetUp = (tx: Queryable, merchant: Merchant) => Promise<void>;

/** The authenticated side of an API key: whose it is, its mode, and whether secret or publishable. */
export type KeyOwner = {
  readonly merchantId: string;
  readonly livemode: boolean;
  readonly kind: KeyKind;
};

type MerchantRow = {
  id: string;
  name: string;
  email: string | null;
  metadata: Record<string, string>;
  livemode: boolean;
  created_at: Date;
};

const merchantColumns = 'id, name, email, metadata, livemode, created_at';

function merchantFromRow(row: MerchantRow): Merchant {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    metadata: row.metadata,
    livemode: row.livemode,
    createdAt: row.created_at,
  };
}

/**
 * A new key of the merchant's mode, secret (`sk_`) or publishable (`pk_`); only its hash is
 * stored, the key is returned once.
 */
async function insertKey(
  tx: Queryable,
  merchant: { id: string; livemode: boolean },
  kind: KeyKind = 'secret',
): Promise<string> {
  const key = newSecret(keyPrefix(kind, merchant.livemode));
  await tx.query(
    'INSERT INTO api_keys (id, merchant_id, key_hash, key_hint, livemode, kind) VALUES ($1, $2, $3, $4, $5, $6)',
    [newId('key'), merchant.id, hashSecret(key), secretHint(key), merchant.livemode, kind],
  );
  return key;
}

/** A new generated operator key; only its hash is stored, the key is returned once. */
async function insertGeneratedAdminKey(tx: Queryable): Promise<string> {
  const key = newSecret('ak_');
  await tx.query("INSERT INTO admin_keys (id, key_hash, source) VALUES ($1, $2, 'generated')", [
    newId('adk'),
    hashSecret(key),
  ]);
  return key;
}

const authCacheTtlMs = 5_000;
const authCacheEntriesMax = 10_000;
const modesMax = 10_000;

export class Merchants {
  readonly #database: Database;
  readonly #setUp: MerchantSetUp | undefined;
  /** By key hash; `expiresAtMs` is the key's expiry (a rolled key), checked on every hit. */
  readonly #authCache = new Map<
    string,
    { merchant: KeyOwner; at: number; expiresAtMs: number | undefined }
  >();
  readonly #clock: Clock;
  // A merchant's mode never changes, so it is remembered without a lifetime.
  readonly #modes = new Map<string, boolean>();

  /**
   * `setUp` runs for every new merchant, in the creating transaction (see MerchantSetUp); `clock`
   * decides when a rolled key has expired (by its merchant's time).
   */
  constructor(database: Database, options: { setUp?: MerchantSetUp; clock?: Clock } = {}) {
    this.#database = database;
    this.#setUp = options.setUp;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Creates a merchant with one secret key and one publishable key of its mode (as a Stripe
   * account starts with both); the keys are returned here and never again. The constructor's
   * set-up runs first, then `setUp`, both inside the creating transaction.
   */
  async create(
    input: MerchantInput,
    setUp?: (tx: Queryable, merchantId: string) => Promise<void>,
  ): Promise<{ merchant: Merchant; secretKey: string; publishableKey: string }> {
    return this.#database.transaction(async (tx) => {
      const inserted = await tx.query<MerchantRow>(
        `INSERT INTO merchants (id, name, email, metadata, livemode) VALUES ($1, $2, $3, $4::jsonb, $5) RETURNING ${merchantColumns}`,
        [
          newId('mch'),
          input.name,
          input.email ?? null,
          JSON.stringify(input.metadata ?? {}),
          input.livemode ?? false,
        ],
      );
      const merchant = merchantFromRow(inserted.rows[0] as MerchantRow);
      const secretKey = await insertKey(tx, merchant);
      const publishableKey = await insertKey(tx, merchant, 'publishable');
      await this.#setUp?.(tx, merchant);
      await setUp?.(tx, merchant.id);
      return { merchant, secretKey, publishableKey };
    });
  }

  /** The first merchant with this metadata value, if any (finds the development demo merchant). */
  async findByMetadata(key: string, value: string): Promise<Merchant | undefined> {
    const result = await this.#database.query<MerchantRow>(
      `SELECT ${merchantColumns} FROM merchants WHERE metadata ->> $1 = $2 ORDER BY created_at LIMIT 1`,
      [key, value],
    );
    const row = result.rows[0];
    return row === undefined ? undefined : merchantFromRow(row);
  }

  /**
   * A new secret key of the merchant's mode (shown once); with `revokeOthers`, earlier keys stop
   * working. The caller knows the merchant exists.
   */
  async issueKey(merchantId: string, options: { revokeOthers: boolean }): Promise<string> {
    const secretKey = await this.#database.transaction(async (tx) => {
      const found = await tx.query<{ livemode: boolean }>(
        'SELECT livemode FROM merchants WHERE id = $1',
        [merchantId],
      );
      const merchant = found.rows[0];
      if (merchant === undefined) throw new Error(`no merchant ${merchantId} to issue a key for`);
      if (options.revokeOthers)
        await tx.query(
          "UPDATE api_keys SET revoked_at = now() WHERE merchant_id = $1 AND kind = 'secret' AND revoked_at IS NULL",
          [merchantId],
        );
      return insertKey(tx, { id: merchantId, livemode: merchant.livemode });
    });
    // After the commit: a request in between could otherwise cache a key that is being revoked.
    if (options.revokeOthers) this.forgetKeys(merchantId, 'secret');
    return secretKey;
  }

  /**
   * Rolls the merchant's publishable key: a new one of its mode (shown once, like every key), and
   * the earlier one stops working, so a merchant has one publishable key, as a Stripe account shows.
   */
  async rollPublishableKey(merchantId: string): Promise<{ key: string; livemode: boolean }> {
    const rolled = await this.#database.transaction(async (tx) => {
      const found = await tx.query<{ livemode: boolean }>(
        'SELECT livemode FROM merchants WHERE id = $1 FOR UPDATE',
        [merchantId],
      );
      const merchant = found.rows[0];
      if (merchant === undefined)
        throw new Error(`no merchant ${merchantId} to issue a publishable key for`);
      await tx.query(
        "UPDATE api_keys SET revoked_at = now() WHERE merchant_id = $1 AND kind = 'publishable' AND revoked_at IS NULL",
        [merchantId],
      );
      const key = await insertKey(
        tx,
        { id: merchantId, livemode: merchant.livemode },
        'publishable',
      );
      return { key, livemode: merchant.livemode };
    });
    this.forgetKeys(merchantId, 'publishable');
    return rolled;
  }

  /**
   * Drops the merchant's keys (of one kind, or all) from this process's authentication cache:
   * called after a key is revoked or rolled, once the change is committed.
   */
  forgetKeys(merchantId: string, kind?: KeyKind): void {
    for (const [hash, entry] of this.#authCache)
      if (
        entry.merchant.merchantId === merchantId &&
        (kind === undefined || entry.merchant.kind === kind)
      )
        this.#authCache.delete(hash);
  }

  /** Whether the merchant is live; undefined for no such merchant. */
  async livemodeOf(merchantId: string): Promise<boolean | undefined> {
    const known = this.#modes.get(merchantId);
    if (known !== undefined) return known;
    const result = await this.#database.query<{ livemode: boolean }>(
      'SELECT livemode FROM merchants WHERE id = $1',
      [merchantId],
    );
    const livemode = result.rows[0]?.livemode;
    if (livemode !== undefined) this.#rememberMode(merchantId, livemode);
    return livemode;
  }

  #rememberMode(merchantId: string, livemode: boolean): void {
    if (this.#modes.size >= modesMax) this.#modes.clear();
    this.#modes.set(merchantId, livemode);
  }

  /** A merchant; never the platform's own account (it is no merchant, src/merchants/platform.ts). */
  async get(id: string): Promise<Merchant | undefined> {
    if (id === platformAccountId) return undefined;
    const result = await this.#database.query<MerchantRow>(
      `SELECT ${merchantColumns} FROM merchants WHERE id = $1`,
      [id],
    );
    const row = result.rows[0];
    return row === undefined ? undefined : merchantFromRow(row);
  }

  /** In id order (oldest first). */
  async list(options: PageRequest): Promise<{ merchants: Merchant[]; hasMore: boolean }> {
    const { rows, hasMore } = await keysetPage<MerchantRow, string>(
      this.#database,
      {
        select: merchantColumns,
        from: 'merchants',
        scope: 'id <> $1',
        scopeParameters: [platformAccountId],
        key: 'id',
        keyType: 'text',
        order: 'oldest_first',
        noun: 'merchant',
      },
      options,
    );
    return { merchants: rows.map(merchantFromRow), hasMore };
  }

  /**
   * The merchant an API key (secret or publishable) belongs to, its mode and kind, or undefined
   * for an unknown, revoked or expired key (a rolled key past its expires_at by the clock, in its
   * merchant's time), or one whose prefix names another mode or kind than its row.
   * A valid key is remembered for a few seconds (every request authenticates); a revocation made
   * through this process applies at once, one made by another process within `authCacheTtlMs`.
   */
  async authenticate(key: string): Promise<KeyOwner | undefined> {
    const named = modeOfKey(key);
    if (named === undefined) return undefined;
    const hash = hashSecret(key);
    const cached = this.#authCache.get(hash);
    if (cached !== undefined && Date.now() - cached.at < authCacheTtlMs)
      return this.#expired(cached.merchant.merchantId, cached.expiresAtMs)
        ? undefined
        : cached.merchant;
    const result = await this.#database.query<{
      merchant_id: string;
      livemode: boolean;
      kind: KeyKind;
      expires_at: Date | null;
    }>(
      'SELECT merchant_id, livemode, kind, expires_at FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL',
      [hash],
    );
    const row = result.rows[0];
    if (row === undefined || row.livemode !== named.livemode || row.kind !== named.kind)
      return undefined;
    const expiresAtMs = row.expires_at?.getTime();
    if (this.#expired(row.merchant_id, expiresAtMs)) return undefined;
    const merchant = { merchantId: row.merchant_id, livemode: row.livemode, kind: row.kind };
    this.#rememberMode(row.merchant_id, row.livemode);
    if (this.#authCache.size >= authCacheEntriesMax) this.#authCache.clear();
    this.#authCache.set(hash, { merchant, at: Date.now(), expiresAtMs });
    return merchant;
  }

  /** Whether a key expiring at `expiresAtMs` (none: never) has expired in its merchant's time. */
  #expired(merchantId: string, expiresAtMs: number | undefined): boolean {
    return expiresAtMs !== undefined && expiresAtMs <= this.#clock.now(merchantId).getTime();
  }
}

export class AdminKeys {
  readonly #database: Database;
  readonly #environmentKeyHash: string | undefined;

  constructor(database: Database, environmentKey: string | undefined) {
    this.#database = database;
    this.#environmentKeyHash =
      environmentKey === undefined ? undefined : hashSecret(environmentKey);
  }

  /**
   * With no key in the environment, makes sure one exists: the first start generates it,
   * stores its hash, and returns the secret for the caller to print once.
   */
  async bootstrap(): Promise<{ generatedKey: string | undefined }> {
    if (this.#environmentKeyHash !== undefined) return { generatedKey: undefined };
    return this.#database.transaction(async (tx) => {
      await tx.query('LOCK TABLE admin_keys IN EXCLUSIVE MODE');
      const existing = await tx.query(
        "SELECT 1 FROM admin_keys WHERE source = 'generated' LIMIT 1",
      );
      if (existing.rows.length > 0) return { generatedKey: undefined };
      return { generatedKey: await insertGeneratedAdminKey(tx) };
    });
  }

  /** Whether the admin key with this SHA-256 is still the operator's (not rotated away). */
  async knowsHash(hash: string): Promise<boolean> {
    if (this.#environmentKeyHash !== undefined) return hash === this.#environmentKeyHash;
    const found = await this.#database.query('SELECT 1 FROM admin_keys WHERE key_hash = $1', [
      hash,
    ]);
    return found.rows.length > 0;
  }

  /** Replaces every generated admin key with a new one and returns it (shown once). */
  async rotate(): Promise<string> {
    return this.#database.transaction(async (tx) => {
      await tx.query("DELETE FROM admin_keys WHERE source = 'generated'");
      return insertGeneratedAdminKey(tx);
    });
  }

  async authenticate(secret: string): Promise<boolean> {
    const hash = hashSecret(secret);
    if (this.#environmentKeyHash !== undefined) return hash === this.#environmentKeyHash;
    const result = await this.#database.query('SELECT 1 FROM admin_keys WHERE key_hash = $1', [
      hash,
    ]);
    return result.rows.length > 0;
  }
}
