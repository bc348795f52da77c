// Merchants, their API keys, and the operator (admin) key. Domain code: no HTTP here.
import type { Database, Queryable } from '../storage/database.ts';
import { keysetPage, type PageRequest } from '../storage/pagination.ts';
import { newId } from '../ids.ts';
import { hashSecret, newSecret, secretHint } from './keys.ts';

export type Merchant = {
  readonly id: string;
  readonly name: string;
  readonly email: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly createdAt: Date;
};

export type MerchantInput = {
  readonly name: string;
  readonly email?: string;
  readonly metadata?: Record<string, string>;
};

type MerchantRow = {
  id: string;
  name: string;
  email: string | null;
  metadata: Record<string, string>;
  created_at: Date;
};

function merchantFromRow(row: MerchantRow): Merchant {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    metadata: row.metadata,
    createdAt: row.created_at,
  };
}

/** A new test-mode secret key for the merchant; only its hash is stored, the key is returned once. */
async function insertKey(tx: Queryable, merchantId: string): Promise<string> {
  const secretKey = newSecret('sk_test_');
  await tx.query(
    'INSERT INTO api_keys (id, merchant_id, key_hash, key_hint) VALUES ($1, $2, $3, $4)',
    [newId('key'), merchantId, hashSecret(secretKey), secretHint(secretKey)],
  );
  return secretKey;
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

export class Merchants {
  readonly #database: Database;
  readonly #authCache = new Map<
    string,
    { merchant: { merchantId: string; livemode: boolean }; at: number }
  >();

  constructor(database: Database) {
    this.#database = database;
  }

  /** Creates a merchant with one test-mode secret key; the key is returned here and never again. */
  /** `setUp` runs inside the creating transaction (connectors, prices …), so a merchant is whole or absent. */
  async create(
    input: MerchantInput,
    setUp?: (tx: Queryable, merchantId: string) => Promise<void>,
  ): Promise<{ merchant: Merchant; secretKey: string }> {
    return this.#database.transaction(async (tx) => {
      const inserted = await tx.query<MerchantRow>(
        'INSERT INTO merchants (id, name, email, metadata) VALUES ($1, $2, $3, $4::jsonb) RETURNING id, name, email, metadata, created_at',
        [newId('mch'), input.name, input.email ?? null, JSON.stringify(input.metadata ?? {})],
      );
      const row = inserted.rows[0] as MerchantRow;
      const secretKey = await insertKey(tx, row.id);
      await setUp?.(tx, row.id);
      return { merchant: merchantFromRow(row), secretKey };
    });
  }

  /** The first merchant with this metadata value, if any (finds the development demo merchant). */
  async findByMetadata(key: string, value: string): Promise<Merchant | undefined> {
    const result = await this.#database.query<MerchantRow>(
      'SELECT id, name, email, metadata, created_at FROM merchants WHERE metadata ->> $1 = $2 ORDER BY created_at LIMIT 1',
      [key, value],
    );
    const row = result.rows[0];
    return row === undefined ? undefined : merchantFromRow(row);
  }

  /** A new secret key for the merchant (shown once); with `revokeOthers`, earlier keys stop working. */
  async issueKey(merchantId: string, options: { revokeOthers: boolean }): Promise<string> {
    const secretKey = await this.#database.transaction(async (tx) => {
      if (options.revokeOthers)
        await tx.query(
          'UPDATE api_keys SET revoked_at = now() WHERE merchant_id = $1 AND revoked_at IS NULL',
          [merchantId],
        );
      return insertKey(tx, merchantId);
    });
    // After the commit: a request in between could otherwise cache a key that is being revoked.
    if (options.revokeOthers) {
      for (const [hash, entry] of this.#authCache)
        if (entry.merchant.merchantId === merchantId) this.#authCache.delete(hash);
    }
    return secretKey;
  }

  async get(id: string): Promise<Merchant | undefined> {
    const result = await this.#database.query<MerchantRow>(
      'SELECT id, name, email, metadata, created_at FROM merchants WHERE id = $1',
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
        select: 'id, name, email, metadata, created_at',
        from: 'merchants',
        scope: 'true',
        scopeParameters: [],
        key: 'id',
        keyType: 'text',
        order: 'oldest_first',
        noun: 'merchant',
      },
      options,
    );
    return { merchants: rows.map(merchantFromRow), hasMore };
  }

  /** The merchant a secret key belongs to, or undefined for an unknown or revoked key. */
  /**
   * The merchant a secret key belongs to, or undefined for an unknown or revoked key. A valid key
   * is remembered for a few seconds (every request authenticates); a revocation made through this
   * process applies at once, one made by another process within `authCacheTtlMs`.
   */
  async authenticate(
    secretKey: string,
  ): Promise<{ merchantId: string; livemode: boolean } | undefined> {
    const hash = hashSecret(secretKey);
    const cached = this.#authCache.get(hash);
    if (cached !== undefined && Date.now() - cached.at < authCacheTtlMs) return cached.merchant;
    const result = await this.#database.query<{ merchant_id: string; livemode: boolean }>(
      'SELECT merchant_id, livemode FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL',
      [hash],
    );
    const row = result.rows[0];
    if (row === undefined) return undefined;
    const merchant = { merchantId: row.merchant_id, livemode: row.livemode };
    if (this.#authCache.size >= authCacheEntriesMax) this.#authCache.clear();
    this.#authCache.set(hash, { merchant, at: Date.now() });
    return merchant;
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
