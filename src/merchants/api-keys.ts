// A merchant's API keys as the dashboard's developers page manages them (issue 15): list, create,
// roll (Stripe's "roll key": a new key at once, the old one expiring now or up to 7 days on) and
// revoke. Domain code: no HTTP. Secrets are shown once, when created; every other answer carries
// only the key's hint (`sk_test_…abcd`). Every change returns the changed keys' before/after
// snapshots, so the caller can write its audit entry.
//
// Authentication (Merchants.authenticate) refuses a revoked key at once in this process (its cache
// is cleared here after the commit; other processes within their 5 s cache) and a rolled key once
// its expires_at is not after its merchant's time by the clock, so test clocks move expiry too.
//
// Key changes of one merchant are serialized by a lock on its merchants row, so two revokes at
// once can never leave it without a working secret key.
import type { Clock } from '../clock.ts';
import { DomainError, type ErrorCategory } from '../errors.ts';
import { newId } from '../ids.ts';
import type { Database, Queryable } from '../storage/database.ts';
import { hashSecret, newSecret, secretHint } from './keys.ts';
import type { Merchants } from './merchants.ts';
import { keyPrefix, type KeyKind } from './mode.ts';

/** What the developers page shows of a key: never the secret, nor its hash. */
export type ApiKeyView = {
  readonly id: string;
  readonly kind: KeyKind;
  readonly livemode: boolean;
  /** Prefix and last four characters: `sk_test_…abcd`. */
  readonly hint: string;
  readonly name: string | null;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
  /** Set on a rolled key: it stops working at this time (its merchant's time by the clock). */
  readonly expiresAt: Date | null;
  /**
   * active: works, no end set; expiring: works until expiresAt (rolled); expired: past
   * expiresAt; revoked: stopped at revokedAt.
   */
  readonly status: ApiKeyStatus;
};

export type ApiKeyStatus = 'active' | 'expiring' | 'expired' | 'revoked';

/** One key before and after a change (before is null for a key the change created). */
export type ApiKeyChange = { readonly before: ApiKeyView | null; readonly after: ApiKeyView };

export type ApiKeyErrorReason =
  /** No such key of this merchant (another merchant's key id answers the same). */
  | 'not_found'
  /** The key is revoked or expired already. */
  | 'not_active'
  /** The key was rolled already: it has its expiry, and its replacement exists. */
  | 'already_rolled'
  /** Revoking it would leave the merchant without a key of its kind that keeps working. */
  | 'last_active_key'
  | 'too_many_keys'
  | 'invalid';

/** A refused key change; `reason` says which, for the page to show. */
export class ApiKeyError extends DomainError<'resource_missing' | 'parameter_invalid'> {
  readonly reason: ApiKeyErrorReason;

  constructor(reason: ApiKeyErrorReason, message: string, param?: string) {
    const category: ErrorCategory =
      reason === 'not_found' ? 'not_found' : reason === 'invalid' ? 'invalid' : 'conflict';
    super(
      reason === 'not_found' ? 'resource_missing' : 'parameter_invalid',
      category,
      message,
      param,
    );
    this.name = 'ApiKeyError';
    this.reason = reason;
  }
}

/**
 * Runs inside the change's transaction, after the change, with its answer (no secret in it): the
 * dashboard binds its idempotency key and writes its audit entry there, so the change, the key
 * and the entry commit together or not at all. Throwing undoes the change.
 */
export type WithinTransaction<T> = (tx: Queryable, result: T) => Promise<void>;

/** Stripe lets a rolled key live on for at most 7 days. */
export const ROLL_EXPIRY_HOURS_MAX = 168;
/** Secret keys that work (active or expiring) per merchant; a bound, far above any real need. */
export const WORKING_SECRET_KEYS_MAX = 20;
/** listKeys answers the most recent keys, at most this many. */
export const LISTED_KEYS_MAX = 100;
const nameLengthMax = 100;
const keyIdPattern = /^key_[A-Za-z0-9]{1,64}$/;

type KeyRow = {
  id: string;
  kind: KeyKind;
  livemode: boolean;
  key_hint: string;
  name: string | null;
  created_at: Date;
  revoked_at: Date | null;
  expires_at: Date | null;
};

const keyColumns = 'id, kind, livemode, key_hint, name, created_at, revoked_at, expires_at';

export class ApiKeys {
  readonly #database: Database;
  readonly #merchants: Merchants;
  readonly #clock: Clock;

  /** `merchants` is the process's one Merchants: its authentication cache is cleared on change. */
  constructor(dependencies: { database: Database; merchants: Merchants; clock: Clock }) {
    this.#database = dependencies.database;
    this.#merchants = dependencies.merchants;
    this.#clock = dependencies.clock;
  }

