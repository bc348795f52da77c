// Operator routes (admin key) over the event bus's dead-letter store: list, retrieve, replay.
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  DeadLetterReplaySchema,
  DeadLetterSchema,
  ErrorSchema,
  errorResponses,
  listOf,
  presentDeadLetter,
  presentDeadLetterReplay,
} from '../../api-objects/index.ts';
import type { DeadLetters } from '../../events/bus/index.ts';
import { ApiError } from '../errors.ts';
import { answerList, listQuery } from '../list.ts';

export type DeadLetterRouteContext = { readonly deadLetters: DeadLetters };

const DeadLetterQuery = listQuery({
  consumer: Type.Optional(Type.String({ pattern: '^[a-z_]{1,40}$' })),
  status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('replayed')])),
});

const DeadLetterParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

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
      const { consumer, status } = request.query;
      return answerList(
        request.query,
        '/v1/admin/dead_letters',
        async (page) => {
          const found = await context.deadLetters.list({ ...page, consumer, status });
          return { items: found.deadLetters, hasMore: found.hasMore };
        },
        presentDeadLetter,
      );
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
          "Run the consumer's handler for the event once more; `replay_outcome` says how it " +
          'went (a failed replay keeps the dead letter pending with the new error)',
        params: DeadLetterParams,
        response: { 200: DeadLetterReplaySchema, ...errorResponses, 503: ErrorSchema },
      },
    },
    async (request) => {
      const result = await context.deadLetters.replay(request.params.id);
      request.log.info(
        { deadLetterId: request.params.id, outcome: result.outcome },
        'dead letter replayed',
      );
      return presentDeadLetterReplay(result);
    },
  );
}
