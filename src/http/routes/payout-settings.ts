// Payout settings (architecture §12): the merchant's own (schedule, weekly anchor, minimum
// balances) and the operator's (also the availability delay and the rolling reserve).
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  ErrorSchema,
  PayoutRunSchema,
  PayoutSettingsSchema,
  errorResponses,
  presentPayoutRun,
  presentPayoutSettings,
  weekdays,
  type Weekday,
} from '../../api-objects/index.ts';
import { MAX_AMOUNT_MINOR } from '../../money/index.ts';
import type { RouteContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { NoQuery } from '../schemas.ts';

const merchantFields = {
  schedule: Type.Optional(
    Type.Union([Type.Literal('daily'), Type.Literal('weekly'), Type.Literal('manual')]),
  ),
  weekly_anchor: Type.Optional(
    Type.Union(
      weekdays.map((day) => Type.Literal(day)),
      { description: 'The day of weekly payouts (the merchant’s time, UTC days).' },
    ),
  ),
  minimum_balances: Type.Optional(
    Type.Record(Type.String(), Type.Integer({ minimum: 0, maximum: Number(MAX_AMOUNT_MINOR) }), {
      maxProperties: 50,
      propertyNames: { pattern: '^[a-z]{3}$' },
      description: 'Per currency, what payouts always leave in the balance (0 removes it).',
    }),
  ),
};

const MerchantSettingsBody = Type.Object(merchantFields, { additionalProperties: false });

const OperatorSettingsBody = Type.Object(
  {
    ...merchantFields,
    delay_days: Type.Optional(Type.Integer({ minimum: 0, maximum: 30 })),
    reserve_percent_bps: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
    reserve_days: Type.Optional(Type.Integer({ minimum: 0, maximum: 365 })),
  },
  { additionalProperties: false },
);

const responses = { 200: PayoutSettingsSchema, ...errorResponses, 409: ErrorSchema };

function anchorOf(day: Weekday | undefined): number | undefined {
  return day === undefined ? undefined : weekdays.indexOf(day) + 1;
}

export function registerPayoutSettingsRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['payouts'];

  typed.get(
    '/v1/payout_settings',
    {
      schema: {
        tags,
        summary: 'Your payout schedule, minimum balances, availability delay and reserve',
        querystring: NoQuery,
        response: responses,
      },
    },
    async (request) => presentPayoutSettings(await context.payouts.settings(request.merchantId)),
  );

  typed.post(
    '/v1/payout_settings',
    {
      schema: {
        tags,
        summary: 'Change your payout schedule and minimum balances',
        body: MerchantSettingsBody,
        response: responses,
      },
    },
    async (request) =>
      presentPayoutSettings(
        await context.payouts.updateSettings(request.merchantId, {
          schedule: request.body.schedule,
          weeklyAnchor: anchorOf(request.body.weekly_anchor),
          minimumBalances: request.body.minimum_balances,
        }),
      ),
  );
}

export function registerPayoutOperatorRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.put(
    '/v1/admin/merchants/:id/payout_settings',
    {
      schema: {
        tags: ['operator'],
        summary: "Change a merchant's payout settings, availability delay and rolling reserve",
        params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
        body: OperatorSettingsBody,
        response: responses,
      },
    },
    async (request) => {
      const id = request.params.id;
      if ((await context.merchants.get(id)) === undefined)
        throw new ApiError('resource_missing', `No such merchant: '${id}'`, 'id');
      const body = request.body;
      return presentPayoutSettings(
        await context.payouts.updateSettingsAsOperator(id, {
          schedule: body.schedule,
          weeklyAnchor: anchorOf(body.weekly_anchor),
          minimumBalances: body.minimum_balances,
          delayDays: body.delay_days,
          reservePercentBps: body.reserve_percent_bps,
          reserveDays: body.reserve_days,
        }),
      );
    },
  );

  typed.post(
    '/v1/admin/payouts/run',
    {
      schema: {
        tags: ['operator'],
        summary: 'Run the payout steps now: create the due automatic payouts, send pending payouts',
        body: Type.Object(
          {
            create_due: Type.Optional(Type.Boolean({ default: true })),
            send: Type.Optional(Type.Boolean({ default: true })),
          },
          { additionalProperties: false },
        ),
        response: { 200: PayoutRunSchema, ...errorResponses },
      },
    },
    async (request) =>
      presentPayoutRun(
        await context.payouts.run({
          createDue: request.body.create_due,
          send: request.body.send,
        }),
      ),
  );
}
