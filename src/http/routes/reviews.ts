// Merchant routes for the review queue (Stripe's reviews): payments a review rule held,
// authorized and not captured. Thin: validate, call one service method, present.
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { listOf } from '../../api-objects/index.ts';
import { ReviewSchema, presentReview } from '../../api-objects/review.ts';
import type { RouteContext } from '../context.ts';
import { answerList, createdFilter, listQuery, rangeOf } from '../list.ts';
import { Empty, IdParams, NoQuery } from '../schemas.ts';
import { paymentFailures } from './payment-intents.ts';

const ListReviewsQuery = listQuery({
  open: Type.Optional(
    Type.Boolean({ description: 'Payrail: only open (or only closed) reviews.' }),
  ),
  ...createdFilter,
});

const reviewResponses = { 200: ReviewSchema, ...paymentFailures };

export function registerReviewRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const payments = context.payments;
  const tags = ['reviews'];

  typed.get(
    '/v1/reviews',
    {
      schema: {
        tags,
        summary: 'List reviews, newest first',
        querystring: ListReviewsQuery,
        response: { 200: listOf(ReviewSchema), ...paymentFailures },
      },
    },
    async (request) =>
      answerList(
        request.query,
        '/v1/reviews',
        (page) =>
          payments.listReviews(
            request.merchantId,
            { open: request.query.open, created: rangeOf(request.query.created) },
            page,
          ),
        presentReview,
      ),
  );

  typed.get(
    '/v1/reviews/:id',
    {
      schema: {
        tags,
        summary: 'Retrieve a review',
        params: IdParams,
        querystring: NoQuery,
        response: reviewResponses,
      },
    },
    async (request) =>
      presentReview(await payments.retrieveReview(request.merchantId, request.params.id)),
  );

  typed.post(
    '/v1/reviews/:id/approve',
    {
      schema: {
        tags,
        summary: 'Approve a review: it closes, and a payment with automatic capture is captured',
        params: IdParams,
        body: Empty,
        response: reviewResponses,
      },
    },
    async (request) =>
      presentReview(await payments.approveReview(request.merchantId, request.params.id)),
  );
}
