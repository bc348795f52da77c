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
  user_id: string | null;
  merchant_id: string | null;
  role: Role;
  actor: string;
  csrf_token: string;
  expires_at: Date;
  idle_expires_at: Date;
  disabled_at: Date | null;
};

/** Equal strings, compared in constant time (CSRF tokens). */
export function sameToken(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && crypto.timingSafeEqual(left, right);
}

export class DashboardSessions {
  readonly #database: Database;
  readonly #clock: Clock;

  constructor(database: Database, clock: Clock) {
    this.#database = database;
    this.#clock = clock;
  }

  /** A new session for `principal`; the token is returned once, for the cookie. */
  async create(principal: Principal): Promise<{ token: string; session: DashboardSession }> {
    const token = newSecret('dss_');
    const csrfToken = newSecret('csrf_');
    const now = this.#clock.now();
    const expiresAt = new Date(now.getTime() + sessionLifetimeMs);
    await this.#database.query(
      `INSERT INTO dashboard_sessions
         (token_hash, user_id, merchant_id, role, actor, csrf_token, created_at, expires_at,
          idle_expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
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
    const now = this.#clock.now();
    if (row === undefined) return undefined;
    if (row.expires_at <= now || row.idle_expires_at <= now || row.disabled_at !== null) {
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
