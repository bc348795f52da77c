// Merchant routes for payment intents, refunds, payment methods and the balance. Thin: validate,
// call one service, present.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { presentIntent, presentPaymentMethod, presentRefund } from '../presenters.ts';
import { list } from '../serialize.ts';
import { noSuchPaymentMethodMessage } from '../../vault/card.ts';
import { Int64, Metadata, errorResponses, listOf } from '../schemas.ts';

/** A string enum whose TypeScript type is the union of its values. */
const Enum = <T extends string>(values: readonly T[]) =>
  Type.Unsafe<T>({ type: 'string', enum: [...values] });
const Id = Type.String({ minLength: 1, maxLength: 100 });
const IdParams = Type.Object({ id: Id });
const Amount = Type.Integer({ minimum: 1, description: 'Minor units (cents for usd).' });
const Connector = Type.String({ minLength: 1, maxLength: 40, pattern: '^[a-z0-9_]+$' });

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
  },
  { additionalProperties: false },
);

const ConfirmIntent = Type.Object(
  { payment_method: Type.Optional(Id), connector: Type.Optional(Connector) },
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
const Empty = Type.Object({}, { additionalProperties: false });
/** The query of a route that takes none: an unknown parameter is refused, not ignored. */
const NoQuery = Empty;

const CreateRefund = Type.Object(
  {
    payment_intent: Id,
    amount: Type.Optional(Amount),
    reason: Type.Optional(
      Type.Union([
        Type.Literal('duplicate'),
        Type.Literal('fraudulent'),
        Type.Literal('requested_by_customer'),
      ]),
    ),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);

const CreatePaymentMethod = Type.Object(
  {
    type: Type.Literal('card'),
    card: Type.Object(
      {
        number: Type.String({ minLength: 1, maxLength: 30 }),
        exp_month: Type.Integer({ minimum: 1, maximum: 12 }),
        exp_year: Type.Integer({ minimum: 2000, maximum: 2100 }),
        cvc: Type.Optional(Type.String({ minLength: 3, maxLength: 4, pattern: '^[0-9]+$' })),
      },
      { additionalProperties: false },
    ),
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

const ListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
    starting_after: Type.Optional(Id),
    ending_before: Type.Optional(Id),
  },
  { additionalProperties: false },
);

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);
const StringMap = Type.Record(Type.String(), Type.String());

const AttemptSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('payment_attempt'),
  connector: Type.String(),
  status: Enum([
    'pending',
    'authorized',
    'captured',
    'voided',
    'failed',
    'unknown',
    'refunded',
  ] as const),
  amount: Int64,
  currency: Type.String(),
  psp_reference: Nullable(Type.String()),
  decline_code: Nullable(Type.String()),
  psp_code: Nullable(Type.String()),
  failure_message: Nullable(Type.String()),
  abandoned: Type.Boolean({
    description:
      'Payrail moved on to another connector while this outcome was unknown; voided or refunded if it turns out charged.',
  }),
  created: Type.Integer(),
});

export const PaymentIntentSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('payment_intent'),
  amount: Int64,
  amount_capturable: Int64,
  amount_received: Int64,
  amount_refunded: Int64,
  capture_method: Type.String(),
  confirmation_method: Type.Literal('automatic'),
  created: Type.Integer(),
  currency: Type.String(),
  description: Nullable(Type.String()),
  last_payment_error: Nullable(
    Type.Object({
      type: Type.String(),
      code: Type.String(),
      decline_code: Nullable(Type.String()),
      message: Type.String(),
    }),
  ),
  livemode: Type.Boolean(),
  metadata: StringMap,
  payment_method: Nullable(Type.String()),
  status: Enum([
    'requires_payment_method',
    'requires_confirmation',
    'requires_action',
    'processing',
    'requires_capture',
    'succeeded',
    'canceled',
  ] as const),
  canceled_at: Nullable(Type.Integer()),
  cancellation_reason: Nullable(Type.String()),
  connector: Nullable(Type.String()),
  attempts: Type.Array(AttemptSchema, {
    description: 'Every try at a connector (a retry or a failover is a new attempt).',
  }),
});

const RefundSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('refund'),
  amount: Int64,
  currency: Type.String(),
  payment_intent: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]),
  reason: Nullable(Type.String()),
  failure_reason: Nullable(Type.String()),
  metadata: StringMap,
  created: Type.Integer(),
  livemode: Type.Boolean(),
});

const PaymentMethodSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('payment_method'),
  type: Type.Literal('card'),
  card: Type.Object({
    brand: Type.String(),
    last4: Type.String(),
    exp_month: Type.Integer(),
    exp_year: Type.Integer(),
    fingerprint: Type.String(),
    country: Nullable(
      Type.String({
        pattern: '^[A-Z]{2}$',
        description: 'Issuing country (ISO 3166-1 alpha-2) from the BIN; null when unknown',
      }),
    ),
  }),
  billing_details: Type.Object({ name: Nullable(Type.String()) }),
  created: Type.Integer(),
  livemode: Type.Boolean(),
  metadata: StringMap,
});

