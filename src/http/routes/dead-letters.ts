// Operator routes (admin key) over the event bus's dead-letter store: list, retrieve, replay.
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { DeadLetterError, presentDeadLetter, type DeadLetters } from '../../events/bus/index.ts';
import { ApiError } from '../errors.ts';
import { list } from '../serialize.ts';
import { ErrorSchema, ListQuery, errorResponses, listOf } from '../schemas.ts';

export type DeadLetterRouteContext = { readonly deadLetters: DeadLetters };

export const DeadLetterSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('dead_letter'),
  consumer: Type.String(),
  event: Type.String(),
  event_type: Type.String(),
  attempts: Type.Integer(),
  last_error: Type.String(),
  created: Type.Integer(),
  replayed: Type.Union([Type.Integer(), Type.Null()]),
  replay_count: Type.Integer(),
});

const DeadLetterQuery = Type.Object(
  {
    ...ListQuery.properties,
    consumer: Type.Optional(Type.String({ pattern: '^[a-z_]{1,40}$' })),
    status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('replayed')])),
  },
  { additionalProperties: false },
);

const DeadLetterParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

const ReplaySchema = Type.Object({
  ...DeadLetterSchema.properties,
  replay_outcome: Type.Union([
    Type.Literal('handled'),
    Type.Literal('duplicate'),
    Type.Literal('failed'),
  ]),
});

function toApiError(error: unknown): unknown {
  if (!(error instanceof DeadLetterError)) return error;
  if (error.code === 'dead_letter_not_found')
    return new ApiError('resource_missing', error.message, 'id');
  return new ApiError('service_unavailable', error.message);
}

export function registerDeadLetterRoutes(
  app: FastifyInstance,
  context: DeadLetterRouteContext,
): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.get(
    '/v1/admin/dead_letters',
    {
      schema: {
        tags: ['operator'],
        summary: 'List events that a consumer gave up on (newest first)',
        querystring: DeadLetterQuery,
        response: { 200: listOf(DeadLetterSchema), ...errorResponses },
      },
    },
    async (request) => {
      const page = await context.deadLetters.list({
        limit: request.query.limit,
        startingAfter: request.query.starting_after,
        consumer: request.query.consumer,
        status: request.query.status,
      });
      return list(page.deadLetters.map(presentDeadLetter), page.hasMore, '/v1/admin/dead_letters');
    },
  );

  typed.get(
    '/v1/admin/dead_letters/:id',
    {
      schema: {
        tags: ['operator'],
        summary: 'Retrieve a dead letter',
        params: DeadLetterParams,
        response: { 200: DeadLetterSchema, ...errorResponses },
      },
    },
    async (request) => {
      const deadLetter = await context.deadLetters.get(request.params.id);
      if (deadLetter === undefined)
        throw new ApiError('resource_missing', `No such dead letter: '${request.params.id}'`, 'id');
      return presentDeadLetter(deadLetter);
    },
  );

  typed.post(
    '/v1/admin/dead_letters/:id/replay',
    {
      schema: {
        tags: ['operator'],
        summary:
          "Run the consumer's handler for the event once more; `replay_outcome` says how it went (a failed replay keeps the dead letter pending with the new error)",
        params: DeadLetterParams,
        response: { 200: ReplaySchema, ...errorResponses, 503: ErrorSchema },
      },
    },
    async (request) => {
      try {
        const result = await context.deadLetters.replay(request.params.id);
        request.log.info(
          { deadLetterId: request.params.id, outcome: result.outcome },
          'dead letter replayed',
        );
        return { ...presentDeadLetter(result.deadLetter), replay_outcome: result.outcome };
      } catch (error) {
        throw toApiError(error);
      }
    },
  );
}
