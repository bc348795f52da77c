// Merchant routes for payment methods (cards in the vault). Thin: validate, call the vault,
// present.
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { PaymentMethodSchema, presentPaymentMethod } from '../../api-objects/index.ts';
import { noSuchPaymentMethodMessage } from '../../vault/card.ts';
import type { RouteContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { IdParams, Metadata, NoQuery } from '../schemas.ts';
import { paymentFailures } from './payment-intents.ts';

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
    billing_details: Type.Optional(
      Type.Object(
        { name: Type.Optional(Type.String({ maxLength: 100 })) },
        { additionalProperties: false },
      ),
    ),
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
      const method =
        'token' in card
          ? await context.vault.createCardFromToken(request.merchantId, card.token, {
              name,
              metadata,
            })
          : await context.vault.createCard(request.merchantId, {
              number: card.number,
              expMonth: card.exp_month,
              expYear: card.exp_year,
              cvc: card.cvc,
              name,
              metadata,
            });
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
