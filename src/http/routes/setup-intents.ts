// Merchant routes for SetupIntents (saving a card without a payment). Thin: validate, call one
// service method, present.
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  Enum,
  SetupIntentSchema,
  errorResponses,
  listOf,
  presentSetupIntent,
} from '../../api-objects/index.ts';
import type { RouteContext } from '../context.ts';
import { idempotentRequest } from '../idempotency.ts';
import { answerList, createdFilter, listQuery, rangeOf } from '../list.ts';
import { Id, IdParams, Metadata, NoQuery } from '../schemas.ts';

const Usage = Enum(['on_session', 'off_session'] as const);

const CreateSetupIntent = Type.Object(
  {
    customer: Type.Optional(Id),
    payment_method: Type.Optional(Id),
    confirm: Type.Optional(Type.Boolean()),
    usage: Type.Optional(Usage),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    metadata: Type.Optional(Metadata),
    payment_method_types: Type.Optional(
      Type.Array(Type.Literal('card'), { minItems: 1, maxItems: 1 }),
    ),
  },
  { additionalProperties: false },
);
const UpdateSetupIntent = Type.Object(
  {
    customer: Type.Optional(Id),
    payment_method: Type.Optional(Id),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);
const ConfirmSetupIntent = Type.Object(
  { payment_method: Type.Optional(Id) },
  { additionalProperties: false },
);
const CancelSetupIntent = Type.Object(
  {
    cancellation_reason: Type.Optional(
      Enum(['abandoned', 'requested_by_customer', 'duplicate'] as const),
    ),
  },
  { additionalProperties: false },
);
const ListSetupIntentsQuery = listQuery({
  customer: Type.Optional(Id),
  payment_method: Type.Optional(Id),
  ...createdFilter,
});

// 402: the card was declined by the verification; 503: no connector can take the call now.
const failures = { ...errorResponses, 402: errorResponses[400], 503: errorResponses[400] };

export function registerSetupIntentRoutes(app: FastifyInstance, context: RouteContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const setupIntents = context.setupIntents;
  const tags = ['setup intents'];
  const responses = { 200: SetupIntentSchema, ...failures };

  typed.post(
    '/v1/setup_intents',
    {
      schema: {
        tags,
        summary: 'Create a SetupIntent (and confirm it with confirm=true)',
        body: CreateSetupIntent,
        response: responses,
      },
    },
    async (request) => {
      const body = request.body;
      const idempotency = idempotentRequest(request, context.idempotency);
      const existing = idempotency.resumed === true ? idempotency.resourceId : undefined;
      if (existing !== undefined && existing !== null)
        return presentSetupIntent(await setupIntents.retrieve(request.merchantId, existing));
      const created = await setupIntents.create(
        request.merchantId,
        {
          customer: body.customer,
          paymentMethod: body.payment_method,
          confirm: body.confirm,
          usage: body.usage,
          description: body.description,
          metadata: body.metadata,
        },
        idempotency.bind,
      );
      return presentSetupIntent(created);
    },
  );

  typed.get(
    '/v1/setup_intents',
    {
      schema: {
        tags,
        summary: 'List SetupIntents, newest first',
        querystring: ListSetupIntentsQuery,
        response: { 200: listOf(SetupIntentSchema), ...errorResponses },
      },
    },
    async (request) =>
      answerList(
        request.query,
        '/v1/setup_intents',
        (page) =>
          setupIntents.list(
            request.merchantId,
            {
              customer: request.query.customer,
              paymentMethod: request.query.payment_method,
              created: rangeOf(request.query.created),
            },
            page,
          ),
        (setup) => presentSetupIntent(setup),
      ),
  );

  typed.get(
    '/v1/setup_intents/:id',
    {
      schema: {
        tags,
        summary: 'Retrieve a SetupIntent',
        params: IdParams,
        querystring: NoQuery,
        response: responses,
      },
    },
    async (request) =>
      presentSetupIntent(await setupIntents.retrieve(request.merchantId, request.params.id)),
  );

  typed.post(
    '/v1/setup_intents/:id',
    {
      schema: {
        tags,
        summary: 'Update a SetupIntent before it is confirmed',
        params: IdParams,
        body: UpdateSetupIntent,
        response: responses,
      },
    },
    async (request) => {
      const body = request.body;
      return presentSetupIntent(
        await setupIntents.update(request.merchantId, request.params.id, {
          customer: body.customer,
          paymentMethod: body.payment_method,
          description: body.description,
          metadata: body.metadata,
        }),
      );
    },
  );

  typed.post(
    '/v1/setup_intents/:id/confirm',
    {
      schema: {
        tags,
        summary: 'Confirm a SetupIntent: verify the card at a connector, then save it',
        description:
          'The card is verified by an authorization of one currency unit that is voided at once, ' +
          'at a connector whose capability map has cardVerification; ' +
          'none: 400 capability_not_supported.',
        params: IdParams,
        body: ConfirmSetupIntent,
        response: responses,
      },
    },
    async (request) =>
      presentSetupIntent(
        await setupIntents.confirm(request.merchantId, request.params.id, {
          paymentMethod: request.body.payment_method,
        }),
      ),
  );

  typed.post(
    '/v1/setup_intents/:id/cancel',
    {
      schema: {
        tags,
        summary: 'Cancel a SetupIntent that is not yet processing or succeeded',
        params: IdParams,
        body: CancelSetupIntent,
        response: responses,
      },
    },
    async (request) =>
      presentSetupIntent(
        await setupIntents.cancel(
          request.merchantId,
          request.params.id,
          request.body.cancellation_reason,
        ),
      ),
  );
}
