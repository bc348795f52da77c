// Merchant bank accounts, where payouts go (architecture §12). The account number is accepted
// once, sealed at rest and shown only as its last four characters.
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  BankAccountSchema,
  DeletedBankAccountSchema,
  ErrorSchema,
  errorResponses,
  listOf,
  presentBankAccount,
} from '../../api-objects/index.ts';
import type { RouteContext } from '../context.ts';
import { idempotentRequest } from '../idempotency.ts';
import { answerList, listQuery } from '../list.ts';
import { IdParams, NoQuery } from '../schemas.ts';

const Currency = Type.String({ minLength: 3, maxLength: 3, pattern: '^[a-z]{3}$' });

const CreateBankAccount = Type.Object(
  {
    currency: Currency,
    country: Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2, e.g. US.' }),
    account_holder_name: Type.String({ minLength: 1, maxLength: 200 }),
    routing_number: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9]{1,34}$' })),
    account_number: Type.String({
      pattern: '^[A-Za-z0-9]{4,34}$',
      description: 'Sealed at rest; never shown again (only last4).',
    }),
  },
  { additionalProperties: false },
);

const failures = { ...errorResponses, 409: ErrorSchema };

export function registerBankAccountRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['payouts'];

  typed.post(
    '/v1/bank_accounts',
    {
      schema: {
        tags,
        summary: 'Add a bank account for payouts (the first of a currency becomes its default)',
        body: CreateBankAccount,
        response: { 200: BankAccountSchema, ...failures },
      },
    },
    async (request) => {
      const body = request.body;
      return presentBankAccount(
        await context.payouts.createBankAccount(
          request.merchantId,
          {
            currency: body.currency,
            country: body.country,
            accountHolderName: body.account_holder_name,
            routingNumber: body.routing_number,
            accountNumber: body.account_number,
          },
          idempotentRequest(request, context.idempotency),
        ),
      );
    },
  );

  typed.get(
    '/v1/bank_accounts',
    {
      schema: {
        tags,
        summary: 'List your bank accounts, newest first',
        querystring: listQuery({ currency: Type.Optional(Currency) }),
        response: { 200: listOf(BankAccountSchema), ...failures },
      },
    },
    async (request) =>
      answerList(
        request.query,
        '/v1/bank_accounts',
        async (page) => {
          const found = await context.payouts.listBankAccounts(request.merchantId, {
            ...page,
            currency: request.query.currency,
          });
          return { items: found.bankAccounts, hasMore: found.hasMore };
        },
        (account) => presentBankAccount(account),
      ),
  );

  typed.get(
    '/v1/bank_accounts/:id',
    {
      schema: {
        tags,
        summary: 'Retrieve a bank account',
        params: IdParams,
        querystring: NoQuery,
        response: { 200: BankAccountSchema, ...failures },
      },
    },
    async (request) =>
      presentBankAccount(
        await context.payouts.retrieveBankAccount(request.merchantId, request.params.id),
      ),
  );

  typed.delete(
    '/v1/bank_accounts/:id',
    {
      schema: {
        tags,
        summary: 'Remove a bank account no unfinished payout goes to',
        params: IdParams,
        response: { 200: DeletedBankAccountSchema, ...failures },
      },
    },
    async (request) => {
      const removed = await context.payouts.deleteBankAccount(
        request.merchantId,
        request.params.id,
      );
      return { id: removed.id, object: 'bank_account' as const, deleted: true as const };
    },
  );
}
