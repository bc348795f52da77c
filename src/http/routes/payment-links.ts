// Merchant routes for Payment Links (Stripe's /v1/payment_links, one-time card payments): a
// reusable page, each visit of which is a new Checkout Session. Thin: validate, call, present.
import type { FastifyInstance } from 'fastify';
import { Type, type Static, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  Enum,
  LineItemSchema,
  PaymentLinkSchema,
  errorResponses,
  listOf,
  presentLineItem,
  presentPaymentLink,
} from '../../api-objects/index.ts';
import type { AfterCompletion } from '../../checkout/types.ts';
import type { RouteContext } from '../context.ts';
import { idempotentRequest } from '../idempotency.ts';
import { answerList, listQuery } from '../list.ts';
import { IdParams, Metadata, NoQuery } from '../schemas.ts';
import {
  intentDataOf,
  lineItemsOf,
  LineItemsInput,
  PaymentIntentDataInput,
} from './checkout-sessions.ts';
import { originOf } from './three-d-secure.ts';

const AfterCompletionInput = Type.Object(
  {
    type: Enum(['redirect', 'hosted_confirmation'] as const),
    redirect: Type.Optional(
      Type.Object(
        { url: Type.String({ minLength: 1, maxLength: 2048 }) },
        { additionalProperties: false },
      ),
    ),
    hosted_confirmation: Type.Optional(
      Type.Object(
        { custom_message: Type.Optional(Type.String({ maxLength: 500 })) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const InactiveMessage = Type.String({ maxLength: 500 });

const CreateLink = Type.Object(
  {
    line_items: LineItemsInput,
    after_completion: Type.Optional(AfterCompletionInput),
    active: Type.Optional(Type.Boolean()),
    metadata: Type.Optional(Metadata),
    inactive_message: Type.Optional(InactiveMessage),
    payment_intent_data: Type.Optional(PaymentIntentDataInput),
    payment_method_types: Type.Optional(
      Type.Array(Type.Literal('card'), { minItems: 1, maxItems: 1 }),
    ),
  },
  { additionalProperties: false },
);

const UpdateLink = Type.Object(
  {
    active: Type.Optional(Type.Boolean()),
    after_completion: Type.Optional(AfterCompletionInput),
    metadata: Type.Optional(Metadata),
    inactive_message: Type.Optional(InactiveMessage),
  },
  { additionalProperties: false },
);

function afterCompletionOf(
  given: Static<typeof AfterCompletionInput> | undefined,
): AfterCompletion | undefined {
  if (given === undefined) return undefined;
  if (given.type === 'redirect') return { type: 'redirect', url: given.redirect?.url ?? '' };
  return {
    type: 'hosted_confirmation',
    customMessage: given.hosted_confirmation?.custom_message ?? null,
  };
}

export function registerPaymentLinkRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const checkout = context.checkout;
  const tags = ['payment links'];
  const responses = { 200: PaymentLinkSchema, ...errorResponses };

  typed.post(
    '/v1/payment_links',
    {
      schema: {
        tags,
        summary: 'Create a Payment Link: a reusable page, each visit a new Checkout Session',
        description:
          "Line items inline with price_data. url is the link's page <origin>/pay/link/<id>; " +
          'after_completion redirect (to a URL) or hosted_confirmation (Payrail thanks the buyer).',
        body: CreateLink,
        response: responses,
      },
    },
    async (request) => {
      const body = request.body;
      const idempotency = idempotentRequest(request, context.idempotency);
      const existing = idempotency.resumed === true ? idempotency.resourceId : undefined;
      if (existing !== undefined && existing !== null)
        return presentPaymentLink(await checkout.retrieveLink(request.merchantId, existing));
      const created = await checkout.createLink(
        request.merchantId,
        {
          lineItems: lineItemsOf(body.line_items),
          afterCompletion: afterCompletionOf(body.after_completion),
          active: body.active,
          metadata: body.metadata,
          inactiveMessage: body.inactive_message,
          paymentIntentData: intentDataOf(body.payment_intent_data),
        },
        originOf(request, context.config.publicUrl),
        idempotency.bind,
      );
      return presentPaymentLink(created);
    },
  );

  typed.get(
    '/v1/payment_links',
    {
      schema: {
        tags,
        summary: 'List Payment Links, newest first',
        querystring: listQuery({ active: Type.Optional(Type.Boolean()) }),
        response: { 200: listOf(PaymentLinkSchema), ...errorResponses },
      },
    },
    async (request) =>
      answerList(
        request.query,
        '/v1/payment_links',
        (page) => checkout.listLinks(request.merchantId, { active: request.query.active }, page),
        (link) => presentPaymentLink(link),
      ),
  );

  typed.get(
    '/v1/payment_links/:id',
    {
      schema: {
        tags,
        summary: 'Retrieve a Payment Link',
        params: IdParams,
        querystring: NoQuery,
        response: responses,
      },
    },
    async (request) =>
      presentPaymentLink(await checkout.retrieveLink(request.merchantId, request.params.id)),
  );

  typed.post(
    '/v1/payment_links/:id',
    {
      schema: {
        tags,
        summary: 'Update a Payment Link (active=false deactivates it: its page says so)',
        params: IdParams,
        body: UpdateLink,
        response: responses,
      },
    },
    async (request) => {
      const body = request.body;
      return presentPaymentLink(
        await checkout.updateLink(request.merchantId, request.params.id, {
          active: body.active,
          afterCompletion: afterCompletionOf(body.after_completion),
          metadata: body.metadata,
          inactiveMessage: body.inactive_message,
        }),
      );
    },
  );

  typed.get(
    '/v1/payment_links/:id/line_items',
    {
      schema: {
        tags,
        summary: "A Payment Link's line items, in their order",
        params: IdParams,
        querystring: listQuery({}),
        response: { 200: listOf(LineItemSchema), ...errorResponses },
      },
    },
    async (request) => {
      let created = new Date(0);
      let currency = '';
      return answerList(
        request.query,
        `/v1/payment_links/${request.params.id}/line_items`,
        async (page) => {
          const items = await checkout.linkLineItems(request.merchantId, request.params.id, page);
          ({ currency, created } = items);
          return items;
        },
        (item) => presentLineItem(item, currency, created),
      );
    },
  );
}
