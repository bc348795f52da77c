// Merchant routes for payment intents. Thin: validate, call one service method, present.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  Enum,
  PaymentIntentSchema,
  errorResponses,
  listOf,
  presentIntent,
  PaymentIntentSearchResultSchema,
  searchResult,
} from '../../api-objects/index.ts';
import type { IntentWithAttempts } from '../../payments/types.ts';
import { queryLengthMax } from '../../search/index.ts';
import type { RouteContext } from '../context.ts';
import {
  checkBodyExpand,
  Expand,
  expand,
  expandEach,
  expansionPlan,
  type ExpandScope,
  type ExpansionPlan,
} from '../expand.ts';
import { idempotentRequest } from '../idempotency.ts';
import { answerList, createdFilter, listQuery, ListQuery, rangeOf } from '../list.ts';
import { Empty, Id, IdParams, Metadata } from '../schemas.ts';

export const Amount = Type.Integer({ minimum: 1, description: 'Minor units (cents for usd).' });
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
    expand: Expand,
  },
  { additionalProperties: false },
);

const ConfirmIntent = Type.Object(
  { payment_method: Type.Optional(Id), connector: Type.Optional(Connector), expand: Expand },
  { additionalProperties: false },
);
const CaptureIntent = Type.Object(
  { amount_to_capture: Type.Optional(Amount), expand: Expand },
  { additionalProperties: false },
);
const UpdateIntent = Type.Object(
  {
    amount: Type.Optional(Amount),
    currency: Type.Optional(Type.String({ minLength: 3, maxLength: 3, pattern: '^[A-Za-z]{3}$' })),
    payment_method: Type.Optional(Id),
    capture_method: Type.Optional(Type.Union([Type.Literal('automatic'), Type.Literal('manual')])),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    metadata: Type.Optional(
      Type.Union([Metadata, Type.Literal('')], {
        description:
          "Merged into the intent's metadata: a key set to '' is removed; '' instead of an " +
          'object removes every key.',
      }),
    ),
    expand: Expand,
  },
  { additionalProperties: false },
);
const RetrieveQuery = Type.Object({ expand: Expand }, { additionalProperties: false });
const ListIntentsQuery = listQuery({ ...createdFilter, expand: Expand });
const SearchQuery = Type.Object(
  {
    query: Type.String({
      minLength: 1,
      maxLength: queryLengthMax,
      description:
        "Stripe's search query language: status:'succeeded' AND metadata['order']:'123', " +
        "amount>1000, created>=<unix seconds>, -currency:'eur'. Fields: amount, created, " +
        'currency, metadata, status.',
    }),
    limit: ListQuery.properties.limit,
    page: Type.Optional(
      Type.String({ minLength: 1, maxLength: 300, description: 'The next_page of a result.' }),
    ),
    expand: Expand,
  },
  { additionalProperties: false },
);
const CancelIntent = Type.Object(
  {
    cancellation_reason: Type.Optional(
      Enum(['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned'] as const),
    ),
    expand: Expand,
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

function scopeOf(request: FastifyRequest, context: RouteContext): ExpandScope {
  return { context, merchantId: request.merchantId, livemode: request.livemode };
}

export function registerPaymentIntentRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const payments = context.payments;
  const tags = ['payments'];
  // The expansions are checked before the service runs (nothing is written for a bad one), and
  // applied to what it answered.
  const checkExpand = checkBodyExpand('payment_intent');
  const planOf = (paths: readonly string[] | undefined) => expansionPlan('payment_intent', paths);
  const shown = (request: FastifyRequest, plan: ExpansionPlan, found: IntentWithAttempts) =>
    expand(presentIntent(found), 'payment_intent', plan, scopeOf(request, context));

  typed.post(
    '/v1/payment_intents',
    {
      schema: {
        tags,
        summary: 'Create a PaymentIntent (and confirm it with confirm=true)',
        body: CreateIntent,
        response: intentResponses,
      },
      preValidation: checkExpand,
    },
    async (request) => {
      const body = request.body;
      const plan = planOf(body.expand);
      const input = {
        amount: body.amount,
        currency: body.currency,
        captureMethod: body.capture_method,
        paymentMethod: body.payment_method,
        confirm: body.confirm,
        description: body.description,
        metadata: body.metadata,
        connector: body.connector,
      };
      const idempotency = idempotentRequest(request, context.idempotency);
      return shown(
        request,
        plan,
        await payments.createIntent(request.merchantId, input, idempotency),
      );
    },
  );

  typed.get(
    '/v1/payment_intents',
    {
      schema: {
        tags,
        summary: 'List PaymentIntents, newest first',
        description: 'Filters: created (unix seconds; exact, or [gt], [gte], [lt], [lte]).',
        querystring: ListIntentsQuery,
        response: { 200: listOf(PaymentIntentSchema), ...paymentFailures },
      },
    },
    async (request) => {
      const plan = expansionPlan('payment_intent', request.query.expand, 'list');
      const page = await answerList(
        request.query,
        '/v1/payment_intents',
        (cursors) =>
          payments.list(request.merchantId, {
            ...cursors,
            created: rangeOf(request.query.created),
          }),
        (found) => presentIntent(found),
      );
      return expandEach(page, 'payment_intent', plan, scopeOf(request, context));
    },
  );

  typed.get(
    '/v1/payment_intents/search',
    {
      schema: {
        tags,
        summary: "Search PaymentIntents with Stripe's search query language, newest first",
        description:
          'Pages continue with page=<next_page>. expand[]=total_count counts every match; ' +
          'expand[]=data.payment_method expands in each result.',
        querystring: SearchQuery,
        response: { 200: PaymentIntentSearchResultSchema, ...paymentFailures },
      },
    },
    async (request) => {
      const query = request.query;
      const paths = query.expand ?? [];
      const plan = expansionPlan(
        'payment_intent',
        paths.filter((path) => path !== 'total_count'),
        'list',
      );
      const found = await payments.search(request.merchantId, {
        query: query.query,
        limit: query.limit,
        page: query.page,
        totalCount: paths.includes('total_count'),
      });
      const result = searchResult(
        found.items.map((item) => presentIntent(item)),
        found,
        '/v1/payment_intents/search',
      );
      return expandEach(result, 'payment_intent', plan, scopeOf(request, context));
    },
  );

  typed.get(
    '/v1/payment_intents/:id',
    {
      schema: {
        tags,
        summary: 'Retrieve a PaymentIntent with its attempts',
        params: IdParams,
        querystring: RetrieveQuery,
        response: intentResponses,
      },
    },
    async (request) => {
      const plan = planOf(request.query.expand);
      return shown(request, plan, await payments.retrieve(request.merchantId, request.params.id));
    },
  );

  typed.post(
    '/v1/payment_intents/:id',
    {
      schema: {
        tags,
        summary: 'Update a PaymentIntent',
        description:
          'amount, currency, payment_method and capture_method while the status is ' +
          'requires_payment_method or requires_confirmation (a payment method makes it ' +
          'requires_confirmation); metadata (merged) and description in every status. ' +
          'Otherwise 400 payment_intent_unexpected_state.',
        params: IdParams,
        body: UpdateIntent,
        response: intentResponses,
      },
      preValidation: checkExpand,
    },
    async (request) => {
      const body = request.body;
      const plan = planOf(body.expand);
      const input = {
        amount: body.amount,
        currency: body.currency,
        paymentMethod: body.payment_method,
        captureMethod: body.capture_method,
        description: body.description,
        metadata: body.metadata,
      };
      return shown(
        request,
        plan,
        await payments.updateIntent(request.merchantId, request.params.id, input),
      );
    },
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
      preValidation: checkExpand,
    },
    async (request) => {
      const plan = planOf(request.body.expand);
      const input = {
        paymentMethod: request.body.payment_method,
        connector: request.body.connector,
      };
      const idempotency = idempotentRequest(request, context.idempotency);
      return shown(
        request,
        plan,
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
      preValidation: checkExpand,
    },
    async (request) => {
      const plan = planOf(request.body.expand);
      const idempotency = idempotentRequest(request, context.idempotency);
      return shown(
        request,
        plan,
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
      preValidation: checkExpand,
    },
    async (request) => {
      const plan = planOf(request.body.expand);
      const idempotency = idempotentRequest(request, context.idempotency);
      return shown(
        request,
        plan,
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
