// Operator route (admin key): run the money-out pipeline once, now (architecture §12). Workers run
// it on a timer; this is for operators and for tests that move a test clock and want the due
// work done at once.
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { MoneyOutRunSchema, errorResponses, presentMoneyOutRun } from '../../api-objects/index.ts';
import type { RouteContext } from '../context.ts';

const partDescription =
  "'settle' (cutoffs, submission, reports, statements, availability, reserves), " +
  "'payouts' (due payouts, sending) or 'all' (default).";

const RunBody = Type.Object(
  {
    part: Type.Optional(
      Type.Union([Type.Literal('settle'), Type.Literal('payouts'), Type.Literal('all')], {
        description: partDescription,
      }),
    ),
  },
  { additionalProperties: false },
);

export function registerMoneyOutRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  typed.post(
    '/v1/admin/money_out/run',
    {
      // A POST with no body at all runs everything (the operator scope has no empty-body hook).
      preValidation: async (request) => {
        if (request.body === undefined) request.body = {};
      },
      schema: {
        tags: ['operator'],
        summary: 'Run the money-out pipeline once at the current (system and merchant) time',
        body: Type.Optional(RunBody),
        response: { 200: MoneyOutRunSchema, ...errorResponses },
      },
    },
    async (request) => {
      const part = request.body?.part ?? 'all';
      const report = await context.moneyOut.run(part);
      request.log.info({ moneyOut: report, part }, 'money-out run');
      return presentMoneyOutRun(part, report);
    },
  );
}
