// Merchant routes for events (Stripe's /v1/events): what happened, newest first, each with the
// object as it was right after the change.
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { eventTypes, findEvent, listEvents, presentEvent } from '../../events/events.ts';
import type { AppContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { list } from '../serialize.ts';
import { errorResponses, listOf } from '../schemas.ts';

const Id = Type.String({ minLength: 1, maxLength: 100 });
// An exact type, or a prefix wildcard such as `payment_intent.*`.
const TypeFilter = Type.String({
  minLength: 3,
  maxLength: 100,
  pattern: '^[a-z_]+(\\.[a-z_]+)*(\\.\\*)?$',
});

const EventSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('event'),
  api_version: Type.String(),
  created: Type.Integer(),
  data: Type.Object({
    object: Type.Record(Type.String(), Type.Unknown(), {
      description: 'The API object right after the change.',
    }),
  }),
  livemode: Type.Boolean(),
  type: Type.String({ description: `One of: ${eventTypes.join(', ')}.` }),
});

const ListEventsQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
    starting_after: Type.Optional(Id),
    ending_before: Type.Optional(Id),
    type: Type.Optional(TypeFilter),
    types: Type.Optional(Type.Array(TypeFilter, { minItems: 1, maxItems: 20 })),
  },
  { additionalProperties: false },
);

export function registerEventRoutes(app: FastifyInstance, context: AppContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.get(
    '/v1/events',
    {
      schema: {
        tags: ['events'],
        summary: 'List events, newest first',
        querystring: ListEventsQuery,
        response: { 200: listOf(EventSchema), ...errorResponses },
      },
    },
    async (request) => {
      const {
        limit,
        starting_after: startingAfter,
        ending_before: endingBefore,
        type,
        types,
      } = request.query;
      if (startingAfter !== undefined && endingBefore !== undefined)
        throw new ApiError(
          'parameter_invalid',
          'Give starting_after or ending_before, not both.',
          'ending_before',
        );
      if (type !== undefined && types !== undefined)
        throw new ApiError('parameter_invalid', 'Give type or types, not both.', 'types');
      const page = await listEvents(context.database, request.merchantId, {
        limit,
        startingAfter,
        endingBefore,
        types: type === undefined ? types : [type],
      });
      return list(page.events.map(presentEvent), page.hasMore, '/v1/events');
    },
  );

  typed.get(
    '/v1/events/:id',
    {
      schema: {
        tags: ['events'],
        summary: 'Retrieve an event',
        params: Type.Object({ id: Id }),
        response: { 200: EventSchema, ...errorResponses },
      },
    },
    async (request) => {
      const event = await findEvent(context.database, request.merchantId, request.params.id);
      if (event === undefined)
        throw new ApiError('resource_missing', `No such event: '${request.params.id}'`, 'id');
      return presentEvent(event);
    },
  );
}
