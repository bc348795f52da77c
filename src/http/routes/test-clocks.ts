// Operator routes (admin key) that move test clocks, like Stripe's test clocks: the whole
// system's time or one merchant's, forward only (reset is the explicit way back). Registered only
// when test clocks are enabled (PAYRAIL_TEST_CLOCKS; on for `npm start`, the demo and tests).
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  errorResponses,
  presentClock,
  presentClocks,
  TestClockSchema,
  TestClocksSchema,
} from '../../api-objects/index.ts';
import { clockOffsetMsMax, type TestClocks } from '../../testmode/clock-service.ts';

export type TestClockRouteContext = { readonly testClocks?: TestClocks };

const Merchant = Type.Optional(
  Type.String({
    minLength: 1,
    maxLength: 64,
    pattern: '^[A-Za-z0-9_]+$',
    description: "The merchant whose clock moves; the system's clock when left out",
  }),
);

const AdvanceBody = Type.Object(
  {
    seconds: Type.Integer({ minimum: 1, maximum: clockOffsetMsMax / 1000 }),
    merchant: Merchant,
  },
  { additionalProperties: false },
);

const SetBody = Type.Object(
  {
    to: Type.String({
      format: 'date-time',
      maxLength: 40,
      description: 'ISO 8601 time with its offset, e.g. 2030-01-31T12:00:00Z; never before now',
    }),
    merchant: Merchant,
  },
  { additionalProperties: false },
);

const ResetBody = Type.Object({ merchant: Merchant }, { additionalProperties: false });

export function registerTestClockRoutes(
  app: FastifyInstance,
  context: TestClockRouteContext,
): void {
  const testClocks = context.testClocks;
  if (testClocks === undefined) return;
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['test clocks'];

  typed.get(
    '/v1/admin/test_clocks',
    {
      schema: {
        tags,
        summary: "The system's time and every merchant clock that runs ahead of it",
        response: { 200: TestClocksSchema, ...errorResponses },
      },
    },
    async () => presentClocks(await testClocks.show()),
  );

  typed.post(
    '/v1/admin/test_clocks/advance',
    {
      schema: {
        tags,
        summary: "Move the system's (or a merchant's) time forward by whole seconds",
        body: AdvanceBody,
        response: { 200: TestClockSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { seconds, merchant } = request.body;
      const moved = await testClocks.move(
        { kind: 'advance', milliseconds: seconds * 1000 },
        merchant,
      );
      request.log.info({ merchant, seconds }, 'test clock advanced');
      return presentClock(moved);
    },
  );

  typed.post(
    '/v1/admin/test_clocks/set',
    {
      schema: {
        tags,
        summary: "Move the system's (or a merchant's) time forward to a given time",
        body: SetBody,
        response: { 200: TestClockSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { to, merchant } = request.body;
      const moved = await testClocks.move({ kind: 'set', to: new Date(to) }, merchant);
      request.log.info({ merchant, to }, 'test clock set');
      return presentClock(moved);
    },
  );

  typed.post(
    '/v1/admin/test_clocks/reset',
    {
      schema: {
        tags,
        summary:
          "Back to real time: one merchant's clock (to the system's), or every clock when no " +
          'merchant is given',
        body: ResetBody,
        response: { 200: TestClocksSchema, ...errorResponses },
      },
    },
    async (request) => {
      const view = await testClocks.reset(request.body.merchant);
      request.log.warn({ merchant: request.body.merchant }, 'test clock reset');
      return presentClocks(view);
    },
  );
}
