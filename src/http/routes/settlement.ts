// Operator routes (admin key) of settlement (architecture §12): connector cutoffs, clearing
// batches, and a run on demand (close what is due, submit it).
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  SettlementBatchSchema,
  SettlementCutoffSchema,
  SettlementRunSchema,
  errorResponses,
  list,
  listOf,
  presentSettlementBatch,
  presentSettlementCutoff,
  presentSettlementRun,
  settlementBatchStatuses,
} from '../../api-objects/index.ts';
import type { RouteContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { answerList, listQuery } from '../list.ts';

const ConnectorParams = Type.Object({
  connector: Type.String({ minLength: 1, maxLength: 40, pattern: '^[a-z0-9_]+$' }),
});

const CutoffBody = Type.Object(
  {
    cutoff_time: Type.String({
      minLength: 5,
      maxLength: 8,
      description: 'Wall-clock time of day the clearing day closes, HH:MM or HH:MM:SS.',
    }),
    timezone: Type.String({
      minLength: 1,
      maxLength: 64,
      description: "IANA time zone of cutoff_time, e.g. 'Europe/Berlin'.",
    }),
    capture_window_days: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 30,
        description: 'An authorization older than this at the cutoff is not presented (default 7).',
      }),
    ),
  },
  { additionalProperties: false },
);

export function registerSettlementRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.get(
    '/v1/admin/settlement/cutoffs',
    {
      schema: {
        tags: ['operator'],
        summary: "Every connector's settlement cutoff (the default when none was set)",
        response: { 200: listOf(SettlementCutoffSchema), ...errorResponses },
      },
    },
    async () => {
      const cutoffs = await context.settlement.listCutoffs();
      return list(
        cutoffs.map((cutoff) => presentSettlementCutoff(cutoff.setting, cutoff.nextCutoffAt)),
        false,
        '/v1/admin/settlement/cutoffs',
      );
    },
  );

  typed.get(
    '/v1/admin/settlement/cutoffs/:connector',
    {
      schema: {
        tags: ['operator'],
        summary: "A connector's settlement cutoff and its next instant",
        params: ConnectorParams,
        response: { 200: SettlementCutoffSchema, ...errorResponses },
      },
    },
    async (request) => {
      const cutoff = await context.settlement.getCutoff(request.params.connector);
      return presentSettlementCutoff(cutoff.setting, cutoff.nextCutoffAt);
    },
  );

  typed.put(
    '/v1/admin/settlement/cutoffs/:connector',
    {
      schema: {
        tags: ['operator'],
        summary: "Set a connector's cutoff: time of day, time zone and capture window",
        params: ConnectorParams,
        body: CutoffBody,
        response: { 200: SettlementCutoffSchema, ...errorResponses },
      },
    },
    async (request) => {
      const cutoff = await context.settlement.setCutoff(request.params.connector, {
        cutoffTime: request.body.cutoff_time,
        timezone: request.body.timezone,
        captureWindowDays: request.body.capture_window_days,
      });
      request.log.info(
        { connector: request.params.connector, cutoff: request.body },
        'settlement cutoff set',
      );
      return presentSettlementCutoff(cutoff.setting, cutoff.nextCutoffAt);
    },
  );

  typed.get(
    '/v1/admin/settlement/batches',
    {
      schema: {
        tags: ['operator'],
        summary: 'List clearing batches, newest first',
        querystring: listQuery({
          connector: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
          status: Type.Optional(Type.Union(settlementBatchStatuses.map((s) => Type.Literal(s)))),
        }),
        response: { 200: listOf(SettlementBatchSchema), ...errorResponses },
      },
    },
    async (request) =>
      answerList(
        request.query,
        '/v1/admin/settlement/batches',
        async (page) => {
          const found = await context.settlement.listBatches({
            ...page,
            connector: request.query.connector,
            status: request.query.status,
          });
          return { items: found.batches, hasMore: found.hasMore };
        },
        presentSettlementBatch,
      ),
  );

  typed.get(
    '/v1/admin/settlement/batches/:id',
    {
      schema: {
        tags: ['operator'],
        summary: 'Retrieve a clearing batch',
        params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
        response: { 200: SettlementBatchSchema, ...errorResponses },
      },
    },
    async (request) => {
      const batch = await context.settlement.getBatch(request.params.id);
      if (batch === undefined)
        throw new ApiError(
          'resource_missing',
          `No such settlement batch: '${request.params.id}'`,
          'id',
        );
      return presentSettlementBatch(batch);
    },
  );

  typed.post(
    '/v1/admin/settlement/run',
    {
      schema: {
        tags: ['operator'],
        summary:
          'Close the batches due at the cutoffs (system time) and submit them to the acquirer',
        response: { 200: SettlementRunSchema, ...errorResponses },
      },
    },
    async (request) => {
      const run = await context.settlement.run();
      request.log.info({ run: presentSettlementRun(run) }, 'settlement run');
      return presentSettlementRun(run);
    },
  );
}
