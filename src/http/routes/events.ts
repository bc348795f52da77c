// Merchant routes for events (Stripe's /v1/events): what happened, newest first, each with the
// object as it was right after the change.
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { EventSchema, errorResponses, listOf, presentEvent } from '../../api-objects/index.ts';
import type { RouteContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { answerList, createdFilter, listQuery, rangeOf } from '../list.ts';
import { IdParams } from '../schemas.ts';

// An exact type, or a prefix wildcard such as `payment_intent.*`.
const TypeFilter = Type.String({
  minLength: 3,
  maxLength: 100,
  pattern: '^[a-z_]+(\\.[a-z_]+)*(\\.\\*)?$',
});

const ListEventsQuery = listQuery({
  type: Type.Optional(TypeFilter),
  types: Type.Optional(Type.Array(TypeFilter, { minItems: 1, maxItems: 20 })),
  ...createdFilter,
});

/**
 * `base` is `/v1` for a merchant; the operator's scope registers the same routes under
 * `/v1/admin` acting as the platform account (src/merchants/platform.ts).
 */
export function registerEventRoutes(
  app: FastifyInstance,
  context: RouteContext,
  base = '/v1',
): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.get(
    `${base}/events`,
    {
      schema: {
        tags: ['events'],
        summary: 'List events, newest first',
        querystring: ListEventsQuery,
        response: { 200: listOf(EventSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { type, types } = request.query;
      if (type !== undefined && types !== undefined)
        throw new ApiError('parameter_invalid', 'Give type or types, not both.', 'types');
      return answerList(
        request.query,
        `${base}/events`,
        async (page) => {
          const found = await context.events.list(request.merchantId, {
            ...page,
            types: type === undefined ? types : [type],
            created: rangeOf(request.query.created),
          });
          return { items: found.events, hasMore: found.hasMore };
        },
        (event) => presentEvent(event),
      );
    },
  );

  typed.get(
    `${base}/events/:id`,
    {
      schema: {
        tags: ['events'],
        summary: 'Retrieve an event',
        params: IdParams,
        response: { 200: EventSchema, ...errorResponses },
      },
    },
    async (request) => {
      const event = await context.events.retrieve(request.merchantId, request.params.id);
      if (event === undefined)
        throw new ApiError('resource_missing', `No such event: '${request.params.id}'`, 'id');
      return presentEvent(event);
    },
  );
}
