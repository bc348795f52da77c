// Merchant routes for refunds. Thin: validate, call one service method, present.
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { RefundSchema, listOf, presentRefund } from '../../api-objects/index.ts';
import type { RouteContext } from '../context.ts';
import { idempotentRequest } from '../idempotency.ts';
import { answerList, createdFilter, listQuery, rangeOf } from '../list.ts';
import { Empty, Id, IdParams, Metadata, NoQuery } from '../schemas.ts';
import { Amount, paymentFailures } from './payment-intents.ts';

const CreateRefund = Type.Object(
  {
    // One of the two is required (the service says which is missing); both must agree.
    payment_intent: Type.Optional(Id),
    charge: Type.Optional(Id),
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

const ListRefundsQuery = listQuery({
  payment_intent: Type.Optional(Id),
  charge: Type.Optional(Id),
  ...createdFilter,
});

// Stripe's update: metadata keys merge, '' unsets a key, metadata='' unsets them all.
const UpdateRefund = Type.Object(
  { metadata: Type.Optional(Type.Union([Metadata, Type.Literal('')])) },
  { additionalProperties: false },
);

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
        summary: 'Refund a PaymentIntent or charge, in full or in part (uncaptured: cancel it)',
        body: CreateRefund,
        response: refundResponses,
      },
    },
    async (request) => {
      const body = request.body;
      const input = {
        paymentIntent: body.payment_intent,
        charge: body.charge,
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
            chargeId: request.query.charge,
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

  typed.post(
    '/v1/refunds/:id',
    {
      schema: {
        tags,
        summary: "Update a refund's metadata",
        params: IdParams,
        body: UpdateRefund,
        response: refundResponses,
      },
    },
    async (request) => {
      const metadata = request.body.metadata;
      return presentRefund(
        await payments.updateRefund(
          request.merchantId,
          request.params.id,
          metadata === '' ? null : (metadata ?? {}),
        ),
      );
    },
  );

  typed.post(
    '/v1/refunds/:id/cancel',
    {
      schema: {
        tags,
        summary: 'Cancel a pending refund that has not been sent to the PSP',
        params: IdParams,
        body: Empty,
        response: refundResponses,
      },
    },
    async (request) =>
      presentRefund(await payments.cancelRefund(request.merchantId, request.params.id)),
  );
}
