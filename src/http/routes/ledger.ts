// Merchant routes over the merchant's own ledger accounts (owner = merchant id).
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  LedgerAccountSchema,
  LedgerEntrySchema,
  errorResponses,
  listOf,
  presentLedgerAccount,
  presentLedgerEntry,
} from '../../api-objects/index.ts';
import { ledgerLimits, type Account } from '../../ledger/index.ts';
import type { RouteContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { answerList, listQuery } from '../list.ts';

/** A ledger account id; longer than an object id (`merchant:<id>:available:usd`). */
export const LedgerAccountId = Type.String({ minLength: 1, maxLength: ledgerLimits.idLengthMax });
const AccountParams = Type.Object({ id: LedgerAccountId });
const AccountListQuery = listQuery({}, LedgerAccountId);
/**
 * Entries are keyed by their sequence number in the account: bounded so that only exact integers
 * reach BigInt() and the database's int8 (a query's `1e30` would otherwise be a 500 there).
 */
const EntrySequence = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
const EntryListQuery = listQuery({}, EntrySequence);

const toSequence = (cursor: number | undefined) =>
  cursor === undefined ? undefined : BigInt(cursor);

export function registerLedgerRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const ownAccount = async (merchantId: string, id: string): Promise<Account> => {
    const account = await context.ledger.getAccount(id);
    // Another merchant's account is answered exactly like a missing one.
    if (account === undefined || account.owner !== merchantId)
      throw new ApiError('resource_missing', `No such ledger account: '${id}'`, 'id');
    return account;
  };

  typed.get(
    '/v1/ledger/accounts',
    {
      schema: {
        tags: ['ledger'],
        summary: "List the merchant's ledger accounts with their balances",
        querystring: AccountListQuery,
        response: { 200: listOf(LedgerAccountSchema), ...errorResponses },
      },
    },
    async (request) =>
      answerList(
        request.query,
        '/v1/ledger/accounts',
        async (page) => {
          const found = await context.ledger.listAccounts({ ...page, owner: request.merchantId });
          return { items: found.accounts, hasMore: found.hasMore };
        },
        presentLedgerAccount,
      ),
  );

  typed.get(
    '/v1/ledger/accounts/:id',
    {
      schema: {
        tags: ['ledger'],
        summary: 'Retrieve a ledger account; with as_of (unix seconds), its balance at that time',
        params: AccountParams,
        querystring: Type.Object(
          { as_of: Type.Optional(Type.Integer({ minimum: 0, maximum: 253402300799 })) },
          { additionalProperties: false },
        ),
        response: { 200: LedgerAccountSchema, ...errorResponses },
      },
    },
    async (request) => {
      const account = await ownAccount(request.merchantId, request.params.id);
      if (request.query.as_of === undefined) return presentLedgerAccount(account);
      const historic = await context.ledger.balanceAsOf(
        account.id,
        new Date((request.query.as_of + 1) * 1000 - 1),
      );
      if (historic === undefined)
        throw new ApiError('resource_missing', `No such ledger account: '${account.id}'`, 'id');
      return presentLedgerAccount({
        ...account,
        totals: historic.totals,
        balance: historic.balance,
      });
    },
  );

  registerEntriesRoute(app, context, '/v1/ledger', ['ledger'], (request) =>
    ownAccount(request.merchantId, request.params.id),
  );
}

/**
 * `<base>/accounts/:id/entries`, newest first: a merchant's own account under /v1/ledger, any
 * account for the operator under /v1/admin/ledger; `find` decides which accounts the caller sees.
 */
export function registerEntriesRoute(
  app: FastifyInstance,
  context: RouteContext,
  base: string,
  tags: string[],
  find: (request: { merchantId: string; params: { id: string } }) => Promise<Account>,
): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    `${base}/accounts/:id/entries`,
    {
      schema: {
        tags,
        summary:
          'List the entries of a ledger account, newest first; cursors are entry sequence numbers',
        params: AccountParams,
        querystring: EntryListQuery,
        response: { 200: listOf(LedgerEntrySchema), ...errorResponses },
      },
    },
    async (request) => {
      const account = await find(request);
      return answerList(
        request.query,
        `${base}/accounts/${account.id}/entries`,
        async (page) => {
          const found = await context.ledger.listEntries(account.id, {
            limit: page.limit,
            startingAfter: toSequence(page.startingAfter),
            endingBefore: toSequence(page.endingBefore),
          });
          return { items: found.entries, hasMore: found.hasMore };
        },
        (entry) => presentLedgerEntry(entry, account),
      );
    },
  );
}
