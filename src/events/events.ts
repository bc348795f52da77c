// Events: Stripe-shaped records of what changed (architecture §2, §4). They are written in the same
// database transaction (or statement) as the change, together with an outbox row that the event
// bus drains; a rolled-back change leaves neither.
import { newSortableId } from '../ids.ts';
import type { Queryable } from '../storage/database.ts';
import { textArrayLiteral } from '../storage/arrays.ts';
import { keysetPage, type PageRequest, type TimeRange } from '../storage/pagination.ts';
import { toJson } from '../api-objects/json.ts';

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
};

export type StoredEvent = {
  readonly id: string;
  readonly merchantId: string;
  readonly type: EventType;
  readonly objectId: string;
  readonly data: { readonly object: Readonly<Record<string, unknown>> };
  readonly createdAt: Date;
};

export function newEvent(merchantId: string, type: EventType, object: EventObject): NewEvent {
  return { id: newSortableId('evt'), merchantId, type, object };
}

/**
 * The parameters of `eventCtes` for these events: five text-array literals (id, merchant,
 * type, object id, data), so that any number of events is one statement with a fixed shape. An
 * undefined entry writes nothing (it keeps the positions of a batch aligned with its events).
 */
export function eventParameters(
  events: readonly (NewEvent | undefined)[],
): [string, string, string, string, string] {
  return [
    textArrayLiteral(events.map((event) => event?.id ?? null)),
    textArrayLiteral(events.map((event) => event?.merchantId ?? null)),
    textArrayLiteral(events.map((event) => event?.type ?? null)),
    textArrayLiteral(events.map((event) => event?.object.id ?? null)),
    textArrayLiteral(
      events.map((event) => (event === undefined ? null : toJson({ object: event.object }))),
    ),
  ];
}

/**
 * Two data-modifying CTEs (`<name>` and `<name>_outbox`) that insert the events and their outbox
 * rows; `$n` are the five parameters of `eventParameters`, starting at `first`. `guard` (SQL)
 * must hold for an event to be written, so a conditional update can write its events in the
 * same statement; it may name `e.position`, the event's position (from 1) in the parameters.
 * `createdAt` (SQL) is the event's time from the clock (src/clock.ts); it may name `e.merchant_id`
 * and `e.position`.
 */
export function eventCtes(first: number, guard: string, name: string, createdAt: string): string {
  const p = (offset: number) => `$${first + offset}`;
  return `${name} AS (
      INSERT INTO events (id, merchant_id, type, object_id, data, created_at)
      SELECT e.id, e.merchant_id, e.type, e.object_id, e.data::json, ${createdAt}
        FROM unnest(${p(0)}::text[], ${p(1)}::text[], ${p(2)}::text[], ${p(3)}::text[], ${p(4)}::text[])
             WITH ORDINALITY AS e (id, merchant_id, type, object_id, data, position)
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
  await tx.query(`WITH ${eventCtes(1, 'true', 'ev', '$6::timestamptz')} SELECT 1`, [
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
  merchantId: string,
  id: string,
): Promise<StoredEvent | undefined> {
  const result = await queryable.query<EventRow>(
    'SELECT * FROM events WHERE id = $1 AND merchant_id = $2',
    [id, merchantId],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : eventFromRow(row);
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
  readonly created?: TimeRange;
  readonly objectId?: string;
};

/** Newest first, Stripe's list order. `types` may end in `.*` (e.g. `payment_intent.*`). */
export async function listEvents(
  queryable: Queryable,
  merchantId: string,
  options: EventListOptions,
): Promise<{ events: StoredEvent[]; hasMore: boolean }> {
  const patterns = options.types?.map((type) =>
    type.endsWith('.*') ? `${type.slice(0, -1)}%` : type,
  );
  const { rows, hasMore } = await keysetPage<EventRow, string>(
    queryable,
    {
      select: '*',
      from: 'events',
      scope: 'merchant_id = $1',
      filter:
        '($2::text[] IS NULL OR type LIKE ANY($2::text[])) AND ($3::text IS NULL OR object_id = $3)',
      scopeParameters: [merchantId],
      filterParameters: [
        patterns === undefined ? null : textArrayLiteral(patterns),
        options.objectId ?? null,
      ],
      timeRange: { column: 'created_at', range: options.created },
      key: 'id',
      keyType: 'text',
      order: 'newest_first',
      noun: 'event',
    },
    options,
  );
  return { events: rows.map(eventFromRow), hasMore };
}

/** The events API's reads: a merchant's own events, newest first. */
export class EventLog {
  readonly #queryable: Queryable;

  constructor(queryable: Queryable) {
    this.#queryable = queryable;
  }

  async list(
    merchantId: string,
    options: EventListOptions,
  ): Promise<{ events: StoredEvent[]; hasMore: boolean }> {
    return listEvents(this.#queryable, merchantId, options);
  }

  /** The merchant's event, or undefined (another merchant's is answered the same way). */
  async retrieve(merchantId: string, id: string): Promise<StoredEvent | undefined> {
    return findEvent(this.#queryable, merchantId, id);
  }
}
