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
import type { TimeRange } from '../../balances/index.ts';
import type { RouteContext } from '../context.ts';
import { answerList, listQuery } from '../list.ts';
import { Id, IdParams, NoQuery } from '../schemas.ts';
import { paymentFailures } from './payment-intents.ts';

// Unix seconds, up to the end of year 9999.
const UnixSeconds = Type.Integer({ minimum: 0, maximum: 253_402_300_799 });

/** Stripe's range filter as its SDKs send it: `created=…` or `created[gte]=…` (flat keys). */
function rangeFilter<Name extends string>(name: Name) {
  return {
    [name]: Type.Optional(UnixSeconds),
    [`${name}[gt]`]: Type.Optional(UnixSeconds),
    [`${name}[gte]`]: Type.Optional(UnixSeconds),
    [`${name}[lt]`]: Type.Optional(UnixSeconds),
    [`${name}[lte]`]: Type.Optional(UnixSeconds),
  } as Record<
    Name | `${Name}[gt]` | `${Name}[gte]` | `${Name}[lt]` | `${Name}[lte]`,
    Type.TOptional<typeof UnixSeconds>
  >;
}

const ListBalanceTransactionsQuery = listQuery({
  type: Type.Optional(BalanceTransactionTypeEnum),
  source: Type.Optional(Id),
  payout: Type.Optional(Id),
  ...rangeFilter('available_on'),
  ...rangeFilter('created'),
});

type Query = Record<string, unknown>;

/** The range a query gives for `name`; `name=t` alone is the whole second t. */
function rangeOf(query: Query, name: string): TimeRange | undefined {
  const at = (key: string): Date | undefined => {
    const value = query[key];
    return typeof value === 'number' ? new Date(value * 1000) : undefined;
  };
  const exact = at(name);
  const range: TimeRange = {
    gt: at(`${name}[gt]`),
    gte: at(`${name}[gte]`) ?? exact,
    lt: at(`${name}[lt]`) ?? (exact === undefined ? undefined : new Date(exact.getTime() + 1000)),
    lte: at(`${name}[lte]`),
  };
  return Object.values(range).some((value) => value !== undefined) ? range : undefined;
}

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
            availableOn: rangeOf(query, 'available_on'),
            created: rangeOf(query, 'created'),
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
