// Merchant routes for charges: Stripe's charge, the view of a payment attempt (read only). Thin:
// validate, call one service method, present.
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  ChargeSchema,
  listOf,
  presentCharge,
  ChargeSearchResultSchema,
} from '../../api-objects/index.ts';
import type { RouteContext } from '../context.ts';
import { Expand, expand, expandEach, expandScope, expansionPlan } from '../expand.ts';
import { answerList, listQuery } from '../list.ts';
import { answerSearch, searchQuery } from '../search.ts';
import { Id, IdParams } from '../schemas.ts';
import { paymentFailures } from './payment-intents.ts';

const ListChargesQuery = listQuery({ payment_intent: Type.Optional(Id), expand: Expand });
const SearchChargesQuery = searchQuery(
  ['amount', 'created', 'currency', 'customer', 'metadata', 'payment_intent', 'status'],
  "status:'failed' AND amount>1000",
);
const RetrieveQuery = Type.Object({ expand: Expand }, { additionalProperties: false });

export function registerChargeRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const payments = context.payments;
  const tags = ['charges'];
  typed.get(
    '/v1/charges',
    {
      schema: {
        tags,
        summary: 'List charges (payment attempts), newest first',
        querystring: ListChargesQuery,
        response: { 200: listOf(ChargeSchema), ...paymentFailures },
      },
    },
    async (request) => {
      const plan = expansionPlan('charge', request.query.expand, 'list');
      const page = await answerList(
        request.query,
        '/v1/charges',
        async (page) => {
          const found = await payments.listCharges(request.merchantId, {
            ...page,
            paymentIntentId: request.query.payment_intent,
          });
          return { items: found.charges, hasMore: found.hasMore };
        },
        (view) => presentCharge(view),
      );
      return expandEach(page, 'charge', plan, expandScope(request, context));
    },
  );

  typed.get(
    '/v1/charges/search',
    {
      schema: {
        tags,
        summary: "Search charges with Stripe's search query language, newest first",
        description:
          'Pages continue with page=<next_page>; expand[]=total_count counts every match.',
        querystring: SearchChargesQuery,
        response: { 200: ChargeSearchResultSchema, ...paymentFailures },
      },
    },
    async (request) =>
      answerSearch(
        request.query,
        { type: 'charge', url: '/v1/charges/search', scope: expandScope(request, context) },
        (search) => payments.searchCharges(request.merchantId, search),
        (view) => presentCharge(view),
      ),
  );

  typed.get(
    '/v1/charges/:id',
    {
      schema: {
        tags,
        summary: 'Retrieve a charge',
        params: IdParams,
        querystring: RetrieveQuery,
        response: { 200: ChargeSchema, ...paymentFailures },
      },
    },
    async (request) => {
      const plan = expansionPlan('charge', request.query.expand);
      const found = await payments.retrieveCharge(request.merchantId, request.params.id);
      return expand(presentCharge(found), 'charge', plan, expandScope(request, context));
    },
  );
}
