// The audit log: every dashboard action that moves money or changes configuration, with who did
// it, when, the reason they gave, and the object before and after. Append-only.
//
// An entry is written once the action has succeeded (a refused action changed nothing), with the
// object as the action's own answer shows it; an action on a merchant's object is listed to that
// merchant and to the operator, a platform action (merchant_id null) to the operator only.
import type { Clock } from '../clock.ts';
import { newSortableId } from '../ids.ts';
import type { Queryable } from '../storage/database.ts';
import { keysetPage, type Page, type PageRequest } from '../storage/pagination.ts';
import type { Principal } from './principal.ts';

export type AuditEntry = {
  readonly id: string;
  readonly createdAt: Date;
  readonly actor: string;
  readonly actorRole: string;
  readonly merchantId: string | null;
  /** `<object>.<verb>`: `payment.refund`, `api_key.roll`, `webhook_delivery.retry` … */
  readonly action: string;
  readonly objectId: string | null;
  readonly reason: string;
  readonly before: unknown;
  readonly after: unknown;
  readonly requestId: string | null;
};

export type NewAuditEntry = {
  readonly merchantId: string | null;
  readonly action: string;
  readonly objectId: string | null;
  readonly reason: string;
  readonly before?: unknown;
  readonly after?: unknown;
  readonly requestId?: string;
};

export const reasonLengthMin = 3;
export const reasonLengthMax = 500;

type AuditRow = {
  id: string;
  created_at: Date;
  actor: string;
  actor_role: string;
  merchant_id: string | null;
  action: string;
  object_id: string | null;
  reason: string;
  before: unknown;
  after: unknown;
  request_id: string | null;
};

function entryOf(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    createdAt: row.created_at,
    actor: row.actor,
    actorRole: row.actor_role,
    merchantId: row.merchant_id,
    action: row.action,
    objectId: row.object_id,
    reason: row.reason,
    before: row.before,
    after: row.after,
    requestId: row.request_id,
  };
}

/** JSON for a jsonb column: bigint amounts as exact numbers in text form are kept as strings. */
function jsonOf(value: unknown): string | null {
  if (value === undefined) return null;
  return JSON.stringify(value, (_key, inner: unknown) =>
    typeof inner === 'bigint' ? inner.toString() : inner,
  );
}

export class AuditLog {
  readonly #database: Queryable;
  readonly #clock: Clock;

  constructor(database: Queryable, clock: Clock) {
    this.#database = database;
    this.#clock = clock;
  }

  async record(
    principal: Principal,
    entry: NewAuditEntry,
    queryable: Queryable = this.#database,
  ): Promise<AuditEntry> {
    const now = this.#clock.now();
    const inserted = await queryable.query<AuditRow>(
      `INSERT INTO audit_log (id, created_at, actor, actor_role, merchant_id, action, object_id,
                              reason, before, after, request_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11) RETURNING *`,
      [
        newSortableId('aud', now.getTime()),
        now,
        principal.actor,
        principal.role,
        entry.merchantId,
        entry.action,
        entry.objectId,
        entry.reason,
        jsonOf(entry.before),
        jsonOf(entry.after),
        entry.requestId ?? null,
      ],
    );
    return entryOf(inserted.rows[0] as AuditRow);
  }

  /** Newest first; a merchant sees its own entries, the operator (null) every entry. */
  async list(
    merchantId: string | null,
    filter: { readonly objectId?: string; readonly action?: string },
    page: PageRequest,
  ): Promise<Page<AuditEntry>> {
    const found = await keysetPage<AuditRow, string>(
      this.#database,
      {
        select: '*',
        from: 'audit_log',
        scope: merchantId === null ? 'true' : 'merchant_id = $1',
        scopeParameters: merchantId === null ? [] : [merchantId],
        equals: { object_id: filter.objectId, action: filter.action },
        key: 'id',
        keyType: 'text',
        order: 'newest_first',
        noun: 'audit entry',
      },
      page,
    );
    return { rows: found.rows.map(entryOf), hasMore: found.hasMore };
  }
}
