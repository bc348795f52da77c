// Dashboard sessions: a random 256-bit token in an HttpOnly cookie, stored only as its SHA-256,
// with its own CSRF token. A new token at every sign-in (no session fixation), an absolute
// lifetime and an idle timeout by the injected clock, and sign-out deletes the row.
import crypto from 'node:crypto';
import type { Clock } from '../clock.ts';
import { hashSecret, newSecret } from '../merchants/keys.ts';
import type { Database } from '../storage/database.ts';
import type { Principal, Role } from './principal.ts';

export const sessionLifetimeMs = 12 * 60 * 60 * 1000;
export const sessionIdleMs = 2 * 60 * 60 * 1000;
/** The idle deadline is moved at most this often: not one write per page view. */
const idleRefreshMs = 60 * 1000;

export type DashboardSession = {
  readonly principal: Principal;
  readonly csrfToken: string;
  readonly expiresAt: Date;
};

type SessionRow = {
  token_hash: string;
  key_source: 'merchant' | 'admin' | null;
  user_id: string | null;
  merchant_id: string | null;
  role: Role;
  actor: string;
  csrf_token: string;
  expires_at: Date;
  idle_expires_at: Date;
  disabled_at: Date | null;
  key_hash: string | null;
};

/** Whether an admin key's hash is still the operator's (AdminKeys: the environment's or stored). */
export type AdminKeyCheck = { knowsHash(hash: string): Promise<boolean> };

/** The key a session was signed in with: it lives only as long as the key does. */
export type SessionKey = { readonly source: 'merchant' | 'admin'; readonly secret: string };

/** Equal strings, compared in constant time (CSRF tokens). */
export function sameToken(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && crypto.timingSafeEqual(left, right);
}

export class DashboardSessions {
  readonly #database: Database;
  readonly #clock: Clock;
  readonly #adminKeys: AdminKeyCheck;

  constructor(database: Database, clock: Clock, adminKeys: AdminKeyCheck) {
    this.#database = database;
    this.#clock = clock;
    this.#adminKeys = adminKeys;
  }

  /** A new session for `principal`; the token is returned once, for the cookie. */
  async create(
    principal: Principal,
    key?: SessionKey,
  ): Promise<{ token: string; session: DashboardSession }> {
    const token = newSecret('dss_');
    const csrfToken = newSecret('csrf_');
    const now = this.#clock.now();
    const expiresAt = new Date(now.getTime() + sessionLifetimeMs);
    await this.#database.query(
      `INSERT INTO dashboard_sessions
         (token_hash, user_id, merchant_id, role, actor, csrf_token, created_at, expires_at,
          idle_expires_at, key_source, key_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        hashSecret(token),
        principal.userId,
        principal.merchantId,
        principal.role,
        principal.actor,
        csrfToken,
        now,
        expiresAt,
        new Date(now.getTime() + sessionIdleMs),
        key?.source ?? null,
        key === undefined ? null : hashSecret(key.secret),
      ],
    );
    return { token, session: { principal, csrfToken, expiresAt } };
  }

  /** The live session of a cookie's token; a disabled user's session is over. */
  async find(token: string): Promise<DashboardSession | undefined> {
    if (!token.startsWith('dss_') || token.length > 100) return undefined;
    const tokenHash = hashSecret(token);
    const found = await this.#database.query<SessionRow>(
      `SELECT s.*, u.disabled_at FROM dashboard_sessions s
         LEFT JOIN dashboard_users u ON u.id = s.user_id
        WHERE s.token_hash = $1`,
      [tokenHash],
    );
    const row = found.rows[0];
    if (row === undefined) return undefined;
    const now = this.#clock.now();
    if (
      row.expires_at <= now ||
      row.idle_expires_at <= now ||
      row.disabled_at !== null ||
      !(await this.#keyLives(row))
    ) {
      await this.#database.query('DELETE FROM dashboard_sessions WHERE token_hash = $1', [
        tokenHash,
      ]);
      return undefined;
    }
    if (row.idle_expires_at.getTime() - now.getTime() < sessionIdleMs - idleRefreshMs)
      await this.#database.query(
        'UPDATE dashboard_sessions SET idle_expires_at = $2 WHERE token_hash = $1',
        [tokenHash, new Date(now.getTime() + sessionIdleMs)],
      );
    return {
      principal: {
        merchantId: row.merchant_id,
        role: row.role,
        actor: row.actor,
        userId: row.user_id,
      },
      csrfToken: row.csrf_token,
      expiresAt: row.expires_at,
    };
  }

  /**
   * A session signed in with a key lives only while the key does: not revoked, not expired (a
   * rolled key, by its merchant's clock time, as authentication reads it), for the admin key not
   * rotated away.
   */
  async #keyLives(row: SessionRow): Promise<boolean> {
    if (row.key_source === null) return true;
    const found =
      row.key_source === 'admin'
        ? { rows: (await this.#adminKeys.knowsHash(row.key_hash ?? '')) ? [{}] : [] }
        : await this.#database.query(
            `SELECT 1 FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL
                AND (expires_at IS NULL OR expires_at > $2::timestamptz)`,
            [row.key_hash, this.#clock.now(row.merchant_id ?? undefined)],
          );
    return found.rows.length > 0;
  }

  async destroy(token: string): Promise<void> {
    await this.#database.query('DELETE FROM dashboard_sessions WHERE token_hash = $1', [
      hashSecret(token),
    ]);
  }

  /** Deletes expired sessions (a periodic job); returns how many. */
  async prune(limit = 1000): Promise<number> {
    const deleted = await this.#database.query(
      `DELETE FROM dashboard_sessions WHERE token_hash IN (
         SELECT token_hash FROM dashboard_sessions WHERE expires_at <= $1 OR idle_expires_at <= $1
          LIMIT $2)`,
      [this.#clock.now(), limit],
    );
    return deleted.rowCount;
  }
}
