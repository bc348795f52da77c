// Merchant routes over the merchant's own ledger accounts (owner = merchant id).
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Account } from '../../ledger/index.ts';
import type { AppContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { presentAccount, presentEntry } from '../presenters.ts';
import { list } from '../serialize.ts';
import { Int64, ListQuery, errorResponses, listOf } from '../schemas.ts';

const Balance = Type.Object({ posted: Int64, pending: Int64, available: Int64 });
export const AccountSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('ledger_account'),
  type: Type.String(),
  currency: Type.String(),
  owner: Type.String(),
  limit: Type.String(),
  balance: Balance,
  totals: Type.Object({
    posted_debits: Int64,
    posted_credits: Int64,
    pending_debits: Int64,
    pending_credits: Int64,
  }),
  entry_count: Int64,
  created: Type.Integer(),
  livemode: Type.Boolean(),
  metadata: Type.Record(Type.String(), Type.String()),
});
const EntrySchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('ledger_entry'),
  transaction: Type.String(),
  leg: Type.Integer(),
  account: Type.String(),
  sequence: Int64,
  currency: Type.String(),
  layer: Type.String(),
  direction: Type.String(),
  amount: Int64,
  balance_after: Balance,
  hash: Type.String(),
  created: Type.Integer(),
  livemode: Type.Boolean(),
});
// A cursor becomes a bigint sequence number: bounded so that only exact integers reach BigInt()
// and the database's int8 (a query's `1e30` would otherwise be a 500 there).
const EntrySequence = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
const AccountParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });

export function registerLedgerRoutes(app: FastifyInstance, context: AppContext): void {
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
        querystring: ListQuery,
        response: { 200: listOf(AccountSchema), ...errorResponses },
      },
    },
    async (request) => {
      const page = await context.ledger.listAccounts({
        owner: request.merchantId,
        limit: request.query.limit,
        startingAfter: request.query.starting_after,
      });
      return list(page.accounts.map(presentAccount), page.hasMore, '/v1/ledger/accounts');
    },
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
        response: { 200: AccountSchema, ...errorResponses },
      },
    },
    async (request) => {
      const account = await ownAccount(request.merchantId, request.params.id);
      if (request.query.as_of === undefined) return presentAccount(account);
      const historic = await context.ledger.balanceAsOf(
        account.id,
        new Date((request.query.as_of + 1) * 1000 - 1),
      );
      if (historic === undefined)
        throw new ApiError('resource_missing', `No such ledger account: '${account.id}'`, 'id');
      return presentAccount({ ...account, totals: historic.totals, balance: historic.balance });
    },
  );

  typed.get(
    '/v1/ledger/accounts/:id/entries',
    {
      schema: {
        tags: ['ledger'],
        summary:
          'List the entries of a ledger account, newest first; cursors are entry sequence numbers',
        params: AccountParams,
        querystring: Type.Object(
          {
            limit: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
            starting_after: Type.Optional(EntrySequence),
            ending_before: Type.Optional(EntrySequence),
          },
          { additionalProperties: false },
        ),
        response: { 200: listOf(EntrySchema), ...errorResponses },
      },
    },
    async (request) => {
      const account = await ownAccount(request.merchantId, request.params.id);
      const { limit, starting_after: startingAfter, ending_before: endingBefore } = request.query;
      if (startingAfter !== undefined && endingBefore !== undefined) {
        throw new ApiError(
          'parameter_invalid',
          'Give starting_after or ending_before, not both.',
          'ending_before',
        );
      }
      const page = await context.ledger.listEntries(account.id, {
        limit,
        startingAfter: startingAfter === undefined ? undefined : BigInt(startingAfter),
        endingBefore: endingBefore === undefined ? undefined : BigInt(endingBefore),
      });
      return list(
        page.entries.map((entry) => presentEntry(entry, account)),
        page.hasMore,
        `/v1/ledger/accounts/${account.id}/entries`,
      );
    },
  );
}
