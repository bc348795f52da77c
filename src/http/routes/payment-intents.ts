// Merchant routes for payment intents. Thin: validate, call one service method, present.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  Enum,
  PaymentIntentEitherViewSchema,
  PaymentIntentSchema,
  errorResponses,
  listOf,
  presentIntent,
  presentIntentForPublishableKey,
  PaymentIntentSearchResultSchema,
} from '../../api-objects/index.ts';
import type { PaymentMethodData } from '../../payments/payment-method-data.ts';
import type { IntentWithAttempts } from '../../payments/types.ts';
import type { RouteContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import {
  checkBodyExpand,
  Expand,
  expand,
  expandEach,
  expansionPlan,
  expandScope,
  type ExpansionPlan,
} from '../expand.ts';
import { idempotentRequest } from '../idempotency.ts';
import { originOf } from './three-d-secure.ts';
import { answerSearch, searchQuery } from '../search.ts';
import { answerList, createdFilter, listQuery, rangeOf } from '../list.ts';
import { Empty, Id, IdParams, Metadata } from '../schemas.ts';

export const Amount = Type.Integer({ minimum: 1, description: 'Minor units (cents for usd).' });
const Connector = Type.String({ minLength: 1, maxLength: 40, pattern: '^[a-z0-9_]+$' });

const SetupFutureUsage = Enum(['on_session', 'off_session'] as const);
// A card inline, as Stripe.js sends it: its details, or a test token (`card[token]=tok_visa`).
// The rules (one or the other, Luhn, expiry …) are the vault's and the service's.
const PaymentMethodDataSchema = Type.Object(
  {
    type: Type.Literal('card'),
    card: Type.Object(
      {
        number: Type.Optional(Type.String({ minLength: 1, maxLength: 30 })),
        exp_month: Type.Optional(Type.Integer({ minimum: 1, maximum: 12 })),
        exp_year: Type.Optional(Type.Integer({ minimum: 2000, maximum: 2100 })),
        cvc: Type.Optional(Type.String({ minLength: 3, maxLength: 4, pattern: '^[0-9]+$' })),
        token: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
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
// Bounded here; Stripe's rules are src/payments/intent-parameters.ts (an error names the field).
const ReceiptEmail = Type.String({ maxLength: 800 });
const ReturnUrl = Type.String({ maxLength: 4096 });
const ClientSecret = Type.String({ minLength: 1, maxLength: 200 });
// Payrail's extension of Stripe's radar_options: what the merchant knows of its customer's
// connection, for risk rules (src/risk). A browser's confirm (publishable key) gives its own IP.
const RadarOptions = Type.Object(
  {
    ip_address: Type.Optional(Type.String({ minLength: 2, maxLength: 45 })),
    ip_country: Type.Optional(Type.String({ minLength: 2, maxLength: 2 })),
  },
  { additionalProperties: false },
);
const PaymentMethodOptions = Type.Object(
  {
    card: Type.Optional(
      Type.Object(
        {
          request_three_d_secure: Type.Optional(Enum(['automatic', 'any', 'challenge'] as const)),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const CreateIntent = Type.Object(
  {
    amount: Amount,
    currency: Type.String({
      minLength: 3,
      maxLength: 3,
      pattern: '^[A-Za-z]{3}$',
      description: 'An ISO-4217 code in any case; stored and shown in lowercase.',
    }),
    capture_method: Type.Optional(Type.Union([Type.Literal('automatic'), Type.Literal('manual')])),
    payment_method: Type.Optional(Id),
    payment_method_data: Type.Optional(PaymentMethodDataSchema),
    payment_method_types: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 40 }), { maxItems: 20 }),
    ),
    automatic_payment_methods: Type.Optional(
      Type.Object(
        {
          enabled: Type.Boolean(),
          allow_redirects: Type.Optional(Enum(['always', 'never'] as const)),
        },
        { additionalProperties: false },
      ),
    ),
    confirm: Type.Optional(Type.Boolean()),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    metadata: Type.Optional(Metadata),
    receipt_email: Type.Optional(ReceiptEmail),
    statement_descriptor: Type.Optional(Type.String({ maxLength: 100 })),
    statement_descriptor_suffix: Type.Optional(Type.String({ maxLength: 100 })),
    return_url: Type.Optional(ReturnUrl),
    connector: Type.Optional(Connector),
    expand: Expand,
    customer: Type.Optional(Id),
    setup_future_usage: Type.Optional(SetupFutureUsage),
    radar_options: Type.Optional(RadarOptions),
    payment_method_options: Type.Optional(PaymentMethodOptions),
  },
  { additionalProperties: false },
);

const ConfirmIntent = Type.Object(
  {
    payment_method: Type.Optional(Id),
    payment_method_data: Type.Optional(PaymentMethodDataSchema),
    receipt_email: Type.Optional(ReceiptEmail),
    return_url: Type.Optional(ReturnUrl),
    client_secret: Type.Optional(ClientSecret),
    // Sent by Stripe.js with every confirm: the type it expects, and that it handles next actions.
    expected_payment_method_type: Type.Optional(Type.Literal('card')),
    use_stripe_sdk: Type.Optional(Type.Boolean()),
    connector: Type.Optional(Connector),
    expand: Expand,
    setup_future_usage: Type.Optional(SetupFutureUsage),
    radar_options: Type.Optional(RadarOptions),
    payment_method_options: Type.Optional(PaymentMethodOptions),
  },
  { additionalProperties: false },
);
const RetrieveQuery = Type.Object(
  { client_secret: Type.Optional(ClientSecret), expand: Expand },
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
const ListIntentsQuery = listQuery({
  customer: Type.Optional(Id),
  ...createdFilter,
  expand: Expand,
});
const SearchQuery = searchQuery(
  ['amount', 'created', 'currency', 'customer', 'metadata', 'status'],
  "status:'succeeded' AND metadata['order']:'123'",
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

export function registerPaymentIntentRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const payments = context.payments;
  const tags = ['payments'];
  // The expansions are checked before the service runs (nothing is written for a bad one), and
  // applied to what it answered.
  const checkExpand = checkBodyExpand('payment_intent');
  const planOf = (paths: readonly string[] | undefined) => expansionPlan('payment_intent', paths);
  // The asking key's view: a publishable key (a browser with the client secret) sees the
  // reduced intent and expands nothing; the secret key sees the whole intent, expanded as asked.
  const shown = (request: FastifyRequest, plan: ExpansionPlan, found: IntentWithAttempts) =>
    expand(presentIntent(found), 'payment_intent', plan, expandScope(request, context));
  const shownToEither = async (
    request: FastifyRequest,
    plan: ExpansionPlan,
    found: IntentWithAttempts,
  ) => {
    if (request.keyKind !== 'publishable') return shown(request, plan, found);
    if (plan.size > 0)
      throw new ApiError(
        'parameter_invalid',
        'expand is not available with a publishable API key.',
        'expand',
      );
    return presentIntentForPublishableKey(found);
  };

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
        paymentMethodData: paymentMethodData(body.payment_method_data),
        paymentMethodTypes: body.payment_method_types,
        automaticPaymentMethods: body.automatic_payment_methods,
        confirm: body.confirm,
        description: body.description,
        metadata: body.metadata,
        receiptEmail: body.receipt_email,
        statementDescriptor: body.statement_descriptor,
        statementDescriptorSuffix: body.statement_descriptor_suffix,
        returnUrl: body.return_url,
        connector: body.connector,
        customer: body.customer,
        setupFutureUsage: body.setup_future_usage,
        radarOptions: body.radar_options,
        paymentMethodOptions: body.payment_method_options,
        origin: originOf(request, context.config.publicUrl),
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
        summary: "List PaymentIntents, newest first (with customer=, that customer's only)",
        description:
          'Filters: customer; created (unix seconds; exact, or [gt], [gte], [lt], [lte]).',
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
            customerId: request.query.customer,
          }),
        (found) => presentIntent(found),
      );
      return expandEach(page, 'payment_intent', plan, expandScope(request, context));
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
    async (request) =>
      answerSearch(
        request.query,
        {
          type: 'payment_intent',
          url: '/v1/payment_intents/search',
          scope: expandScope(request, context),
        },
        (search) => payments.search(request.merchantId, search),
        (item) => presentIntent(item),
      ),
  );

  typed.get(
    '/v1/payment_intents/:id',
    {
      config: { publishableKey: true },
      preValidation: browserRequest('querystring'),
      schema: {
        tags,
        summary: 'Retrieve a PaymentIntent with its attempts',
        description:
          'With the publishable key, client_secret is required and the answer is the reduced ' +
          'view a browser may see (no metadata, attempts or amounts received).',
        params: IdParams,
        querystring: RetrieveQuery,
        response: { 200: PaymentIntentEitherViewSchema, ...paymentFailures },
      },
    },
    async (request) => {
      const { id } = request.params;
      const { client_secret: clientSecret, expand: paths } = request.query;
      const plan = planOf(paths);
      const found =
        clientSecret === undefined
          ? await payments.retrieve(request.merchantId, id)
          : await payments.retrieveWithClientSecret(request.merchantId, id, clientSecret);
      return shownToEither(request, plan, found);
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
      config: { publishableKey: true },
      preValidation: [browserRequest('body'), checkExpand],
      schema: {
        tags,
        summary: 'Confirm a PaymentIntent: authorize (and capture when automatic)',
        description:
          'A browser confirms with the publishable key and the client_secret (as Stripe.js ' +
          'does) and gets the reduced view of the intent.',
        params: IdParams,
        body: ConfirmIntent,
        response: { 200: PaymentIntentEitherViewSchema, ...paymentFailures },
      },
    },
    async (request) => {
      const body = request.body;
      const plan = planOf(body.expand);
      const input = {
        paymentMethod: body.payment_method,
        paymentMethodData: paymentMethodData(body.payment_method_data),
        receiptEmail: body.receipt_email,
        returnUrl: body.return_url,
        clientSecret: body.client_secret,
        connector: body.connector,
        setupFutureUsage: body.setup_future_usage,
        radarOptions: radarOptionsOf(request, body.radar_options),
        paymentMethodOptions: body.payment_method_options,
        origin: originOf(request, context.config.publicUrl),
      };
      const idempotency = idempotentRequest(request, context.idempotency);
      return shownToEither(
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

/**
 * Before validation (and so before an Idempotency-Key records anything): a publishable key must
 * give the intent's client secret (its only way in), and may not choose the connector (routing is
 * the merchant's).
 */
function browserRequest(part: 'querystring' | 'body') {
  return async (request: FastifyRequest): Promise<void> => {
    if (request.keyKind !== 'publishable') return;
    const given = (part === 'body' ? request.body : request.query) as
      Record<string, unknown> | undefined;
    if (given?.connector !== undefined)
      throw new ApiError(
        'secret_key_required',
        'The connector parameter can only be given with a secret API key.',
        'connector',
      );
    if (given?.client_secret === undefined)
      throw new ApiError(
        'parameter_missing',
        'Missing required param: client_secret (a publishable key needs the client secret ' +
          'of the PaymentIntent).',
        'client_secret',
      );
  };
}

/** The intent as the request's key may see it. */
type PaymentMethodDataBody = {
  card: {
    number?: string;
    exp_month?: number;
    exp_year?: number;
    cvc?: string;
    token?: string;
  };
  billing_details?: { name?: string };
  metadata?: Record<string, string>;
};

/** `payment_method_data` as the service takes it: a card by its details or by a test token. */
function paymentMethodData(body: PaymentMethodDataBody | undefined): PaymentMethodData | undefined {
  if (body === undefined) return undefined;
  const { card } = body;
  const common = { name: body.billing_details?.name ?? null, metadata: body.metadata };
  if (card.token !== undefined) {
    const extra = (['number', 'exp_month', 'exp_year', 'cvc'] as const).find(
      (field) => card[field] !== undefined,
    );
    if (extra !== undefined)
      throw new ApiError(
        'parameter_invalid',
        `payment_method_data[card] takes a token or card details, not both: remove ${extra}.`,
        `payment_method_data[card][${extra}]`,
      );
    return { ...common, card: { token: card.token } };
  }
  for (const field of ['number', 'exp_month', 'exp_year'] as const)
    if (card[field] === undefined)
      throw new ApiError(
        'parameter_missing',
        `Missing required param: payment_method_data[card][${field}].`,
        `payment_method_data[card][${field}]`,
      );
  return {
    ...common,
    card: {
      number: card.number as string,
      expMonth: card.exp_month as number,
      expYear: card.exp_year as number,
      cvc: card.cvc,
    },
  };
}

/**
 * The radar options of a confirm: a browser with the publishable key is the customer itself, so
 * its connection's address is the customer's, whatever it says (a card tester would rotate the
 * address it gives); a server tells its customer's.
 */
function radarOptionsOf(
  request: FastifyRequest,
  given: Static<typeof RadarOptions> | undefined,
): Static<typeof RadarOptions> | undefined {
  return request.keyKind === 'publishable' ? { ip_address: request.ip } : given;
}
