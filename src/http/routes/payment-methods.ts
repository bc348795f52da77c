// Merchant routes for payment methods (cards in the vault). Thin: validate, call the vault (or,
// for saved cards, the customers service), present.
import type { FastifyInstance } from 'fastify';
import { Type, type Static, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  PaymentMethodSchema,
  errorResponses,
  listOf,
  presentPaymentMethod,
} from '../../api-objects/index.ts';
import type { Address, BillingDetails } from '../../vault/index.ts';
import { noSuchPaymentMethodMessage } from '../../vault/card.ts';
import type { RouteContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { answerList, listQuery } from '../list.ts';
import { Empty, Id, IdParams, Metadata, NoQuery } from '../schemas.ts';
import { AddressInput, Email, Phone } from './contact-inputs.ts';
import { paymentFailures } from './payment-intents.ts';

const BillingDetailsInput = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 100 })),
    email: Type.Optional(Email),
    phone: Type.Optional(Phone),
    address: Type.Optional(AddressInput),
  },
  { additionalProperties: false },
);

/** The billing details other than the name ('' leaves a field out). */
function billingDetailsOf(input: Static<typeof BillingDetailsInput> | undefined): BillingDetails {
  const details: { email?: string; phone?: string; address?: Address } = {};
  if (input?.email !== undefined && input.email !== '') details.email = input.email;
  if (input?.phone !== undefined && input.phone !== '') details.phone = input.phone;
  if (input?.address !== undefined) details.address = input.address;
  return details;
}

const CreatePaymentMethod = Type.Object(
  {
    type: Type.Literal('card'),
    // The card's details, or a test token (`tok_visa`) standing for one, as Stripe takes either.
    card: Type.Union([
      Type.Object(
        {
          number: Type.String({ minLength: 1, maxLength: 30 }),
          exp_month: Type.Integer({ minimum: 1, maximum: 12 }),
          exp_year: Type.Integer({ minimum: 2000, maximum: 2100 }),
          cvc: Type.Optional(Type.String({ minLength: 3, maxLength: 4, pattern: '^[0-9]+$' })),
        },
        { additionalProperties: false },
      ),
      Type.Object(
        { token: Type.String({ minLength: 1, maxLength: 100, pattern: '^tok_[A-Za-z0-9_]+$' }) },
        { additionalProperties: false },
      ),
    ]),
    billing_details: Type.Optional(BillingDetailsInput),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);

const responses = { 200: PaymentMethodSchema, ...paymentFailures };

export function registerPaymentMethodRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['payment methods'];

  typed.post(
    '/v1/payment_methods',
    {
      schema: {
        tags,
        summary:
          'Store a card (or a test token’s card) in the vault; only brand, last4, expiry ' +
          'and issuer country are ever shown',
        body: CreatePaymentMethod,
        response: responses,
      },
    },
    async (request) => {
      const { card, billing_details: billing, metadata } = request.body;
      const name = billing?.name ?? null;
      const details = billingDetailsOf(billing);
      const method =
        'token' in card
          ? await context.vault.createCardFromToken(
              request.merchantId,
              card.token,
              { name, metadata },
              details,
            )
          : await context.vault.createCard(
              request.merchantId,
              {
                number: card.number,
                expMonth: card.exp_month,
                expYear: card.exp_year,
                cvc: card.cvc,
                name,
                metadata,
              },
              details,
            );
      return presentPaymentMethod(method);
    },
  );

  typed.get(
    '/v1/payment_methods/:id',
    {
      schema: {
        tags,
        summary: 'Retrieve a payment method',
        params: IdParams,
        querystring: NoQuery,
        response: responses,
      },
    },
    async (request) => {
      const method = await context.vault.get(request.merchantId, request.params.id);
      if (method === undefined)
        throw new ApiError('resource_missing', noSuchPaymentMethodMessage(request.params.id), 'id');
      return presentPaymentMethod(method);
    },
  );
}

const UpdatePaymentMethod = Type.Object(
  { billing_details: Type.Optional(BillingDetailsInput), metadata: Type.Optional(Metadata) },
  { additionalProperties: false },
);
const AttachPaymentMethod = Type.Object({ customer: Id }, { additionalProperties: false });
const ListPaymentMethodsQuery = listQuery({
  customer: Type.Optional(Id),
  type: Type.Optional(Type.Literal('card')),
});

/**
 * Saved cards: attach to a customer, detach (which destroys the card: Stripe never lets a
 * detached one be used again), list a customer's, update metadata and billing details.
 */
export function registerSavedPaymentMethodRoutes(
  app: FastifyInstance,
  context: RouteContext,
): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const customers = context.customers;
  const tags = ['payment methods'];
  const responses = { 200: PaymentMethodSchema, ...errorResponses };

  typed.get(
    '/v1/payment_methods',
    {
      schema: {
        tags,
        summary: "List stored cards, newest first: a customer's saved ones with `customer`",
        querystring: ListPaymentMethodsQuery,
        response: { 200: listOf(PaymentMethodSchema), ...errorResponses },
      },
    },
    async (request) =>
      answerList(
        request.query,
        '/v1/payment_methods',
        (page) => customers.listPaymentMethods(request.merchantId, request.query.customer, page),
        (method) => presentPaymentMethod(method),
      ),
  );

  typed.post(
    '/v1/payment_methods/:id',
    {
      schema: {
        tags,
        summary: "Update a payment method's metadata (merged) and billing details",
        params: IdParams,
        body: UpdatePaymentMethod,
        response: responses,
      },
    },
    async (request) => {
      const billing = request.body.billing_details;
      const method = await customers.updatePaymentMethod(request.merchantId, request.params.id, {
        metadata: request.body.metadata,
        ...(billing?.name === undefined ? {} : { name: billing.name }),
        ...(billing === undefined ? {} : { billingDetails: billingDetailsOf(billing) }),
      });
      return presentPaymentMethod(method);
    },
  );

  typed.post(
    '/v1/payment_methods/:id/attach',
    {
      schema: {
        tags,
        summary: "Save a card to a customer (sealed under the customer's own data key)",
        params: IdParams,
        body: AttachPaymentMethod,
        response: responses,
      },
    },
    async (request) =>
      presentPaymentMethod(
        await customers.attach(request.merchantId, request.params.id, request.body.customer),
      ),
  );

  typed.post(
    '/v1/payment_methods/:id/detach',
    {
      schema: {
        tags,
        summary:
          'Detach a card from its customer; it can never be used again (its number is destroyed)',
        params: IdParams,
        body: Empty,
        response: responses,
      },
    },
    async (request) =>
      presentPaymentMethod(await customers.detach(request.merchantId, request.params.id)),
  );
}
