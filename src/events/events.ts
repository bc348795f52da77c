// Events: Stripe-shaped records of what changed (architecture §2, §4). They are written in the same
// database transaction (or statement) as the change, together with an outbox row that the event
// bus drains; a rolled-back change leaves neither.
import { newSortableId } from '../ids.ts';
import type { Queryable } from '../storage/database.ts';
import { textArrayLiteral } from '../storage/arrays.ts';
import { keysetPage, type PageRequest } from '../storage/pagination.ts';
import { toJson } from '../api-objects/json.ts';
import { requestCausing, type EventRequest } from './request.ts';

export { eventTypes, type EventType } from '../api-objects/event-types.ts';
import type { EventType } from '../api-objects/event-types.ts';

/** The API object the event carries (already presented: snake_case, bigint amounts). */
export type EventObject = { readonly id: string; readonly object: string } & Readonly<
  Record<string, unknown>
>;

export type NewEvent = {
  readonly id: string;
  readonly merchantId: string;
  readonly type: EventType;
  readonly object: EventObject;
  /** The API request that caused it, taken when it is made (a group commit writes it later). */
  readonly request: EventRequest;
  /** Stripe's `data.previous_attributes`: the changed fields' values before the change. */
  readonly previousAttributes?: Readonly<Record<string, unknown>>;
};

export type StoredEvent = {
  readonly id: string;
  readonly merchantId: string;
  readonly type: EventType;
  readonly objectId: string;
  readonly data: {
    readonly object: Readonly<Record<string, unknown>>;
    readonly previous_attributes?: Readonly<Record<string, unknown>>;
  };
  readonly createdAt: Date;
};

/** An event as the API and webhooks show it: with its request and its pending webhooks. */
export type PresentableEvent = StoredEvent & {
  readonly request: EventRequest;
  readonly pendingWebhooks: number;
};

export function newEvent(merchantId: string, type: EventType, object: EventObject): NewEvent {
  return {
    id: newSortableId('evt'),
    merchantId,
    type,
    object,
    request: requestCausing(merchantId),
  };
}

/** The event with Stripe's `data.previous_attributes` (for `*.updated` events). */
export function withPreviousAttributes(
  event: NewEvent,
  previousAttributes: Readonly<Record<string, unknown>>,
): NewEvent {
  return { ...event, previousAttributes };
}

/** The stored `data`: the object, and what the change replaced when the writer knows it. */
function eventData(event: NewEvent): string {
  return toJson(
    event.previousAttributes === undefined
      ? { object: event.object }
      : { object: event.object, previous_attributes: event.previousAttributes },
  );
}

/** How many parameters `eventParameters` gives (callers number theirs after them). */
export const eventParameterCount = 7;

/**
 * The parameters of `eventCtes` for these events: seven text-array literals (id, merchant,
 * type, object id, data, request id, idempotency key), so that any number of events is one
 * statement with a fixed shape. An undefined entry writes nothing (it keeps the positions of a
 * batch aligned with its events).
 */
export function eventParameters(
  events: readonly (NewEvent | undefined)[],
): [string, string, string, string, string, string, string] {
  return [
    textArrayLiteral(events.map((event) => event?.id ?? null)),
    textArrayLiteral(events.map((event) => event?.merchantId ?? null)),
    textArrayLiteral(events.map((event) => event?.type ?? null)),
    textArrayLiteral(events.map((event) => event?.object.id ?? null)),
    textArrayLiteral(events.map((event) => (event === undefined ? null : eventData(event)))),
    textArrayLiteral(events.map((event) => event?.request.id ?? null)),
    textArrayLiteral(events.map((event) => event?.request.idempotencyKey ?? null)),
  ];
}

/**
 * Two data-modifying CTEs (`<name>` and `<name>_outbox`) that insert the events and their outbox
 * rows; `$n` are the seven parameters of `eventParameters`, starting at `first`. `guard` (SQL)
 * must hold for an event to be written, so a conditional update can write its events in the
 * same statement; it may name `e.position`, the event's position (from 1) in the parameters.
 * `createdAt` (SQL) is the event's time from the clock (src/clock.ts); it may name `e.merchant_id`
 * and `e.position`.
 */
export function eventCtes(first: number, guard: string, name: string, createdAt: string): string {
  const p = (offset: number) => `$${first + offset}`;
  return `${name} AS (
      INSERT INTO events (id, merchant_id, type, object_id, data, request_id, idempotency_key, created_at)
      SELECT e.id, e.merchant_id, e.type, e.object_id, e.data::json, e.request_id, e.idempotency_key, ${createdAt}
        FROM unnest(${p(0)}::text[], ${p(1)}::text[], ${p(2)}::text[], ${p(3)}::text[], ${p(4)}::text[], ${p(5)}::text[], ${p(6)}::text[])
             WITH ORDINALITY AS e (id, merchant_id, type, object_id, data, request_id, idempotency_key, position)
       WHERE e.id IS NOT NULL AND (${guard})
       ORDER BY e.position
      RETURNING id
    ), ${name}_outbox AS (
      INSERT INTO event_outbox (event_id) SELECT id FROM ${name}
    )`;
}

