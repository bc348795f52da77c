// Merchant routes for Checkout Sessions (Stripe's /v1/checkout/sessions, mode payment). Thin:
// validate, call one service method, present.
import type { FastifyInstance } from 'fastify';
import { Type, type Static, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  CheckoutSessionSchema,
  Enum,
  LineItemSchema,
  errorResponses,
  listOf,
  presentCheckoutSession,
  presentLineItem,
} from '../../api-objects/index.ts';
import type { LineItemInput } from '../../checkout/line-items.ts';
import type { CheckoutSession, PaymentIntentData } from '../../checkout/types.ts';
import type { RouteContext } from '../context.ts';
import {
  expand,
  expandables,
  expansionPlan,
  expandScope,
  Expand,
  type Expandable,
} from '../expand.ts';
import { idempotentRequest } from '../idempotency.ts';
import { list } from '../../api-objects/json.ts';
import { answerList, createdFilter, listQuery, rangeOf, UnixSeconds } from '../list.ts';
import { Id, IdParams, Metadata } from '../schemas.ts';
import { originOf } from './three-d-secure.ts';

const Url = Type.String({ minLength: 1, maxLength: 2048 });

/** Stripe's line item with inline price_data (`price`, a Price id, is refused by the service). */
export const LineItemsInput = Type.Array(
  Type.Object(
    {
      price: Type.Optional(Id),
      price_data: Type.Optional(
        Type.Object(
          {
            currency: Type.String({ minLength: 3, maxLength: 3, pattern: '^[A-Za-z]{3}$' }),
            unit_amount: Type.Integer({ minimum: 0, maximum: 99_999_999 }),
            product_data: Type.Object(
              {
                name: Type.String({ minLength: 1, maxLength: 250 }),
                description: Type.Optional(Type.String({ maxLength: 1000 })),
              },
              { additionalProperties: false },
            ),
          },
          { additionalProperties: false },
        ),
      ),
      quantity: Type.Integer({ minimum: 1, maximum: 999_999 }),
    },
    { additionalProperties: false },
  ),
  { minItems: 1, maxItems: 100 },
);

export const PaymentIntentDataInput = Type.Object(
  {
    capture_method: Type.Optional(Enum(['automatic', 'manual'] as const)),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    metadata: Type.Optional(Metadata),
    receipt_email: Type.Optional(Type.String({ maxLength: 800 })),
  },
  { additionalProperties: false },
);

const CreateSession = Type.Object(
  {
    mode: Type.String({ minLength: 1, maxLength: 40, description: 'payment (the only mode).' }),
    line_items: Type.Optional(LineItemsInput),
    success_url: Type.Optional(Url),
    cancel_url: Type.Optional(Url),
    expires_at: Type.Optional(UnixSeconds),
    customer: Type.Optional(Id),
    customer_email: Type.Optional(Type.String({ maxLength: 800 })),
    client_reference_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    metadata: Type.Optional(Metadata),
    payment_intent_data: Type.Optional(PaymentIntentDataInput),
    payment_method_types: Type.Optional(
      Type.Array(Type.Literal('card'), { minItems: 1, maxItems: 1 }),
    ),
    ui_mode: Type.Optional(Enum(['hosted', 'hosted_page'] as const)),
  },
  { additionalProperties: false },
);

/** The expandable fields of a session besides `line_items` (which is not an id: added below). */
function expandable(from: string, field: string): Expandable {
  const found = expandables[from]?.[field];
  if (found === undefined) throw new Error(`no expandable ${from}.${field}`);
  return found;
}
const registry = {
  ...expandables,
  'checkout.session': {
    payment_intent: expandable('charge', 'payment_intent'),
    customer: expandable('charge', 'customer'),
  },
};

/** The paths asked for, `line_items` apart (Stripe's includable list, never an id). */
function splitExpand(
  paths: readonly string[] | undefined,
  prefix: '' | 'data.',
): { readonly lineItems: boolean; readonly others: string[] | undefined } {
  if (paths === undefined) return { lineItems: false, others: undefined };
  const lineItems = paths.includes(`${prefix}line_items`);
  return { lineItems, others: paths.filter((path) => path !== `${prefix}line_items`) };
}

const ListSessionsQuery = listQuery({
  payment_intent: Type.Optional(Id),
  payment_link: Type.Optional(Id),
  status: Type.Optional(Enum(['open', 'complete', 'expired'] as const)),
  customer: Type.Optional(Id),
  expand: Expand,
  ...createdFilter,
});

export function lineItemsOf(
  given: Static<typeof LineItemsInput> | undefined,
): LineItemInput[] | undefined {
  return given?.map((item) => ({
    price: item.price,
    quantity: item.quantity,
    priceData:
      item.price_data === undefined
        ? undefined
        : {
            currency: item.price_data.currency,
            unitAmount: item.price_data.unit_amount,
            productData: {
              name: item.price_data.product_data.name,
              description: item.price_data.product_data.description,
            },
          },
  }));
}

export function intentDataOf(
  given: Static<typeof PaymentIntentDataInput> | undefined,
): PaymentIntentData | undefined {
  if (given === undefined) return undefined;
  return {
    captureMethod: given.capture_method,
    description: given.description,
    metadata: given.metadata,
    receiptEmail: given.receipt_email,
  };
}

