// API idempotency keys (architecture §4; after Brandur Leach's "Implementing Stripe-like Idempotency
// Keys in Postgres"). A key belongs to one merchant, one method + path and one request body.
// The first request takes a lease on it; a repeat gets the stored response, or 409 while the
// first is still running. A lease that runs out (its process died) is taken over by the next
// retry, which resumes from the resource the key names (`resource_id`).
import crypto from 'node:crypto';
import { clockSql, systemClock, type Clock } from '../clock.ts';
import type { Database, Queryable } from '../storage/database.ts';
import { derivedKey } from '../vault/secret-box.ts';

export const idempotencyKeyLengthMax = 255;
export const idempotencyKeyRetentionHours = 72;

export type Begin =
  | { readonly kind: 'proceed'; readonly resumed: boolean; readonly resourceId: string | null }
  | { readonly kind: 'replay'; readonly status: number; readonly body: unknown }
  | { readonly kind: 'in_use' }
  | { readonly kind: 'mismatch' };

export type KeyRequest = {
  readonly merchantId: string;
  readonly key: string;
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
};

/** The request-hash key: derived from the vault master key for this purpose only. */
export function requestHashKey(masterKey: Buffer): Buffer {
  return derivedKey(masterKey, 'idempotency.request-hash');
}

/**
 * A stable, keyed hash of the request (HMAC-SHA256): object keys sorted, so field order does not
 * matter. Keyed because the body of POST /v1/payment_methods holds a card number, expiry and CVC:
 * an unkeyed hash in the table could be brute-forced from the last4 and the BIN.
 */
export function requestHash(hashKey: Buffer, method: string, path: string, body: unknown): string {
  const canonical = JSON.stringify(body ?? null, (_key, value: unknown) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
        a < b ? -1 : a > b ? 1 : 0,
      ),
    );
  });
  return crypto
    .createHmac('sha256', hashKey)
    .update(`${method} ${path}\n${canonical}`)
    .digest('hex');
}

type KeyRow = {
  request_method: string;
  request_path: string;
  request_hash: string;
  status: 'running' | 'finished';
  lease_active: boolean;
  resource_id: string | null;
  response_status: number | null;
  response_body: unknown;
};

export class IdempotencyKeys {
  readonly #database: Database;
  readonly #leaseMs: number;
  readonly #hashKey: Buffer;
  readonly #clock: Clock;

  /** `masterKey` is the vault's master key (32 bytes); only a key derived from it is kept. */
  constructor(database: Database, leaseMs: number, masterKey: Buffer, clock: Clock = systemClock) {
    this.#database = database;
    this.#leaseMs = leaseMs;
    this.#hashKey = requestHashKey(masterKey);
    this.#clock = clock;
  }

  async begin(request: KeyRequest): Promise<Begin> {
    const hash = requestHash(this.#hashKey, request.method, request.path, request.body);
    // Leases and retention run on the merchant's clock (test clocks move it).
    const now = this.#clock.now(request.merchantId);
    return this.#database.transaction(async (tx) => {
      const inserted = await tx.query(
        `INSERT INTO idempotency_keys (merchant_id, key, request_method, request_path, request_hash, status, locked_until, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'running', $7::timestamptz + $6 * interval '1 millisecond', $7, $7)
         ON CONFLICT (merchant_id, key) DO NOTHING RETURNING key`,
        [request.merchantId, request.key, request.method, request.path, hash, this.#leaseMs, now],
      );
      if (inserted.rows.length === 1) return { kind: 'proceed', resumed: false, resourceId: null };
      const existing = await tx.query<KeyRow>(
        `SELECT request_method, request_path, request_hash, status, locked_until > $3::timestamptz AS lease_active, resource_id, response_status, response_body
           FROM idempotency_keys WHERE merchant_id = $1 AND key = $2 FOR UPDATE`,
        [request.merchantId, request.key, now],
      );
      const row = existing.rows[0];
      if (row === undefined) throw new Error('idempotency key vanished while locked');
      if (
        row.request_method !== request.method ||
        row.request_path !== request.path ||
        row.request_hash !== hash
      )
        return { kind: 'mismatch' };
      if (row.status === 'finished')
        return { kind: 'replay', status: row.response_status ?? 200, body: row.response_body };
      if (row.lease_active) return { kind: 'in_use' };
      await tx.query(
        `UPDATE idempotency_keys SET locked_until = $4::timestamptz + $3 * interval '1 millisecond', updated_at = $4 WHERE merchant_id = $1 AND key = $2`,
        [request.merchantId, request.key, this.#leaseMs, now],
      );
      return { kind: 'proceed', resumed: true, resourceId: row.resource_id };
    });
  }

  /** Records the resource a request created, inside the transaction that created it. */
  async bindResource(
    tx: Queryable,
    merchantId: string,
    key: string,
    resourceId: string,
  ): Promise<void> {
    await tx.query(
      'UPDATE idempotency_keys SET resource_id = $3, updated_at = $4 WHERE merchant_id = $1 AND key = $2',
      [merchantId, key, resourceId, this.#clock.now(merchantId)],
    );
  }

  /** Stores the final response; a repeat of the request gets exactly this. */
  async finish(merchantId: string, key: string, status: number, body: string): Promise<void> {
    await this.#database.query(
      `UPDATE idempotency_keys SET status = 'finished', locked_until = NULL, response_status = $3, response_body = $4::jsonb, updated_at = $5
        WHERE merchant_id = $1 AND key = $2`,
      [merchantId, key, status, body, this.#clock.now(merchantId)],
    );
  }

  /** After a server error: the next retry may take over at once and resume. */
  async release(merchantId: string, key: string): Promise<void> {
    await this.#database.query(
      `UPDATE idempotency_keys SET locked_until = $3, updated_at = $3 WHERE merchant_id = $1 AND key = $2 AND status = 'running'`,
      [merchantId, key, this.#clock.now(merchantId)],
    );
  }

  /** Deletes keys older than the retention; returns how many. Bounded per call. */
  async deleteExpired(limit = 1000): Promise<number> {
    const at = clockSql(this.#clock.reading(), 'merchant_id', 3);
    const result = await this.#database.query(
      `DELETE FROM idempotency_keys WHERE ctid IN (
         SELECT ctid FROM idempotency_keys
          WHERE created_at < ${at.bound} - $1 * interval '1 hour' AND created_at < ${at.now} - $1 * interval '1 hour' LIMIT $2)`,
      [idempotencyKeyRetentionHours, limit, ...at.values],
    );
    return result.rowCount;
  }
}
