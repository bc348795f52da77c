// Dashboard users: an email, a scrypt-hashed password, a role, and the merchant they belong to
// (none: the operator's staff).
import { DomainError } from '../errors.ts';
import { newId } from '../ids.ts';
import type { Clock } from '../clock.ts';
import type { Database } from '../storage/database.ts';
import {
  decoyHash,
  hashPassword,
  passwordLengthMax,
  passwordLengthMin,
  verifyPassword,
} from './passwords.ts';
import type { Role } from './principal.ts';

export type DashboardUser = {
  readonly id: string;
  readonly email: string;
  readonly role: Role;
  readonly merchantId: string | null;
  readonly createdAt: Date;
  readonly disabledAt: Date | null;
};

export type NewDashboardUser = {
  readonly email: string;
  readonly password: string;
  readonly role: Role;
  readonly merchantId: string | null;
};

type UserRow = {
  id: string;
  email: string;
  role: Role;
  merchant_id: string | null;
  created_at: Date;
  disabled_at: Date | null;
  password_hash: string;
};

const emailPattern = /^[^\s@]{1,200}@[^\s@]{1,100}\.[^\s@]{1,20}$/;

function userOf(row: UserRow): DashboardUser {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    merchantId: row.merchant_id,
    createdAt: row.created_at,
    disabledAt: row.disabled_at,
  };
}

export function checkPassword(password: string): void {
  if (password.length < passwordLengthMin || password.length > passwordLengthMax)
    throw new DomainError(
      'parameter_invalid',
      'invalid',
      `A password has ${passwordLengthMin} to ${passwordLengthMax} characters.`,
      'password',
    );
}

export class DashboardUsers {
  readonly #database: Database;
  readonly #clock: Clock;

  constructor(database: Database, clock: Clock) {
    this.#database = database;
    this.#clock = clock;
  }

  async create(input: NewDashboardUser): Promise<DashboardUser> {
    const email = input.email.trim().toLowerCase();
    if (!emailPattern.test(email))
      throw new DomainError('parameter_invalid', 'invalid', 'Not an email address.', 'email');
    checkPassword(input.password);
    const passwordHash = await hashPassword(input.password);
    const inserted = await this.#database.query<UserRow>(
      `INSERT INTO dashboard_users (id, email, password_hash, role, merchant_id, created_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (email) DO NOTHING RETURNING *`,
      [newId('usr'), email, passwordHash, input.role, input.merchantId, this.#clock.now()],
    );
    const row = inserted.rows[0];
    if (row === undefined)
      throw new DomainError(
        'resource_already_exists',
        'conflict',
        `A dashboard user with the email ${email} already exists.`,
        'email',
      );
    return userOf(row);
  }

  /**
   * The user whose email and password these are, if enabled. An unknown email costs the same
   * scrypt work as a wrong password, so the answer time does not tell which emails exist.
   */
  async authenticate(email: string, password: string): Promise<DashboardUser | undefined> {
    if (password.length > passwordLengthMax) return undefined;
    const found = await this.#database.query<UserRow>(
      'SELECT * FROM dashboard_users WHERE email = $1',
      [email.trim().toLowerCase()],
    );
    const row = found.rows[0];
    const valid = await verifyPassword(password, row?.password_hash ?? (await decoyHash()));
    if (row === undefined || !valid || row.disabled_at !== null) return undefined;
    return userOf(row);
  }

  /** Sets a user's password (and signs them out of every session); false when there is none. */
  async setPassword(email: string, password: string): Promise<boolean> {
    checkPassword(password);
    const passwordHash = await hashPassword(password);
    return this.#database.transaction(async (tx) => {
      const updated = await tx.query<{ id: string }>(
        'UPDATE dashboard_users SET password_hash = $2 WHERE email = $1 RETURNING id',
        [email.trim().toLowerCase(), passwordHash],
      );
      const id = updated.rows[0]?.id;
      if (id === undefined) return false;
      await tx.query('DELETE FROM dashboard_sessions WHERE user_id = $1', [id]);
      return true;
    });
  }

  /** Disables or enables a user of `merchantId` (null: the operator's); a disabled user's sessions end. */
  async setDisabled(
    merchantId: string | null,
    id: string,
    disabled: boolean,
  ): Promise<{ before: DashboardUser; after: DashboardUser } | undefined> {
    return this.#database.transaction(async (tx) => {
      const found = await tx.query<UserRow>(
        `SELECT * FROM dashboard_users WHERE id = $1 AND merchant_id IS NOT DISTINCT FROM $2
          FOR UPDATE`,
        [id, merchantId],
      );
      const row = found.rows[0];
      if (row === undefined) return undefined;
      const updated = await tx.query<UserRow>(
        'UPDATE dashboard_users SET disabled_at = $2 WHERE id = $1 RETURNING *',
        [id, disabled ? (row.disabled_at ?? this.#clock.now()) : null],
      );
      if (disabled) await tx.query('DELETE FROM dashboard_sessions WHERE user_id = $1', [id]);
      return { before: userOf(row), after: userOf(updated.rows[0] as UserRow) };
    });
  }

  async list(merchantId: string | null): Promise<DashboardUser[]> {
    const found = await this.#database.query<UserRow>(
      `SELECT * FROM dashboard_users WHERE merchant_id IS NOT DISTINCT FROM $1
        ORDER BY created_at, id LIMIT 500`,
      [merchantId],
    );
    return found.rows.map(userOf);
  }
}
