// The merchant's balance transactions (Stripe's /v1/balance_transactions): the itemization of its
// balance, with Stripe's filters. Thin: validate, call one service method, present.
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  BalanceTransactionSchema,
  BalanceTransactionTypeEnum,
  listOf,
  presentBalanceTransaction,
} from '../../api-objects/index.ts';
import type { RouteContext } from '../context.ts';
import { answerList, createdFilter, listQuery, RangeFilter, rangeOf } from '../list.ts';
import { Id, IdParams, NoQuery } from '../schemas.ts';
import { paymentFailures } from './payment-intents.ts';

const ListBalanceTransactionsQuery = listQuery({
  type: Type.Optional(BalanceTransactionTypeEnum),
  source: Type.Optional(Id),
  payout: Type.Optional(Id),
  available_on: RangeFilter,
  ...createdFilter,
});

const responses = { 200: BalanceTransactionSchema, ...paymentFailures };

export function registerBalanceTransactionRoutes(
  app: FastifyInstance,
  context: RouteContext,
): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['balance'];

  typed.get(
    '/v1/balance_transactions',
    {
      schema: {
        tags,
        summary: 'List balance transactions, newest first',
        description:
          'Filters: type, source, payout (what it paid out, and the payout itself), ' +
          'available_on and created (unix seconds; exact, or [gt], [gte], [lt], [lte]).',
        querystring: ListBalanceTransactionsQuery,
        response: { 200: listOf(BalanceTransactionSchema), ...paymentFailures },
      },
    },
    async (request) =>
      answerList(
        request.query,
        '/v1/balance_transactions',
        async (page) => {
          const query = request.query;
          const found = await context.balances.listBalanceTransactions(request.merchantId, {
            ...page,
            type: query.type,
            source: query.source,
            payout: query.payout,
            availableOn: rangeOf(query.available_on),
            created: rangeOf(query.created),
          });
          return { items: found.balanceTransactions, hasMore: found.hasMore };
        },
        presentBalanceTransaction,
      ),
  );

  typed.get(
    '/v1/balance_transactions/:id',
    {
      schema: {
        tags,
        summary: 'Retrieve a balance transaction',
        params: IdParams,
        querystring: NoQuery,
        response: responses,
      },
    },
    async (request) =>
      presentBalanceTransaction(
        await context.balances.retrieveBalanceTransaction(request.merchantId, request.params.id),
      ),
  );
}
