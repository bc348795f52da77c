// Merchant routes for customers (Stripe's Customer) and a customer's saved cards. Thin: validate,
// call one service method, present. DELETE is erasure (GDPR): see src/customers/service.ts.
import type { FastifyInstance } from 'fastify';
import { Type, type Static, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  CustomerOrDeletedSchema,
  CustomerSchema,
  DeletedCustomerSchema,
  PaymentMethodSchema,
  errorResponses,
  listOf,
  presentCustomer,
  presentCustomerOrDeleted,
  presentDeletedCustomer,
  presentPaymentMethod,
  CustomerSearchResultSchema,
} from '../../api-objects/index.ts';
import type { CustomerFields } from '../../customers/types.ts';
import type { Address } from '../../vault/index.ts';
import type { RouteContext } from '../context.ts';
import { expandScope } from '../expand.ts';
import { idempotentRequest } from '../idempotency.ts';
import { answerSearch, searchQuery } from '../search.ts';
import { answerList, createdFilter, listQuery, rangeOf } from '../list.ts';
import { Id, IdParams, Metadata, NoQuery } from '../schemas.ts';
import { registerSavedPaymentMethodRoutes } from './payment-methods.ts';
import { AddressInput, Email, Phone } from './contact-inputs.ts';

const text = (maxLength: number) => Type.String({ maxLength });

const customerFields = {
  email: Type.Optional(Email),
  name: Type.Optional(text(256)),
  phone: Type.Optional(Phone),
  description: Type.Optional(text(1000)),
  address: Type.Optional(Type.Union([AddressInput, Type.Literal('')])),
  metadata: Type.Optional(Metadata),
  invoice_settings: Type.Optional(
    Type.Object(
      { default_payment_method: Type.Optional(Type.Union([Id, Type.Literal('')])) },
      { additionalProperties: false },
    ),
  ),
};

const CreateCustomer = Type.Object(
  { ...customerFields, payment_method: Type.Optional(Id) },
  { additionalProperties: false },
);
const UpdateCustomer = Type.Object(customerFields, { additionalProperties: false });
const ListCustomersQuery = listQuery({
  email: Type.Optional(Type.String({ maxLength: 512 })),
  ...createdFilter,
});
const SearchCustomersQuery = searchQuery(
  ['created', 'email', 'metadata', 'name', 'phone'],
  "email:'jenny@example.com' OR name~'jen'",
);
const ListCustomerPaymentMethodsQuery = listQuery({ type: Type.Optional(Type.Literal('card')) });

function fieldsOf(body: Static<typeof UpdateCustomer>): CustomerFields {
  const address = body.address === '' ? null : (body.address as Address | undefined);
  const preferred = body.invoice_settings?.default_payment_method;
  return {
    email: body.email,
    name: body.name,
    phone: body.phone,
    description: body.description,
    address,
    metadata: body.metadata,
    defaultPaymentMethod: preferred === '' ? null : preferred,
  };
}

export function registerCustomerRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const customers = context.customers;
  const tags = ['customers'];
  const responses = { 200: CustomerSchema, ...errorResponses };

  typed.post(
    '/v1/customers',
    { schema: { tags, summary: 'Create a customer', body: CreateCustomer, response: responses } },
    async (request) => {
      const idempotency = idempotentRequest(request, context.idempotency);
      const existing = idempotency.resumed === true ? idempotency.resourceId : undefined;
      if (existing !== undefined && existing !== null)
        return presentCustomer(await customers.retrieve(request.merchantId, existing));
      return presentCustomer(
        await customers.create(
          request.merchantId,
          fieldsOf(request.body),
          request.body.payment_method,
          idempotency.bind,
        ),
      );
    },
  );

  typed.get(
    '/v1/customers',
    {
      schema: {
        tags,
        summary: 'List customers, newest first (erased ones are left out)',
        querystring: ListCustomersQuery,
        response: { 200: listOf(CustomerSchema), ...errorResponses },
      },
    },
    async (request) =>
      answerList(
        request.query,
        '/v1/customers',
        (page) =>
          customers.list(
            request.merchantId,
            { email: request.query.email, created: rangeOf(request.query.created) },
            page,
          ),
        (customer) => presentCustomer(customer),
      ),
  );

  typed.get(
    '/v1/customers/search',
    {
      schema: {
        tags,
        summary: "Search customers with Stripe's search query language, newest first",
        description:
          'Pages continue with page=<next_page>; expand[]=total_count counts every match. ' +
          'Erased customers are never found.',
        querystring: SearchCustomersQuery,
        response: { 200: CustomerSearchResultSchema, ...errorResponses },
      },
    },
    async (request) =>
      answerSearch(
        request.query,
        {
          type: 'customer',
          url: '/v1/customers/search',
          scope: expandScope(request, context),
        },
        (search) => customers.search(request.merchantId, search),
        (customer) => presentCustomer(customer),
      ),
  );

  typed.get(
    '/v1/customers/:id',
    {
      schema: {
        tags,
        summary: "Retrieve a customer (an erased one answers Stripe's deleted stub)",
        params: IdParams,
        querystring: NoQuery,
        response: { 200: CustomerOrDeletedSchema, ...errorResponses },
      },
    },
    async (request) =>
      presentCustomerOrDeleted(await customers.retrieve(request.merchantId, request.params.id)),
  );

  typed.post(
    '/v1/customers/:id',
    {
      schema: {
        tags,
        summary: "Update a customer (metadata merged; '' clears a field or deletes a metadata key)",
        params: IdParams,
        body: UpdateCustomer,
        response: responses,
      },
    },
    async (request) =>
      presentCustomer(
        await customers.update(request.merchantId, request.params.id, fieldsOf(request.body)),
      ),
  );

  typed.delete(
    '/v1/customers/:id',
    {
      schema: {
        tags,
        summary: 'Delete a customer: erasure (GDPR)',
        description:
          "The customer's personal fields are blanked and its saved cards crypto-shredded (their " +
          'data key and ciphertext destroyed); payments keep the customer id only.',
        params: IdParams,
        querystring: NoQuery,
        response: { 200: DeletedCustomerSchema, ...errorResponses },
      },
    },
    async (request) =>
      presentDeletedCustomer(await customers.erase(request.merchantId, request.params.id)),
  );

  typed.get(
    '/v1/customers/:id/payment_methods',
    {
      schema: {
        tags,
        summary: "List a customer's saved cards, newest first",
        params: IdParams,
        querystring: ListCustomerPaymentMethodsQuery,
        response: { 200: listOf(PaymentMethodSchema), ...errorResponses },
      },
    },
    async (request) =>
      answerList(
        request.query,
        `/v1/customers/${request.params.id}/payment_methods`,
        (page) => customers.paymentMethods(request.merchantId, request.params.id, page, 'id'),
        (method) => presentPaymentMethod(method),
      ),
  );

  registerSavedPaymentMethodRoutes(app, context);
}