const Amounts = Type.Array(Type.Object({ amount: Int64, currency: Type.String() }));
const BalanceSchema = Type.Object({
  object: Type.Literal('balance'),
  available: Amounts,
  pending: Amounts,
  livemode: Type.Boolean(),
});

// 503: every connector that could take the call is refusing calls (breaker open, bulkhead full); Retry-After says when to retry.
const failures = {
  ...errorResponses,
  402: errorResponses[400],
  409: errorResponses[400],
  503: errorResponses[400],
};
const intentResponses = { 200: PaymentIntentSchema, ...failures };
const refundResponses = { 200: RefundSchema, ...failures };

/** A retry that took over a crashed request's key: answer with the resource as it now stands. */
function resumedResource(request: FastifyRequest): string | null {
  return request.idempotency?.resumed === true ? request.idempotency.resourceId : null;
}

const bothCursors = () =>
  new ApiError(
    'parameter_invalid',
    'Give starting_after or ending_before, not both.',
    'ending_before',
  );

export function registerPaymentRoutes(app: FastifyInstance, context: AppContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const payments = context.payments;

  typed.post(
    '/v1/payment_intents',
    {
      schema: {
        tags: ['payments'],
        summary: 'Create a PaymentIntent (and confirm it with confirm=true)',
        body: CreateIntent,
        response: intentResponses,
      },
    },
    async (request) => {
      const body = request.body;
      const existing = resumedResource(request);
      if (existing !== null) {
        const current = await payments.retrieve(request.merchantId, existing);
        const resumed =
          current.intent.status === 'processing' ||
          (body.confirm === true && current.intent.status === 'requires_confirmation')
            ? await payments.confirm(request.merchantId, existing, {})
            : current;
        return presentIntent(resumed);
      }
      const result = await payments.create(
        request.merchantId,
        {
          amount: body.amount,
          currency: body.currency,
          captureMethod: body.capture_method,
          paymentMethod: body.payment_method,
          confirm: body.confirm,
          description: body.description,
          metadata: body.metadata,
          connector: body.connector,
        },
        request.idempotency === undefined
          ? undefined
          : (tx, id) =>
              context.idempotency.bindResource(
                tx,
                request.merchantId,
                request.idempotency?.key ?? '',
                id,
              ),
      );
      return presentIntent(result);
    },
  );

  typed.get(
    '/v1/payment_intents',
    {
      schema: {
        tags: ['payments'],
        summary: 'List PaymentIntents, newest first',
        querystring: ListQuery,
        response: { 200: listOf(PaymentIntentSchema), ...failures },
      },
    },
    async (request) => {
      const { limit, starting_after: startingAfter, ending_before: endingBefore } = request.query;
      if (startingAfter !== undefined && endingBefore !== undefined) throw bothCursors();
      const page = await payments.list(request.merchantId, { limit, startingAfter, endingBefore });
      return list(page.items.map(presentIntent), page.hasMore, '/v1/payment_intents');
    },
  );

  typed.get(
    '/v1/payment_intents/:id',
    {
      schema: {
        tags: ['payments'],
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
        tags: ['payments'],
        summary: 'Confirm a PaymentIntent: authorize (and capture when automatic)',
        params: IdParams,
        body: ConfirmIntent,
        response: intentResponses,
      },
    },
    async (request) => {
      if (request.idempotency?.resumed === true) {
        const current = await payments.retrieve(request.merchantId, request.params.id);
        if (
          current.intent.status !== 'processing' &&
          current.intent.status !== 'requires_confirmation' &&
          current.intent.status !== 'requires_payment_method'
        )
          return presentIntent(current);
      }
      return presentIntent(
        await payments.confirm(request.merchantId, request.params.id, {
          paymentMethod: request.body.payment_method,
          connector: request.body.connector,
        }),
      );
    },
  );

  typed.post(
    '/v1/payment_intents/:id/capture',
    {
      schema: {
        tags: ['payments'],
        summary: 'Capture an authorized PaymentIntent, in full or in part (the rest is released)',
        description:
          'Repeating a capture in progress resumes it; a capture of another amount, or while a cancel is in progress, is refused with 400 payment_intent_unexpected_state.',
        params: IdParams,
        body: CaptureIntent,
        response: intentResponses,
      },
    },
    async (request) => {
      if (request.idempotency?.resumed === true) {
        const current = await payments.retrieve(request.merchantId, request.params.id);
        if (current.intent.status === 'succeeded') return presentIntent(current);
      }
      return presentIntent(
        await payments.capture(
          request.merchantId,
          request.params.id,
          request.body.amount_to_capture,
        ),
      );
    },
  );

  typed.post(
    '/v1/payment_intents/:id/cancel',
    {
      schema: {
        tags: ['payments'],
        summary: 'Cancel a PaymentIntent (voids an authorization)',
        description:
          'Repeating a cancel in progress resumes it; a cancel while a capture is in progress is refused with 400 payment_intent_unexpected_state.',
        params: IdParams,
        body: CancelIntent,
        response: intentResponses,
      },
    },
    async (request) => {
      if (request.idempotency?.resumed === true) {
        const current = await payments.retrieve(request.merchantId, request.params.id);
        if (current.intent.status === 'canceled') return presentIntent(current);
      }
      return presentIntent(
        await payments.cancel(
          request.merchantId,
          request.params.id,
          request.body.cancellation_reason,
        ),
      );
    },
  );

  typed.post(
    '/v1/payment_intents/:id/sync',
    {
      schema: {
        tags: ['payments'],
        summary: 'Ask the PSP for the outcome of anything unresolved on this PaymentIntent',
        params: IdParams,
        body: Empty,
        response: intentResponses,
      },
    },
    async (request) => presentIntent(await payments.sync(request.merchantId, request.params.id)),
  );

  typed.post(
    '/v1/refunds',
    {
      schema: {
        tags: ['refunds'],
        summary: 'Refund a succeeded PaymentIntent, in full or in part',
        body: CreateRefund,
        response: refundResponses,
      },
    },
    async (request) => {
      const existing = resumedResource(request);
      if (existing !== null)
        return presentRefund(await payments.refunds.resume(request.merchantId, existing));
      const body = request.body;
      const refund = await payments.refund(
        request.merchantId,
        {
          paymentIntent: body.payment_intent,
          amount: body.amount,
          reason: body.reason,
          metadata: body.metadata,
        },
        request.idempotency === undefined
          ? undefined
          : (tx, id) =>
              context.idempotency.bindResource(
                tx,
                request.merchantId,
                request.idempotency?.key ?? '',
                id,
              ),
      );
      return presentRefund(refund);
    },
  );

  typed.get(
    '/v1/refunds',
    {
      schema: {
        tags: ['refunds'],
        summary: 'List refunds, newest first',
        querystring: Type.Object(
          { ...ListQuery.properties, payment_intent: Type.Optional(Id) },
          { additionalProperties: false },
        ),
        response: { 200: listOf(RefundSchema), ...failures },
      },
    },
    async (request) => {
      const {
        limit,
        starting_after: startingAfter,
        ending_before: endingBefore,
        payment_intent: paymentIntentId,
      } = request.query;
      if (startingAfter !== undefined && endingBefore !== undefined) throw bothCursors();
      const page = await payments.refunds.list(request.merchantId, {
        limit,
        startingAfter,
        endingBefore,
        paymentIntentId,
      });
      return list(page.refunds.map(presentRefund), page.hasMore, '/v1/refunds');
    },
  );

  typed.get(
    '/v1/refunds/:id',
    {
      schema: {
        tags: ['refunds'],
        summary: 'Retrieve a refund',
        params: IdParams,
        querystring: NoQuery,
        response: refundResponses,
      },
    },
    async (request) =>
      presentRefund(await payments.refunds.retrieve(request.merchantId, request.params.id)),
  );

  typed.post(
    '/v1/payment_methods',
    {
      schema: {
        tags: ['payment methods'],
        summary:
          'Store a card in the vault; only brand, last4, expiry and issuer country are ever shown',
        body: CreatePaymentMethod,
        response: { 200: PaymentMethodSchema, ...failures },
      },
    },
    async (request) => {
      const { card, billing_details: billing, metadata } = request.body;
      const method = await context.vault.createCard(request.merchantId, {
        number: card.number,
        expMonth: card.exp_month,
        expYear: card.exp_year,
        cvc: card.cvc,
        name: billing?.name ?? null,
        metadata,
      });
      return presentPaymentMethod(method);
    },
  );

  typed.get(
    '/v1/payment_methods/:id',
    {
      schema: {
        tags: ['payment methods'],
        summary: 'Retrieve a payment method',
        params: IdParams,
        querystring: NoQuery,
        response: { 200: PaymentMethodSchema, ...failures },
      },
    },
    async (request) => {
      const method = await context.vault.get(request.merchantId, request.params.id);
      if (method === undefined)
        throw new ApiError('resource_missing', noSuchPaymentMethodMessage(request.params.id), 'id');
      return presentPaymentMethod(method);
    },
  );

  typed.get(
    '/v1/balance',
    {
      schema: {
        tags: ['balance'],
        summary: "The merchant's balance per currency, from the ledger",
        querystring: NoQuery,
        response: { 200: BalanceSchema, ...failures },
      },
    },
    async (request) => {
      const balance = await payments.balance(request.merchantId);
      return {
        object: 'balance' as const,
        available: balance.available,
        pending: balance.pending,
        livemode: false,
      };
    },
  );
}