/** Writes events (and their outbox rows) inside the caller's transaction, created at `now`. */
export async function insertEvents(
  tx: Queryable,
  events: readonly NewEvent[],
  now: Date,
): Promise<void> {
  if (events.length === 0) return;
  const nowParameter = `$${eventParameterCount + 1}::timestamptz`;
  await tx.query(`WITH ${eventCtes(1, 'true', 'ev', nowParameter)} SELECT 1`, [
    ...eventParameters(events),
    now,
  ]);
}

export type EventRow = {
  id: string;
  merchant_id: string;
  type: EventType;
  object_id: string;
  data: StoredEvent['data'];
  created_at: Date;
};

/** An event row with what presenting it needs (`presentableColumns`). */
export type PresentableEventRow = EventRow & {
  request_id: string | null;
  idempotency_key: string | null;
  pending_webhooks: number;
};

/**
 * SQL (an integer) for the pending webhooks of the event row `alias`. Webhooks know it
 * (webhooks/pending.ts, derived from their deliveries); the server hands it to the EventLog, so
 * events do not import webhooks, which import events.
 */
export type PendingWebhooksSql = (alias: string) => string;

/** The select list of a presentable event from `events` (unaliased). */
function presentableColumns(pendingWebhooks: PendingWebhooksSql): string {
  return `events.*, ${pendingWebhooks('events')} AS pending_webhooks`;
}

export function presentableEventFromRow(row: PresentableEventRow): PresentableEvent {
  return {
    ...eventFromRow(row),
    request: { id: row.request_id, idempotencyKey: row.idempotency_key },
    pendingWebhooks: row.pending_webhooks,
  };
}

export function eventFromRow(row: EventRow): StoredEvent {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    type: row.type,
    objectId: row.object_id,
    data: row.data,
    createdAt: row.created_at,
  };
}

export async function findEvent(
  queryable: Queryable,
  pendingWebhooks: PendingWebhooksSql,
  merchantId: string,
  id: string,
): Promise<PresentableEvent | undefined> {
  const result = await queryable.query<PresentableEventRow>(
    `SELECT ${presentableColumns(pendingWebhooks)} FROM events WHERE id = $1 AND merchant_id = $2`,
    [id, merchantId],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : presentableEventFromRow(row);
}

/** Events by id (any merchant), in the order of `ids`; for the bus and its consumers. */
export async function eventsById(
  queryable: Queryable,
  ids: readonly string[],
): Promise<StoredEvent[]> {
  if (ids.length === 0) return [];
  const result = await queryable.query<EventRow>(
    'SELECT * FROM events WHERE id = ANY($1::text[])',
    [textArrayLiteral(ids)],
  );
  const byId = new Map(result.rows.map((row) => [row.id, eventFromRow(row)]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

export type EventListOptions = PageRequest & {
  readonly types?: readonly string[];
  readonly objectId?: string;
};

/** Newest first, Stripe's list order. `types` may end in `.*` (e.g. `payment_intent.*`). */
export async function listEvents(
  queryable: Queryable,
  pendingWebhooks: PendingWebhooksSql,
  merchantId: string,
  options: EventListOptions,
): Promise<{ events: PresentableEvent[]; hasMore: boolean }> {
  const patterns = options.types?.map((type) =>
    type.endsWith('.*') ? `${type.slice(0, -1)}%` : type,
  );
  const { rows, hasMore } = await keysetPage<PresentableEventRow, string>(
    queryable,
    {
      select: presentableColumns(pendingWebhooks),
      from: 'events',
      scope: 'merchant_id = $1',
      filter:
        '($2::text[] IS NULL OR type LIKE ANY($2::text[])) AND ($3::text IS NULL OR object_id = $3)',
      scopeParameters: [merchantId],
      filterParameters: [
        patterns === undefined ? null : textArrayLiteral(patterns),
        options.objectId ?? null,
      ],
      key: 'id',
      keyType: 'text',
      order: 'newest_first',
      noun: 'event',
    },
    options,
  );
  return { events: rows.map(presentableEventFromRow), hasMore };
}

/** The events API's reads: a merchant's own events, newest first. */
export class EventLog {
  readonly #queryable: Queryable;
  readonly #pendingWebhooks: PendingWebhooksSql;

  constructor(queryable: Queryable, pendingWebhooks: PendingWebhooksSql) {
    this.#queryable = queryable;
    this.#pendingWebhooks = pendingWebhooks;
  }

  async list(
    merchantId: string,
    options: EventListOptions,
  ): Promise<{ events: PresentableEvent[]; hasMore: boolean }> {
    return listEvents(this.#queryable, this.#pendingWebhooks, merchantId, options);
  }

  /** The merchant's event, or undefined (another merchant's is answered the same way). */
  async retrieve(merchantId: string, id: string): Promise<PresentableEvent | undefined> {
    return findEvent(this.#queryable, this.#pendingWebhooks, merchantId, id);
  }
}
