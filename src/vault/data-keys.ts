// The data key ring: rows of vault_data_keys, each a random AES-256 key wrapped under the master
// key. At most one key is active (a partial unique index enforces it); new cards are encrypted
// under the active one. Rotation retires it and makes a new one; retired keys keep decrypting the
// cards they encrypted. Unwrapped keys are cached for the life of the process, bounded.
import crypto from 'node:crypto';
import type { Database, Queryable } from '../storage/database.ts';
import { newId } from '../ids.ts';
import { keyBytes, unwrapDataKey, wrapDataKey, type MasterKeys } from './crypto.ts';
import { VaultDecryptionError } from './errors.ts';

export const dataKeyCacheSizeMax = 1000;
/** How long a process trusts its idea of the active key before asking again (another process may rotate). */
export const activeKeyRefreshMs = 60_000;
const activeKeyIndex = 'vault_data_keys_one_active';
const createAttemptsMax = 4;

type DataKeyRow = {
  id: string;
  master_key_id: string;
  wrapped_key: Uint8Array;
  wrap_iv: Uint8Array;
  wrap_tag: Uint8Array;
};

export type DataKey = { readonly id: string; readonly key: Buffer };

/** PGlite returns bytea as Uint8Array, node-postgres as Buffer. */
export function asBuffer(value: Uint8Array): Buffer {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

const selectColumns = 'id, master_key_id, wrapped_key, wrap_iv, wrap_tag';

export class DataKeyRing {
  readonly #database: Database;
  readonly #masterKeys: MasterKeys;
  readonly #cache = new Map<string, Buffer>();
  #active: { id: string; checkedAtMs: number } | undefined;

  constructor(database: Database, masterKeys: MasterKeys) {
    this.#database = database;
    this.#masterKeys = masterKeys;
  }

  /** The key new cards are encrypted under; the first call on an empty ring creates it. */
  async active(): Promise<DataKey> {
    const cached = this.#active === undefined ? undefined : this.#cache.get(this.#active.id);
    if (
      this.#active !== undefined &&
      cached !== undefined &&
      performance.now() - this.#active.checkedAtMs < activeKeyRefreshMs
    ) {
      return { id: this.#active.id, key: cached };
    }
    for (let attempt = 1; attempt <= createAttemptsMax; attempt++) {
      const result = await this.#database.query<DataKeyRow>(
        `SELECT ${selectColumns} FROM vault_data_keys WHERE retired_at IS NULL`,
      );
      const row = result.rows[0];
      if (row !== undefined) {
        const key = this.#unwrap(row);
        this.#active = { id: row.id, checkedAtMs: performance.now() };
        return { id: row.id, key };
      }
      // None active: make one. A concurrent creator wins through the unique index; then we read theirs.
      await this.#insertNewKey(this.#database, 'ON CONFLICT DO NOTHING');
    }
    throw new Error('vault: could not create or find an active data key');
  }

  /** A key by id, for decryption (active or retired); `queryable` is the caller's transaction, if any. */
  async key(id: string, queryable: Queryable = this.#database): Promise<Buffer> {
    const cached = this.#cache.get(id);
    if (cached !== undefined) {
      this.#remember(id, cached); // refresh its place in the LRU order
      return cached;
    }
    const result = await queryable.query<DataKeyRow>(
      `SELECT ${selectColumns} FROM vault_data_keys WHERE id = $1`,
      [id],
    );
    const row = result.rows[0];
    if (row === undefined)
      throw new VaultDecryptionError('data_key_missing', `vault: data key ${id} does not exist`);
    return this.#unwrap(row);
  }

  /** Retires the active key (if any) and creates a new active one; returns the new key's id. */
  async rotate(): Promise<string> {
    const id = await this.#database.transaction(
      async (tx) => {
        await tx.query('UPDATE vault_data_keys SET retired_at = now() WHERE retired_at IS NULL');
        return this.#insertNewKey(tx, '');
      },
      // Two rotations at once: the later one sees the earlier's new key only on a second run.
      { retryOn: (error) => error.constraint === activeKeyIndex },
    );
    this.#active = { id, checkedAtMs: performance.now() };
    return id;
  }

  async #insertNewKey(queryable: Queryable, conflictClause: string): Promise<string> {
    const id = newId('dk');
    const dataKey = crypto.randomBytes(keyBytes);
    const wrapped = wrapDataKey(this.#masterKeys.wrappingKey, id, dataKey);
    const result = await queryable.query(
      `INSERT INTO vault_data_keys (id, master_key_id, wrapped_key, wrap_iv, wrap_tag) VALUES ($1, $2, $3, $4, $5) ${conflictClause}`,
      [id, this.#masterKeys.masterKeyId, wrapped.ciphertext, wrapped.iv, wrapped.authTag],
    );
    // Cached only if written; inside rotate() a rolled-back attempt leaves an unused cache entry, harmless.
    if (result.rowCount === 1) this.#remember(id, dataKey);
    return id;
  }

  #unwrap(row: DataKeyRow): Buffer {
    const cached = this.#cache.get(row.id);
    if (cached !== undefined) return cached;
    if (row.master_key_id !== this.#masterKeys.masterKeyId) {
      throw new VaultDecryptionError(
        'wrong_master_key',
        `vault: data key ${row.id} is wrapped under master key ${row.master_key_id}, but this process has master key ` +
          `${this.#masterKeys.masterKeyId}; start it with the PAYRAIL_VAULT_MASTER_KEY the vault was created with`,
      );
    }
    const key = unwrapDataKey(this.#masterKeys.wrappingKey, row.id, {
      ciphertext: asBuffer(row.wrapped_key),
      iv: asBuffer(row.wrap_iv),
      authTag: asBuffer(row.wrap_tag),
    });
    if (key === undefined) {
      throw new VaultDecryptionError(
        'data_key_corrupt',
        `vault: data key ${row.id} failed authentication: its stored wrapped key was altered`,
      );
    }
    this.#remember(row.id, key);
    return key;
  }

  #remember(id: string, key: Buffer): void {
    this.#cache.delete(id);
    this.#cache.set(id, key);
    while (this.#cache.size > dataKeyCacheSizeMax) {
      const oldest = this.#cache.keys().next().value;
      if (oldest === undefined) break;
      this.#cache.delete(oldest);
    }
  }
}
