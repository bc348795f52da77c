// Merchant routes for refunds. Thin: validate, call one service method, present.
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { RefundSchema, listOf, presentRefund } from '../../api-objects/index.ts';
import type { RouteContext } from '../context.ts';
import { idempotentRequest } from '../idempotency.ts';
import { answerList, createdFilter, listQuery, rangeOf } from '../list.ts';
import { Id, IdParams, Metadata, NoQuery } from '../schemas.ts';
import { Amount, paymentFailures } from './payment-intents.ts';

const CreateRefund = Type.Object(
  {
    payment_intent: Id,
    amount: Type.Optional(Amount),
    reason: Type.Optional(
      Type.Union([
        Type.Literal('duplicate'),
        Type.Literal('fraudulent'),
        Type.Literal('requested_by_customer'),
      ]),
    ),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);

const ListRefundsQuery = listQuery({ payment_intent: Type.Optional(Id), ...createdFilter });

const refundResponses = { 200: RefundSchema, ...paymentFailures };

export function registerRefundRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const payments = context.payments;
  const tags = ['refunds'];

  typed.post(
    '/v1/refunds',
    {
      schema: {
        tags,
        summary: 'Refund a succeeded PaymentIntent, in full or in part',
        body: CreateRefund,
        response: refundResponses,
      },
    },
    async (request) => {
      const body = request.body;
      const input = {
        paymentIntent: body.payment_intent,
        amount: body.amount,
        reason: body.reason,
        metadata: body.metadata,
      };
      const idempotency = idempotentRequest(request, context.idempotency);
      return presentRefund(await payments.createRefund(request.merchantId, input, idempotency));
    },
  );

  typed.get(
    '/v1/refunds',
    {
      schema: {
        tags,
        summary: 'List refunds, newest first',
        querystring: ListRefundsQuery,
        response: { 200: listOf(RefundSchema), ...paymentFailures },
      },
    },
    async (request) =>
      answerList(
        request.query,
        '/v1/refunds',
        async (page) => {
          const found = await payments.listRefunds(request.merchantId, {
            ...page,
            paymentIntentId: request.query.payment_intent,
            created: rangeOf(request.query.created),
          });
          return { items: found.refunds, hasMore: found.hasMore };
        },
        presentRefund,
      ),
  );

  typed.get(
    '/v1/refunds/:id',
    {
      schema: {
        tags,
        summary: 'Retrieve a refund',
        params: IdParams,
        querystring: NoQuery,
        response: refundResponses,
      },
    },
    async (request) =>
      presentRefund(await payments.retrieveRefund(request.merchantId, request.params.id)),
  );
}