  /** The merchant's keys, newest first (at most LISTED_KEYS_MAX), revoked and expired included. */
  async listKeys(merchantId: string): Promise<ApiKeyView[]> {
    const result = await this.#database.query<KeyRow>(
      `SELECT ${keyColumns} FROM api_keys WHERE merchant_id = $1
       ORDER BY created_at DESC, id DESC LIMIT ${LISTED_KEYS_MAX}`,
      [merchantId],
    );
    const now = this.#clock.now(merchantId);
    return result.rows.map((row) => viewOf(row, now));
  }

  /** One key of the merchant; undefined for none (or another merchant's). */
  async getKey(merchantId: string, keyId: string): Promise<ApiKeyView | undefined> {
    if (!keyIdPattern.test(keyId)) return undefined;
    const row = await keyRow(this.#database, merchantId, keyId);
    return row === undefined ? undefined : viewOf(row, this.#clock.now(merchantId));
  }

  /** A new secret key of the merchant's mode; `secret` is shown here and never again. */
  async createKey(
    merchantId: string,
    options: {
      readonly kind: 'secret';
      readonly name?: string;
      readonly within?: WithinTransaction<{ key: ApiKeyView; change: ApiKeyChange }>;
    },
  ): Promise<{ secret: string; key: ApiKeyView; change: ApiKeyChange }> {
    if (options.kind !== 'secret')
      throw new ApiKeyError(
        'invalid',
        'only secret keys are created; a publishable key is rolled',
        'kind',
      );
    const name = checkedName(options.name);
    return this.#database.transaction(async (tx) => {
      const { livemode, now } = await this.#lockMerchant(tx, merchantId);
      const working = await tx.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM api_keys
         WHERE merchant_id = $1 AND kind = 'secret' AND revoked_at IS NULL
           AND (expires_at IS NULL OR expires_at > $2)`,
        [merchantId, now],
      );
      if ((working.rows[0]?.count ?? 0) >= WORKING_SECRET_KEYS_MAX)
        throw new ApiKeyError(
          'too_many_keys',
          `a merchant has at most ${WORKING_SECRET_KEYS_MAX} working secret keys: revoke one first`,
        );
      const created = await insertKey(tx, { merchantId, livemode, kind: 'secret', name, now });
      const change = { before: null, after: created.key };
      await options.within?.(tx, { key: created.key, change });
      return { ...created, change };
    });
  }

  /**
   * Stripe's roll: a new key of the same kind and mode (shown once, with the old key's name unless
   * `name` is given) works at once; the old key works on for `expiresInHours` (0, the default:
   * stops now; at most 168) by its merchant's time, then is refused. A key rolled already, revoked
   * or expired cannot be rolled.
   */
  async rollKey(
    merchantId: string,
    keyId: string,
    options: {
      readonly expiresInHours?: number;
      readonly name?: string;
      readonly within?: WithinTransaction<{
        key: ApiKeyView;
        created: ApiKeyChange;
        rolled: ApiKeyChange;
      }>;
    } = {},
  ): Promise<{ secret: string; key: ApiKeyView; created: ApiKeyChange; rolled: ApiKeyChange }> {
    const hours = options.expiresInHours ?? 0;
    if (!Number.isInteger(hours) || hours < 0 || hours > ROLL_EXPIRY_HOURS_MAX)
      throw new ApiKeyError(
        'invalid',
        `expiresInHours must be a whole number of hours from 0 to ${ROLL_EXPIRY_HOURS_MAX}`,
        'expiresInHours',
      );
    const name = options.name === undefined ? undefined : checkedName(options.name);
    const rolled = await this.#database.transaction(async (tx) => {
      const { livemode, now } = await this.#lockMerchant(tx, merchantId);
      const before = await this.#workingKey(tx, merchantId, keyId, now);
      if (before.expiresAt !== null)
        throw new ApiKeyError(
          'already_rolled',
          `${before.hint} was rolled already: it expires at ${before.expiresAt.toISOString()}`,
        );
      const created = await insertKey(tx, {
        merchantId,
        livemode,
        kind: before.kind,
        name: name ?? before.name,
        now,
      });
      const updated = await tx.query<KeyRow>(
        `UPDATE api_keys SET expires_at = $3 WHERE merchant_id = $1 AND id = $2 RETURNING ${keyColumns}`,
        [merchantId, keyId, new Date(now.getTime() + hours * 3_600_000)],
      );
      const after = viewOf(updated.rows[0] as KeyRow, now);
      const changes = {
        created: { before: null, after: created.key },
        rolled: { before, after },
      };
      await options.within?.(tx, { key: created.key, ...changes });
      return { ...created, ...changes };
    });
    // The old key's cache entry knows no expiry: it must be read again.
    this.#merchants.forgetKeys(merchantId, rolled.key.kind);
    return rolled;
  }

  /**
   * Revokes a key at once. Refused for the merchant's last key of its kind that keeps working
   * (active, no expiry): roll it instead, or create another first.
   */
  async revokeKey(
    merchantId: string,
    keyId: string,
    options: {
      readonly within?: WithinTransaction<{ key: ApiKeyView; change: ApiKeyChange }>;
    } = {},
  ): Promise<{ key: ApiKeyView; change: ApiKeyChange }> {
    const revoked = await this.#database.transaction(async (tx) => {
      const { now } = await this.#lockMerchant(tx, merchantId);
      const row = await keyRow(tx, merchantId, keyId);
      if (row === undefined) throw notFound(keyId);
      const before = viewOf(row, now);
      if (before.status === 'revoked')
        throw new ApiKeyError('not_active', `${before.hint} is revoked already`);
      if (before.status === 'active') {
        const others = await tx.query<{ count: number }>(
          `SELECT count(*)::int AS count FROM api_keys
           WHERE merchant_id = $1 AND kind = $2 AND id <> $3
             AND revoked_at IS NULL AND expires_at IS NULL`,
          [merchantId, before.kind, keyId],
        );
        if ((others.rows[0]?.count ?? 0) === 0)
          throw new ApiKeyError(
            'last_active_key',
            `${before.hint} is the merchant's only ${before.kind} key that keeps working: roll it, or create another key first`,
          );
      }
      const updated = await tx.query<KeyRow>(
        `UPDATE api_keys SET revoked_at = $3 WHERE merchant_id = $1 AND id = $2 RETURNING ${keyColumns}`,
        [merchantId, keyId, now],
      );
      const after = viewOf(updated.rows[0] as KeyRow, now);
      const answer = { key: after, change: { before, after } };
      await options.within?.(tx, answer);
      return answer;
    });
    this.#merchants.forgetKeys(merchantId, revoked.key.kind);
    return revoked;
  }

  /** Locks the merchant's row (key changes of one merchant one at a time); its mode and time. */
  async #lockMerchant(
    tx: Queryable,
    merchantId: string,
  ): Promise<{ livemode: boolean; now: Date }> {
    const found = await tx.query<{ livemode: boolean }>(
      'SELECT livemode FROM merchants WHERE id = $1 FOR UPDATE',
      [merchantId],
    );
    const merchant = found.rows[0];
    if (merchant === undefined)
      throw new ApiKeyError('not_found', `no merchant ${merchantId}`, 'merchant');
    return { livemode: merchant.livemode, now: this.#clock.now(merchantId) };
  }

  /** The key, which must still work (neither revoked nor expired). */
  async #workingKey(
    tx: Queryable,
    merchantId: string,
    keyId: string,
    now: Date,
  ): Promise<ApiKeyView> {
    const row = await keyRow(tx, merchantId, keyId);
    if (row === undefined) throw notFound(keyId);
    const key = viewOf(row, now);
    if (key.status === 'revoked' || key.status === 'expired')
      throw new ApiKeyError('not_active', `${key.hint} is ${key.status}`);
    return key;
  }
}

