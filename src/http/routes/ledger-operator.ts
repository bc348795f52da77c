// Operator routes (admin key) over the whole ledger: every account, and the verify.
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  LedgerAccountSchema,
  LedgerVerificationSchema,
  errorResponses,
  listOf,
  presentLedgerAccount,
  presentLedgerVerification,
} from '../../api-objects/index.ts';
import type { RouteContext } from '../context.ts';
import { answerList, listQuery } from '../list.ts';
import { ApiError } from '../errors.ts';
import { LedgerAccountId, registerEntriesRoute } from './ledger.ts';

export function registerLedgerOperatorRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.get(
    '/v1/admin/ledger/accounts',
    {
      schema: {
        tags: ['operator'],
        summary: 'List every ledger account (optionally of one owner)',
        querystring: listQuery(
          { owner: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) },
          LedgerAccountId,
        ),
        response: { 200: listOf(LedgerAccountSchema), ...errorResponses },
      },
    },
    async (request) =>
      answerList(
        request.query,
        '/v1/admin/ledger/accounts',
        async (page) => {
          const found = await context.ledger.listAccounts({ ...page, owner: request.query.owner });
          return { items: found.accounts, hasMore: found.hasMore };
        },
        presentLedgerAccount,
      ),
  );

  registerEntriesRoute(app, context, '/v1/admin/ledger', ['operator'], async (request) => {
    const account = await context.ledger.getAccount(request.params.id);
    if (account === undefined)
      throw new ApiError(
        'resource_missing',
        `No such ledger account: '${request.params.id}'`,
        'id',
      );
    return account;
  });

  typed.post(
    '/v1/admin/ledger/verify',
    {
      schema: {
        tags: ['operator'],
        summary:
          'Recompute the ledger and re-check every invariant (balances, limits, hash chains)',
        response: { 200: LedgerVerificationSchema, ...errorResponses },
      },
    },
    async (request) => {
      const started = performance.now();
      const report = await context.verifyLedger();
      const durationMs = Math.round(performance.now() - started);
      if (!report.ok) request.log.error({ problems: report.problems }, 'ledger verify failed');
      return presentLedgerVerification(report, durationMs);
    },
  );
}
