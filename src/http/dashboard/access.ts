// What a dashboard request may see and do: the session's principal and its role's permissions.
import type { FastifyRequest } from 'fastify';
import { can, type Permission, type Principal } from '../../dashboard/principal.ts';
import { DashboardError } from './errors.ts';

export function principalOf(request: FastifyRequest): Principal {
  const session = request.dashboard;
  if (session === undefined) throw new DashboardError(401, 'Sign in first.');
  return session.principal;
}

/** Throws 403 unless the session's role may do this. */
export function requirePermission(request: FastifyRequest, permission: Permission): Principal {
  const principal = principalOf(request);
  if (!can(principal, permission))
    throw new DashboardError(
      403,
      `Your role (${principal.role}) may not do this: it needs the "${permission}" permission.`,
    );
  return principal;
}

/**
 * The merchant whose objects a page shows: the session's own merchant, or for the operator the
 * `merchant` filter of the URL (undefined: every merchant).
 */
export function merchantScope(request: FastifyRequest): string | undefined {
  const principal = principalOf(request);
  if (principal.merchantId !== null) return principal.merchantId;
  const filter = (request.query as Record<string, unknown> | undefined)?.merchant;
  if (filter === undefined || filter === '') return undefined;
  if (typeof filter !== 'string' || !/^mch_[A-Za-z0-9]{8,64}$/.test(filter))
    throw new DashboardError(400, 'merchant: not a merchant id (mch_…).');
  return filter;
}
