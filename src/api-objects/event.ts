// Stripe's event object, as the events API lists it and webhooks send it.
import { Type, type Static } from 'typebox';
import type { StoredEvent } from '../events/events.ts';
import { eventTypes } from './event-types.ts';
import { Timestamp, testMode, unixSeconds } from './json.ts';

/** The API version an event's object is shaped by. */
export const eventApiVersion = '2024-06-20';

export const EventSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('event'),
  api_version: Type.String(),
  created: Timestamp,
  data: Type.Object({
    object: Type.Record(Type.String(), Type.Unknown(), {
      description: 'The API object right after the change.',
    }),
  }),
  livemode: Type.Boolean(),
  type: Type.String({ description: `One of: ${eventTypes.join(', ')}.` }),
});

export function presentEvent(event: StoredEvent, livemode = testMode): Static<typeof EventSchema> {
  return {
    id: event.id,
    object: 'event',
    api_version: eventApiVersion,
    created: unixSeconds(event.createdAt),
    data: event.data,
    livemode,
    type: event.type,
  };
}
