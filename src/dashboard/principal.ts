// Who a dashboard session acts as, and what each role may do.
//
// An operator (merchantId null) sees every merchant; a merchant's principal only its own objects.
// Signing in with a secret key acts as that merchant's admin, with the admin key as the operator's.

export const roles = ['admin', 'developer', 'support', 'finance'] as const;
export type Role = (typeof roles)[number];

/**
 * - view: read every page of the scope (every role; support can do nothing else);
 * - move_money: refunds, captures, cancels, payouts, reconciliation resolutions;
 * - configure: API keys, webhook endpoints, replays of events and deliveries;
 * - manage_users: dashboard users.
 */
export type Permission = 'view' | 'move_money' | 'configure' | 'manage_users';

const grants: Record<Role, ReadonlySet<Permission>> = {
  admin: new Set(['view', 'move_money', 'configure', 'manage_users']),
  developer: new Set(['view', 'configure']),
  finance: new Set(['view', 'move_money']),
  support: new Set(['view']),
};

export type Principal = {
  /** null: the operator (every merchant). */
  readonly merchantId: string | null;
  readonly role: Role;
  /** How the audit log names them: `user ada@example.com`, `key sk_test_…abcd`, `admin key`. */
  readonly actor: string;
  readonly userId: string | null;
};

/**
 * A merchant's secret key signs in as that merchant's admin — everything the key can do through
 * the API anyway — but may not manage the dashboard's users: a developer who can create keys
 * must not be able to make themselves an admin user with one. The operator's admin key may.
 */
export function can(principal: Principal, permission: Permission): boolean {
  if (permission === 'manage_users' && principal.userId === null && principal.merchantId !== null)
    return false;
  return grants[principal.role].has(permission);
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (roles as readonly string[]).includes(value);
}
