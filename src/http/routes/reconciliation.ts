// Operator routes (admin key) of reconciliation (architecture §13): runs (real or dry), the
// exceptions they raised (filtered, paged, exported as CSV), their history, assignment and
// resolution. Thin: validate, call one service method, present.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Type, type Static, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Papa from 'papaparse';
import {
  ReconciliationExceptionSchema,
  ReconciliationFeeScheduleSchema,
  ReconciliationRunSchema,
  errorResponses,
  exceptionReasons,
  list,
  listOf,
  presentReconciliationFeeSchedule,
  presentReconciliationException,
  presentReconciliationRun,
  reconciliationExceptionCsvCells,
  reconciliationExceptionCsvColumns,
} from '../../api-objects/index.ts';
import type { ExceptionFilter } from '../../reconciliation/service.ts';
import type { RouteContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { answerList, createdFilter, listQuery, rangeOf } from '../list.ts';
import { IdParams } from '../schemas.ts';

const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD' });
const Actor = Type.String({ minLength: 1, maxLength: 200 });

const RunBody = Type.Object(
  {
    as_of: Type.Optional(Day),
    dry_run: Type.Optional(
      Type.Boolean({ description: 'Compute everything, change nothing (default false).' }),
    ),
  },
  { additionalProperties: false },
);

const filterProperties = {
  status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('resolved')])),
  reason: Type.Optional(Type.Union(exceptionReasons.map((reason) => Type.Literal(reason)))),
  source: Type.Optional(
    Type.Union(
      (['psp_report', 'acquirer_ack', 'bank_statement', 'ledger'] as const).map((source) =>
        Type.Literal(source),
      ),
    ),
  ),
  connector: Type.Optional(Type.String({ minLength: 1, maxLength: 40, pattern: '^[a-z0-9_]+$' })),
  currency: Type.Optional(Type.String({ pattern: '^[a-z]{3}$' })),
  assignee: Type.Optional(Actor),
  run: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  ...createdFilter,
};
const ExceptionsQuery = listQuery(filterProperties);
const ExportQuery = Type.Object(filterProperties, { additionalProperties: false });

const AssignBody = Type.Object(
  { assignee: Type.Union([Actor, Type.Null()]), actor: Type.Optional(Actor) },
  { additionalProperties: false },
);

const ResolveBody = Type.Object(
  {
    action: Type.Union(
      (['match', 'write_off', 'adjust', 'psp_error'] as const).map((action) =>
        Type.Literal(action),
      ),
      {
        description:
          'match: pair by hand with record_key/expectation; ' +
          'write_off: the money is lost or found ' +
          '(posted to recon adjustments); adjust: post `amount` to recon adjustments; ' +
          "psp_error: the PSP's mistake, claimed with the PSP (nothing posted).",
      },
    ),
    reason: Type.String({ minLength: 1, maxLength: 1000, description: "The operator's reason." }),
    actor: Type.Optional(Actor),
    record_key: Type.Optional(Type.String({ minLength: 1, maxLength: 400 })),
    record_source: Type.Optional(
      Type.Union(
        (['psp_report', 'acquirer_ack', 'bank_statement'] as const).map((source) =>
          Type.Literal(source),
        ),
      ),
    ),
    expectation: Type.Optional(Type.String({ minLength: 1, maxLength: 400 })),
    amount: Type.Optional(
      Type.Integer({ minimum: -1e15, maximum: 1e15, description: 'Minor units, signed.' }),
    ),
  },
  { additionalProperties: false },
);

function filterOf(query: Static<typeof ExportQuery>): ExceptionFilter {
  return {
    status: query.status,
    reason: query.reason,
    source: query.source,
    connector: query.connector,
    currency: query.currency,
    assignee: query.assignee,
    runId: query.run,
    created: rangeOf(query.created),
  };
}

/** A text cell that a spreadsheet would run as a formula is kept as text (CSV injection). */
function safeCell(cell: string): string {
  return /^[=+\-@\t\r]/.test(cell) && !/^-?\d+$/.test(cell) ? `'${cell}` : cell;
}

const FeeScheduleBody = Type.Object(
  {
    commission_bps: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
    commission_fixed: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
    markup_bps: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
    scheme_fee_bps: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
    interchange_bps: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
    tax_bps: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
    refund_fixed: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
  },
  { additionalProperties: false },
);
const ConnectorParams = Type.Object({
  connector: Type.String({ minLength: 1, maxLength: 40, pattern: '^[a-z0-9_]+$' }),
});
const big = (value: number | undefined) => (value === undefined ? undefined : BigInt(value));

