// Merchant routes for payment intents. Thin: validate, call one service method, present.
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  Enum,
  PaymentIntentSchema,
  errorResponses,
  listOf,
  presentIntent,
} from '../../api-objects/index.ts';
import type { RouteContext } from '../context.ts';
import { idempotentRequest } from '../idempotency.ts';
import { answerList, listQuery } from '../list.ts';
import { Empty, Id, IdParams, Metadata, NoQuery } from '../schemas.ts';

export const Amount = Type.Integer({ minimum: 1, description: 'Minor units (cents for usd).' });
const Connector = Type.String({ minLength: 1, maxLength: 40, pattern: '^[a-z0-9_]+$' });

const SetupFutureUsage = Enum(['on_session', 'off_session'] as const);

const CreateIntent = Type.Object(
  {
    amount: Amount,
    currency: Type.String({ minLength: 3, maxLength: 3, pattern: '^[a-z]{3}$' }),
    capture_method: Type.Optional(Type.Union([Type.Literal('automatic'), Type.Literal('manual')])),
    payment_method: Type.Optional(Id),
    confirm: Type.Optional(Type.Boolean()),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    metadata: Type.Optional(Metadata),
    connector: Type.Optional(Connector),
    customer: Type.Optional(Id),
    setup_future_usage: Type.Optional(SetupFutureUsage),
  },
  { additionalProperties: false },
);

const ListIntentsQuery = listQuery({ customer: Type.Optional(Id) });

const ConfirmIntent = Type.Object(
  {
    payment_method: Type.Optional(Id),
    connector: Type.Optional(Connector),
    setup_future_usage: Type.Optional(SetupFutureUsage),
  },
  { additionalProperties: false },
);
const CaptureIntent = Type.Object(
  { amount_to_capture: Type.Optional(Amount) },
  { additionalProperties: false },
);
const CancelIntent = Type.Object(
  {
    cancellation_reason: Type.Optional(
      Enum(['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned'] as const),
    ),
  },
  { additionalProperties: false },
);

// 402: a card error; 409: an idempotency key in use; 503: every connector that could take the
// call is refusing calls (breaker open, bulkhead full), Retry-After says when to retry.
export const paymentFailures = {
  ...errorResponses,
  402: errorResponses[400],
  409: errorResponses[400],
  503: errorResponses[400],
};
const intentResponses = { 200: PaymentIntentSchema, ...paymentFailures };

export function registerPaymentIntentRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const payments = context.payments;
  const tags = ['payments'];

  typed.post(
    '/v1/payment_intents',
    {
      schema: {
        tags,
        summary: 'Create a PaymentIntent (and confirm it with confirm=true)',
        body: CreateIntent,
        response: intentResponses,
      },
    },
    async (request) => {
      const body = request.body;
      const input = {
        amount: body.amount,
        currency: body.currency,
        captureMethod: body.capture_method,
        paymentMethod: body.payment_method,
        confirm: body.confirm,
        description: body.description,
        metadata: body.metadata,
        connector: body.connector,
        customer: body.customer,
        setupFutureUsage: body.setup_future_usage,
      };
      const idempotency = idempotentRequest(request, context.idempotency);
      return presentIntent(await payments.createIntent(request.merchantId, input, idempotency));
    },
  );

  typed.get(
    '/v1/payment_intents',
    {
      schema: {
        tags,
        summary: "List PaymentIntents, newest first (with customer=, that customer's only)",
        querystring: ListIntentsQuery,
        response: { 200: listOf(PaymentIntentSchema), ...paymentFailures },
      },
    },
    async (request) =>
      answerList(
        request.query,
        '/v1/payment_intents',
        (page) =>
          payments.list(request.merchantId, { ...page, customerId: request.query.customer }),
        presentIntent,
      ),
  );

  typed.get(
    '/v1/payment_intents/:id',
    {
      schema: {
        tags,
        summary: 'Retrieve a PaymentIntent with its attempts',
        params: IdParams,
        querystring: NoQuery,
        response: intentResponses,
      },
    },
    async (request) =>
      presentIntent(await payments.retrieve(request.merchantId, request.params.id)),
  );

  typed.post(
    '/v1/payment_intents/:id/confirm',
    {
      schema: {
        tags,
        summary: 'Confirm a PaymentIntent: authorize (and capture when automatic)',
        params: IdParams,
        body: ConfirmIntent,
        response: intentResponses,
      },
    },
    async (request) => {
      const input = {
        paymentMethod: request.body.payment_method,
        connector: request.body.connector,
        setupFutureUsage: request.body.setup_future_usage,
      };
      const idempotency = idempotentRequest(request, context.idempotency);
      return presentIntent(
        await payments.confirmIntent(request.merchantId, request.params.id, input, idempotency),
      );
    },
  );

  typed.post(
    '/v1/payment_intents/:id/capture',
    {
      schema: {
        tags,
        summary: 'Capture an authorized PaymentIntent, in full or in part (the rest is released)',
        description:
          'Repeating a capture in progress resumes it; a capture of another amount, or while a ' +
          'cancel is in progress, is refused with 400 payment_intent_unexpected_state.',
        params: IdParams,
        body: CaptureIntent,
        response: intentResponses,
      },
    },
    async (request) => {
      const idempotency = idempotentRequest(request, context.idempotency);
      return presentIntent(
        await payments.captureIntent(
          request.merchantId,
          request.params.id,
          request.body.amount_to_capture,
          idempotency,
        ),
      );
    },
  );

  typed.post(
    '/v1/payment_intents/:id/cancel',
    {
      schema: {
        tags,
        summary: 'Cancel a PaymentIntent (voids an authorization)',
        description:
          'Repeating a cancel in progress resumes it; a cancel while a capture is in progress ' +
          'is refused with 400 payment_intent_unexpected_state.',
        params: IdParams,
        body: CancelIntent,
        response: intentResponses,
      },
    },
    async (request) => {
      const idempotency = idempotentRequest(request, context.idempotency);
      return presentIntent(
        await payments.cancelIntent(
          request.merchantId,
          request.params.id,
          request.body.cancellation_reason,
          idempotency,
        ),
      );
    },
  );

  typed.post(
    '/v1/payment_intents/:id/sync',
    {
      schema: {
        tags,
        summary: 'Ask the PSP for the outcome of anything unresolved on this PaymentIntent',
        params: IdParams,
        body: Empty,
        response: intentResponses,
      },
    },
    async (request) => presentIntent(await payments.sync(request.merchantId, request.params.id)),
  );
}
