// Stripe's event object, as the events API lists it and webhooks send it.
import { Type, type Static, type TSchema } from 'typebox';
import type { PresentableEvent } from '../events/events.ts';
import { eventTypes } from './event-types.ts';
import { Nullable, Timestamp, testMode, unixSeconds } from './json.ts';

/** The API version an event's object is shaped by. */
export const eventApiVersion = '2024-06-20';

const EventRequest = Type.Object(
  {
    id: Nullable(
      Type.String({ description: 'The id of the API request (its Request-Id header).' }),
    ),
    idempotency_key: Nullable(
      Type.String({ description: 'The Idempotency-Key header the request was sent with.' }),
    ),
  },
  {
    description:
      'The API request that caused the event; both null when Payrail caused it (a worker, status ' +
      'sync, settlement, an operator acting on the account).',
  },
);

/** The event's `data`; `object` is the API object right after the change. */
export const eventDataSchema = <T extends TSchema>(object: T) =>
  Type.Object({
    object,
    previous_attributes: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: 'The values of the fields the change updated, as they were before it.',
      }),
    ),
  });

export const eventFields = {
  id: Type.String(),
  object: Type.Literal('event'),
  api_version: Type.String({ description: 'The Stripe API version `data.object` is shaped by.' }),
  created: Timestamp,
  livemode: Type.Boolean(),
  pending_webhooks: Type.Integer({
    minimum: 0,
    description: 'Webhook endpoints that have not yet received the event successfully.',
  }),
  request: EventRequest,
};

export const EventSchema = Type.Object({
  ...eventFields,
  data: eventDataSchema(
    Type.Record(Type.String(), Type.Unknown(), {
      description: 'The API object right after the change.',
    }),
  ),
  type: Type.String({ description: `One of: ${eventTypes.join(', ')}.` }),
});

export function presentEvent(
  event: PresentableEvent,
  livemode = testMode,
): Static<typeof EventSchema> {
  return {
    id: event.id,
    object: 'event',
    api_version: eventApiVersion,
    created: unixSeconds(event.createdAt),
    data: event.data,
    livemode,
    pending_webhooks: event.pendingWebhooks,
    request: { id: event.request.id, idempotency_key: event.request.idempotencyKey },
    type: event.type,
  };
}
