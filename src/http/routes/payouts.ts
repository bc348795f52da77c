// Payouts (architecture §12): manual payouts from the payable balance, their list and retrieval,
// and cancel while the bank has not been asked yet. Automatic payouts and sending are steps
// (src/payouts), run by workers and operator commands, not routes.
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  ErrorSchema,
  PayoutSchema,
  errorResponses,
  listOf,
  presentPayout,
} from '../../api-objects/index.ts';
import type { RouteContext } from '../context.ts';
import { idempotentRequest } from '../idempotency.ts';
import { answerList, listQuery, RangeFilter, rangeOf } from '../list.ts';
import { Empty, IdParams, Metadata, NoQuery } from '../schemas.ts';
import { Amount } from './payment-intents.ts';

const CreatePayout = Type.Object(
  {
    amount: Type.Optional(Amount),
    currency: Type.String({ minLength: 3, maxLength: 3, pattern: '^[a-z]{3}$' }),
    description: Type.Optional(Type.String({ maxLength: 500 })),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);

const ListPayoutsQuery = listQuery({
  status: Type.Optional(
    Type.Union([
      Type.Literal('pending'),
      Type.Literal('in_transit'),
      Type.Literal('paid'),
      Type.Literal('failed'),
      Type.Literal('canceled'),
    ]),
  ),
  created: RangeFilter,
  arrival_date: RangeFilter,
});

const failures = { ...errorResponses, 409: ErrorSchema };

export function registerPayoutRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['payouts'];

  typed.post(
    '/v1/payouts',
    {
      schema: {
        tags,
        summary: 'Pay out to your default bank account: the amount, or the whole payable balance',
        body: CreatePayout,
        response: { 200: PayoutSchema, ...failures },
      },
    },
    async (request) => {
      const body = request.body;
      return presentPayout(
        await context.payouts.create(
          request.merchantId,
          {
            currency: body.currency,
            amount: body.amount,
            description: body.description,
            metadata: body.metadata,
          },
          idempotentRequest(request, context.idempotency),
        ),
      );
    },
  );

  typed.get(
    '/v1/payouts',
    {
      schema: {
        tags,
        summary: 'List payouts, newest first',
        querystring: ListPayoutsQuery,
        response: { 200: listOf(PayoutSchema), ...failures },
      },
    },
    async (request) =>
      answerList(
        request.query,
        '/v1/payouts',
        async (page) => {
          const query = request.query;
          const found = await context.payouts.list(request.merchantId, {
            ...page,
            status: request.query.status,
            created: rangeOf(query.created),
            arrivalDate: rangeOf(query.arrival_date),
          });
          return { items: found.payouts, hasMore: found.hasMore };
        },
        (payout) => presentPayout(payout),
      ),
  );

  typed.get(
    '/v1/payouts/:id',
    {
      schema: {
        tags,
        summary: 'Retrieve a payout',
        params: IdParams,
        querystring: NoQuery,
        response: { 200: PayoutSchema, ...failures },
      },
    },
    async (request) =>
      presentPayout(await context.payouts.retrieve(request.merchantId, request.params.id)),
  );

  typed.post(
    '/v1/payouts/:id/cancel',
    {
      schema: {
        tags,
        summary: 'Cancel a pending payout the bank has not been sent yet',
        params: IdParams,
        body: Empty,
        response: { 200: PayoutSchema, ...failures },
      },
    },
    async (request) =>
      presentPayout(await context.payouts.cancel(request.merchantId, request.params.id)),
  );
}