/** The session, with its first 100 line items when asked (Stripe's `expand[]=line_items`). */
function withLineItems(
  session: CheckoutSession,
  included: boolean,
): ReturnType<typeof presentCheckoutSession> & { line_items?: unknown } {
  const shown = presentCheckoutSession(session);
  if (!included) return shown;
  const items = session.lineItems.slice(0, 100);
  return {
    ...shown,
    line_items: list(
      items.map((item) => presentLineItem(item, session.currency, session.createdAt)),
      session.lineItems.length > items.length,
      `/v1/checkout/sessions/${session.id}/line_items`,
    ),
  };
}

export function registerCheckoutSessionRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const checkout = context.checkout;
  const tags = ['checkout sessions'];
  const responses = { 200: CheckoutSessionSchema, ...errorResponses };

  typed.post(
    '/v1/checkout/sessions',
    {
      schema: {
        tags,
        summary: 'Create a Checkout Session (mode payment): a hosted page the buyer pays on',
        description:
          'Line items are given inline with price_data (Payrail has no Prices API). The answer ' +
          'carries url, the hosted page <origin>/pay/<id> (origin: PAYRAIL_PUBLIC_URL, else ' +
          "the request's).",
        body: CreateSession,
        response: responses,
      },
    },
    async (request) => {
      const body = request.body;
      const idempotency = idempotentRequest(request, context.idempotency);
      const existing = idempotency.resumed === true ? idempotency.resourceId : undefined;
      if (existing !== undefined && existing !== null)
        return presentCheckoutSession(await checkout.retrieveSession(request.merchantId, existing));
      const created = await checkout.createSession(
        request.merchantId,
        {
          mode: body.mode,
          lineItems: lineItemsOf(body.line_items),
          successUrl: body.success_url,
          cancelUrl: body.cancel_url,
          expiresAt: body.expires_at,
          customer: body.customer,
          customerEmail: body.customer_email,
          clientReferenceId: body.client_reference_id,
          metadata: body.metadata,
          paymentIntentData: intentDataOf(body.payment_intent_data),
        },
        originOf(request, context.config.publicUrl),
        idempotency.bind,
      );
      return presentCheckoutSession(created);
    },
  );

  typed.get(
    '/v1/checkout/sessions',
    {
      schema: {
        tags,
        summary: 'List Checkout Sessions, newest first',
        querystring: ListSessionsQuery,
        response: { 200: listOf(CheckoutSessionSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { lineItems, others } = splitExpand(request.query.expand, 'data.');
      const plan = expansionPlan('checkout.session', others, 'list', registry);
      const page = await answerList(
        request.query,
        '/v1/checkout/sessions',
        (page) =>
          checkout.listSessions(
            request.merchantId,
            {
              paymentIntent: request.query.payment_intent,
              paymentLink: request.query.payment_link,
              status: request.query.status,
              customer: request.query.customer,
              created: rangeOf(request.query.created),
            },
            page,
          ),
        (session) => withLineItems(session, lineItems),
      );
      const scope = expandScope(request, context);
      for (const item of page.data) await expand(item, 'checkout.session', plan, scope, registry);
      return page;
    },
  );

  typed.get(
    '/v1/checkout/sessions/:id',
    {
      schema: {
        tags,
        summary: 'Retrieve a Checkout Session',
        description:
          'expand[]=line_items adds the first 100 line items; payment_intent and customer ' +
          'expand to their objects.',
        params: IdParams,
        querystring: Type.Object({ expand: Expand }, { additionalProperties: false }),
        response: responses,
      },
    },
    async (request) => {
      const { lineItems, others } = splitExpand(request.query.expand, '');
      const plan = expansionPlan('checkout.session', others, 'object', registry);
      const session = await checkout.retrieveSession(request.merchantId, request.params.id);
      const shown = withLineItems(session, lineItems);
      return expand(shown, 'checkout.session', plan, expandScope(request, context), registry);
    },
  );

  typed.get(
    '/v1/checkout/sessions/:id/line_items',
    {
      schema: {
        tags,
        summary: "A Checkout Session's line items, in their order",
        params: IdParams,
        querystring: listQuery({}),
        response: { 200: listOf(LineItemSchema), ...errorResponses },
      },
    },
    async (request) => {
      const url = `/v1/checkout/sessions/${request.params.id}/line_items`;
      let created = new Date(0);
      let currency = '';
      return answerList(
        request.query,
        url,
        async (page) => {
          const items = await checkout.sessionLineItems(
            request.merchantId,
            request.params.id,
            page,
          );
          ({ currency, created } = items);
          return items;
        },
        (item) => presentLineItem(item, currency, created),
      );
    },
  );

  typed.post(
    '/v1/checkout/sessions/:id/expire',
    {
      schema: {
        tags,
        summary: 'Expire an open Checkout Session: its page can no longer be paid',
        description:
          'A payment waiting for the buyer (a card, 3-D Secure) is canceled first; a session ' +
          'whose payment is processing, or that is complete, answers 400.',
        params: IdParams,
        body: Type.Object({}, { additionalProperties: false }),
        response: responses,
      },
    },
    async (request) =>
      presentCheckoutSession(await checkout.expireSession(request.merchantId, request.params.id)),
  );
}
