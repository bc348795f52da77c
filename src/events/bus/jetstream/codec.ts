// The message the relay publishes: the whole stored event as JSON, so a worker needs no read to
// handle it. `data` is copied as the database's JSON text, untouched; a worker parses it the way
// the database drivers parse a json column.
import type { EventType, StoredEvent } from '../../events.ts';

export type OutboxEventRow = {
  readonly event_id: string;
  readonly merchant_id: string;
  readonly type: string;
  readonly object_id: string;
  /** The `data` column as text (`data::text`). */
  readonly data: string;
  readonly created_at: Date;
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();
// The events table's own check. A type this build does not list is still delivered: a newer
// relay may know more types than this worker.
const typePattern = /^[a-z_]+(\.[a-z_]+)+$/;

export function encodeEvent(row: OutboxEventRow): Uint8Array {
  const head = JSON.stringify({
    id: row.event_id,
    merchant_id: row.merchant_id,
    type: row.type,
    object_id: row.object_id,
    created_at: row.created_at.toISOString(),
  });
  return encoder.encode(`${head.slice(0, -1)},"data":${row.data}}`);
}

export class UndecodableEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UndecodableEventError';
  }
}

function text(record: Record<string, unknown>, key: string): string {
  const value = record[key];
  if (typeof value !== 'string' || value.length === 0)
    throw new UndecodableEventError(`event message has no '${key}'`);
  return value;
}

export function decodeEvent(data: Uint8Array): StoredEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(data));
  } catch {
    throw new UndecodableEventError('event message is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null)
    throw new UndecodableEventError('event message is not an object');
  const record = parsed as Record<string, unknown>;
  const type = text(record, 'type');
  if (!typePattern.test(type))
    throw new UndecodableEventError(`event message has a malformed type '${type}'`);
  const eventData = record.data as { object?: unknown } | undefined;
  if (
    typeof eventData !== 'object' ||
    eventData === null ||
    typeof eventData.object !== 'object' ||
    eventData.object === null
  ) {
    throw new UndecodableEventError('event message has no data.object');
  }
  const createdAt = new Date(text(record, 'created_at'));
  if (Number.isNaN(createdAt.getTime()))
    throw new UndecodableEventError('event message has a malformed created_at');
  return {
    id: text(record, 'id'),
    merchantId: text(record, 'merchant_id'),
    type: type as EventType,
    objectId: text(record, 'object_id'),
    data: eventData as StoredEvent['data'],
    createdAt,
  };
}