export function registerReconciliationRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['reconciliation'];
  const service = context.reconciliation;

  typed.post(
    '/v1/reconciliation/runs',
    {
      schema: {
        tags,
        summary: 'Reconcile now (or dry-run): import, build expectations, match, raise exceptions',
        body: RunBody,
        response: { 201: ReconciliationRunSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const run = await service.run({
        asOf: request.body.as_of,
        dryRun: request.body.dry_run ?? false,
      });
      return reply.code(201).send(presentReconciliationRun(run));
    },
  );

  typed.get(
    '/v1/reconciliation/runs',
    {
      schema: {
        tags,
        summary: 'Reconciliation runs, newest first',
        querystring: listQuery({}),
        response: { 200: listOf(ReconciliationRunSchema), ...errorResponses },
      },
    },
    async (request) =>
      answerList(
        request.query,
        '/v1/reconciliation/runs',
        async (page) => {
          const found = await service.listRuns(page);
          return { items: found.runs, hasMore: found.hasMore };
        },
        presentReconciliationRun,
      ),
  );

  typed.get(
    '/v1/reconciliation/runs/:id',
    {
      schema: {
        tags,
        summary: 'A reconciliation run with its figures',
        params: IdParams,
        response: { 200: ReconciliationRunSchema, ...errorResponses },
      },
    },
    async (request) => {
      return presentReconciliationRun(await service.getRun(request.params.id));
    },
  );

  typed.get(
    '/v1/reconciliation/exceptions',
    {
      schema: {
        tags,
        summary: 'Reconciliation exceptions, newest first, filtered',
        querystring: ExceptionsQuery,
        response: { 200: listOf(ReconciliationExceptionSchema), ...errorResponses },
      },
    },
    async (request) => {
      const now = service.now();
      return answerList(
        request.query,
        '/v1/reconciliation/exceptions',
        async (page) => {
          const found = await service.listExceptions(filterOf(request.query), page);
          return { items: found.exceptions, hasMore: found.hasMore };
        },
        (exception) => presentReconciliationException(exception, now),
      );
    },
  );

  // Untyped: the answer is a stream of CSV lines, not a value of a response schema.
  app.get(
    '/v1/reconciliation/exceptions.csv',
    {
      schema: {
        tags,
        summary: 'Exactly the filtered exceptions as CSV (every page), newest first',
        querystring: ExportQuery,
        produces: ['text/csv'],
        response: errorResponses,
      },
    },
    async (request, reply) => {
      // The query was validated against ExportQuery above.
      const filter = filterOf(request.query as Static<typeof ExportQuery>);
      const now = service.now();
      reply.header('content-type', 'text/csv; charset=utf-8');
      reply.header('content-disposition', 'attachment; filename="reconciliation-exceptions.csv"');
      async function* lines(): AsyncGenerator<string> {
        yield `${Papa.unparse([[...reconciliationExceptionCsvColumns]])}\r\n`;
        for await (const exception of service.exceptionsForExport(filter)) {
          const cells = reconciliationExceptionCsvCells(
            presentReconciliationException(exception, now),
          ).map(safeCell);
          yield `${Papa.unparse([cells])}\r\n`;
        }
      }
      return reply.send(Readable.from(lines()));
    },
  );

  typed.get(
    '/v1/reconciliation/exceptions/:id',
    {
      schema: {
        tags,
        summary: 'A reconciliation exception with its history',
        params: IdParams,
        response: { 200: ReconciliationExceptionSchema, ...errorResponses },
      },
    },
    async (request) => {
      const found = await service.getException(request.params.id);
      return presentReconciliationException(found.exception, service.now(), found.history);
    },
  );

  typed.post(
    '/v1/reconciliation/exceptions/:id/assign',
    {
      schema: {
        tags,
        summary: 'Assign an exception to someone (null to unassign)',
        params: IdParams,
        body: AssignBody,
        response: { 200: ReconciliationExceptionSchema, ...errorResponses },
      },
    },
    async (request) => {
      const assigned = await service.assign(
        request.params.id,
        request.body.assignee,
        request.body.actor ?? 'operator',
      );
      return presentReconciliationException(assigned, service.now());
    },
  );

  typed.post(
    '/v1/reconciliation/exceptions/:id/resolve',
    {
      schema: {
        tags,
        summary: 'Resolve an exception by an explicit action (a ledger adjustment if money moves)',
        params: IdParams,
        body: ResolveBody,
        response: { 200: ReconciliationExceptionSchema, ...errorResponses },
      },
    },
    async (request) => {
      const body = request.body;
      if (body.action === 'adjust' && body.amount === undefined)
        throw new ApiError('parameter_missing', 'Missing required parameter: amount.', 'amount');
      const namesOtherSide = body.record_key !== undefined || body.expectation !== undefined;
      if (body.action === 'match' && !namesOtherSide)
        throw new ApiError(
          'parameter_missing',
          'A match by hand names the other side: record_key (with record_source) or expectation.',
          'record_key',
        );
      const resolved = await service.resolve(request.params.id, {
        action: body.action,
        reason: body.reason,
        actor: body.actor ?? 'operator',
        recordKey:
          body.record_key === undefined
            ? undefined
            : `${body.record_source ?? 'psp_report'}:${body.record_key}`,
        expectationKey: body.expectation,
        amount: body.amount === undefined ? undefined : BigInt(body.amount),
      });
      return presentReconciliationException(resolved, service.now());
    },
  );

  typed.get(
    '/v1/reconciliation/fee_schedules',
    {
      schema: {
        tags,
        summary: "Each PSP's fee schedule that reported fees are checked against",
        response: { 200: listOf(ReconciliationFeeScheduleSchema), ...errorResponses },
      },
    },
    async () =>
      list(
        (await context.reconciliationFeeSchedules.list()).map(presentReconciliationFeeSchedule),
        false,
        '/v1/reconciliation/fee_schedules',
      ),
  );

  typed.put(
    '/v1/reconciliation/fee_schedules/:connector',
    {
      schema: {
        tags,
        summary: "Set a PSP's fee schedule (fields not given keep their value); later runs use it",
        params: ConnectorParams,
        body: FeeScheduleBody,
        response: { 200: ReconciliationFeeScheduleSchema, ...errorResponses },
      },
    },
    async (request) => {
      const body = request.body;
      const saved = await context.reconciliationFeeSchedules.set(request.params.connector, {
        commissionBps: body.commission_bps,
        commissionFixed: big(body.commission_fixed),
        markupBps: body.markup_bps,
        schemeFeeBps: body.scheme_fee_bps,
        interchangeBps: body.interchange_bps,
        taxBps: body.tax_bps,
        refundFixed: big(body.refund_fixed),
      });
      return presentReconciliationFeeSchedule(saved);
    },
  );
}
