// The dashboard's own data: its users, their sessions and the audit log (issue 15). Its pages
// live in src/http/dashboard and read every other object through the services that own it.
import type { Clock } from '../clock.ts';
import type { Database } from '../storage/database.ts';
import { AuditLog } from './audit.ts';
import { DashboardPayments } from './queries/payments.ts';
import { DashboardSessions, type AdminKeyCheck } from './sessions.ts';
import { DashboardUsers } from './users.ts';

export type DashboardServices = {
  readonly users: DashboardUsers;
  readonly sessions: DashboardSessions;
  readonly audit: AuditLog;
  /** The payments list, search, export and timeline (queries/payments.ts). */
  readonly payments: DashboardPayments;
};

export function openDashboard(
  database: Database,
  clock: Clock,
  adminKeys: AdminKeyCheck,
): DashboardServices {
  return {
    users: new DashboardUsers(database, clock),
    sessions: new DashboardSessions(database, clock, adminKeys),
    audit: new AuditLog(database, clock),
    payments: new DashboardPayments(database),
  };
}

export { AuditLog } from './audit.ts';
export type { AuditEntry, NewAuditEntry } from './audit.ts';
export type { Principal, Role, Permission } from './principal.ts';
