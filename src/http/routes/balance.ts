// The merchant's balance (Stripe's /v1/balance), from the ledger, and its balance transactions.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { BalanceSchema, presentBalance } from '../../api-objects/index.ts';
import type { RouteContext } from '../context.ts';
import { NoQuery } from '../schemas.ts';
import { registerBalanceTransactionRoutes } from './balance-transactions.ts';
import { paymentFailures } from './payment-intents.ts';

export function registerBalanceRoutes(app: FastifyInstance, context: RouteContext): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/v1/balance',
    {
      schema: {
        tags: ['balance'],
        summary: "The merchant's balance per currency, from the ledger",
        description:
          'available: net of reserve holds, less what the merchant owes after negative days ' +
          '(may be negative); pending: not yet available; reserved: held by a rolling reserve.',
        querystring: NoQuery,
        response: { 200: BalanceSchema, ...paymentFailures },
      },
    },
    async (request) => presentBalance(await context.balances.balance(request.merchantId)),
  );
  registerBalanceTransactionRoutes(app, context);
}