async function keyRow(
  database: Queryable,
  merchantId: string,
  keyId: string,
): Promise<KeyRow | undefined> {
  if (!keyIdPattern.test(keyId)) return undefined;
  const result = await database.query<KeyRow>(
    `SELECT ${keyColumns} FROM api_keys WHERE merchant_id = $1 AND id = $2`,
    [merchantId, keyId],
  );
  return result.rows[0];
}

async function insertKey(
  tx: Queryable,
  key: {
    merchantId: string;
    livemode: boolean;
    kind: KeyKind;
    name: string | null;
    now: Date;
  },
): Promise<{ secret: string; key: ApiKeyView }> {
  const secret = newSecret(keyPrefix(key.kind, key.livemode));
  const inserted = await tx.query<KeyRow>(
    `INSERT INTO api_keys (id, merchant_id, key_hash, key_hint, livemode, kind, name, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${keyColumns}`,
    [
      newId('key'),
      key.merchantId,
      hashSecret(secret),
      secretHint(secret),
      key.livemode,
      key.kind,
      key.name,
      key.now,
    ],
  );
  return { secret, key: viewOf(inserted.rows[0] as KeyRow, key.now) };
}

function viewOf(row: KeyRow, now: Date): ApiKeyView {
  return {
    id: row.id,
    kind: row.kind,
    livemode: row.livemode,
    hint: row.key_hint,
    name: row.name,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    expiresAt: row.expires_at,
    status: statusOf(row, now),
  };
}

function statusOf(row: KeyRow, now: Date): ApiKeyStatus {
  if (row.revoked_at !== null) return 'revoked';
  if (row.expires_at === null) return 'active';
  return row.expires_at.getTime() > now.getTime() ? 'expiring' : 'expired';
}

function checkedName(name: string | undefined): string | null {
  if (name === undefined) return null;
  const trimmed = name.trim();
  if (trimmed.length === 0) return null;
  if (trimmed.length > nameLengthMax || /[\u0000-\u001f\u007f]/.test(trimmed))
    throw new ApiKeyError(
      'invalid',
      `a key's name is at most ${nameLengthMax} characters, without control characters`,
      'name',
    );
  return trimmed;
}

function notFound(keyId: string): ApiKeyError {
  return new ApiKeyError('not_found', `no API key ${keyId.slice(0, 80)}`, 'key');
}
