// Merchant routes for webhook endpoints (Stripe's WebhookEndpoint API) and their deliveries.
// Thin: validate, call one service, present.
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { list, unixSeconds } from '../serialize.ts';
import { Metadata, errorResponses, listOf } from '../schemas.ts';
import type { Webhooks } from '../../webhooks/index.ts';
import type { WebhookDelivery } from '../../webhooks/deliveries.ts';
import {
  descriptionLengthMax,
  enabledEventsMax,
  urlLengthMax,
  type WebhookEndpoint,
} from '../../webhooks/endpoints.ts';

const Id = Type.String({ minLength: 1, maxLength: 100 });
const IdParams = Type.Object({ id: Id });
const Url = Type.String({
  minLength: 1,
  maxLength: urlLengthMax,
  description: 'https, or http to localhost / 127.0.0.1 for testing.',
});
const EnabledEvents = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
  maxItems: enabledEventsMax,
  description: "Event types to send (e.g. payment_intent.succeeded), or ['*'] for all.",
});
const Description = Type.String({ maxLength: descriptionLengthMax });

const CreateEndpoint = Type.Object(
  {
    url: Url,
    enabled_events: EnabledEvents,
    description: Type.Optional(Description),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);

const UpdateEndpoint = Type.Object(
  {
    url: Type.Optional(Url),
    enabled_events: Type.Optional(EnabledEvents),
    description: Type.Optional(Description),
    metadata: Type.Optional(Metadata),
    disabled: Type.Optional(
      Type.Boolean({
        description: 'true disables the endpoint (no more sends); false enables it again.',
      }),
    ),
  },
  { additionalProperties: false },
);

const Empty = Type.Object({}, { additionalProperties: false });

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

const EndpointSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('webhook_endpoint'),
  api_version: Type.Null(),
  application: Type.Null(),
  created: Type.Integer(),
  description: Nullable(Type.String()),
  enabled_events: Type.Array(Type.String()),
  livemode: Type.Boolean(),
  metadata: Type.Record(Type.String(), Type.String()),
  status: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')]),
  disabled_reason: Nullable(Type.String()),
  url: Type.String(),
  secret: Type.Optional(
    Type.String({ description: 'The whsec_ signing secret; only in the answer to create.' }),
  ),
});

const DeletedSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('webhook_endpoint'),
  deleted: Type.Literal(true),
});

const DeliverySchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('webhook_delivery'),
  webhook_endpoint: Type.String(),
  event: Type.String(),
  event_type: Type.String(),
  status: Type.Union([
    Type.Literal('pending'),
    Type.Literal('succeeded'),
    Type.Literal('failed'),
    Type.Literal('dead'),
  ]),
  attempt_count: Type.Integer(),
  next_attempt: Nullable(Type.Integer()),
  last_http_status: Nullable(Type.Integer()),
  last_error: Nullable(Type.String()),
  created: Type.Integer(),
  updated: Type.Integer(),
  attempts: Type.Array(
    Type.Object({
      attempt: Type.Integer(),
      http_status: Nullable(Type.Integer()),
      error: Nullable(Type.String()),
      duration_ms: Type.Integer(),
      created: Type.Integer(),
    }),
    { description: 'The most recent attempts (up to 50), oldest first.' },
  ),
});

const failures = { ...errorResponses, 503: errorResponses[400] };
const endpointResponses = { 200: EndpointSchema, ...failures };

export function presentEndpoint(endpoint: WebhookEndpoint, secret?: string) {
  return {
    id: endpoint.id,
    object: 'webhook_endpoint' as const,
    api_version: null,
    application: null,
    created: unixSeconds(endpoint.createdAt),
    description: endpoint.description,
    enabled_events: [...endpoint.enabledEvents],
    livemode: false,
    metadata: { ...endpoint.metadata },
    status: endpoint.status,
    disabled_reason: endpoint.disabledReason,
    url: endpoint.url,
    ...(secret === undefined ? {} : { secret }),
  };
}

export function presentDelivery(delivery: WebhookDelivery) {
  return {
    id: delivery.id,
    object: 'webhook_delivery' as const,
    webhook_endpoint: delivery.endpointId,
    event: delivery.eventId,
    event_type: delivery.eventType,
    status: delivery.status,
    attempt_count: delivery.attemptCount,
    next_attempt: delivery.nextAttemptAt === null ? null : unixSeconds(delivery.nextAttemptAt),
    last_http_status: delivery.lastHttpStatus,
    last_error: delivery.lastError,
    created: unixSeconds(delivery.createdAt),
    updated: unixSeconds(delivery.updatedAt),
    attempts: delivery.attempts.map((attempt) => ({
      attempt: attempt.number,
      http_status: attempt.httpStatus,
      error: attempt.error,
      duration_ms: attempt.durationMs,
      created: unixSeconds(attempt.attemptedAt),
    })),
  };
}

function checkPageCursors(query: { starting_after?: string; ending_before?: string }): void {
  if (query.starting_after !== undefined && query.ending_before !== undefined) {
    throw new ApiError(
      'parameter_invalid',
      'Give starting_after or ending_before, not both.',
      'ending_before',
    );
  }
}

export function registerWebhookRoutes(app: FastifyInstance, context: AppContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const webhooks = (): Webhooks => {
    if (context.webhooks === undefined)
      throw new ApiError('service_unavailable', 'Webhooks are not enabled on this server.');
    return context.webhooks;
  };
  const tags = ['webhooks'];

  typed.post(
    '/v1/webhook_endpoints',
    {
      schema: {
        tags,
        summary:
          'Create a webhook endpoint; the answer carries its signing secret, shown only here',
        body: CreateEndpoint,
        response: endpointResponses,
      },
    },
    async (request) => {
      const endpoints = webhooks().endpoints;
      const idempotency = request.idempotency;
      if (idempotency?.resumed === true && idempotency.resourceId !== null) {
        const resumed = await endpoints.resumeCreate(request.merchantId, idempotency.resourceId);
        return presentEndpoint(resumed.endpoint, resumed.secret);
      }
      const body = request.body;
      const created = await endpoints.create(
        request.merchantId,
        {
          url: body.url,
          enabledEvents: body.enabled_events,
          description: body.description,
          metadata: body.metadata,
        },
        idempotency === undefined
          ? undefined
          : (tx, id) =>
              context.idempotency.bindResource(tx, request.merchantId, idempotency.key, id),
      );
      return presentEndpoint(created.endpoint, created.secret);
    },
  );

  typed.get(
    '/v1/webhook_endpoints',
    {
      schema: {
        tags,
        summary: 'List webhook endpoints, newest first',
        querystring: ListQuery,
        response: { 200: listOf(EndpointSchema), ...failures },
      },
    },
    async (request) => {
      checkPageCursors(request.query);
      const { limit, starting_after: startingAfter, ending_before: endingBefore } = request.query;
      const page = await webhooks().endpoints.list(request.merchantId, {
        limit,
        startingAfter,
        endingBefore,
      });
      return list(
        page.endpoints.map((endpoint) => presentEndpoint(endpoint)),
        page.hasMore,
        '/v1/webhook_endpoints',
      );
    },
  );

  typed.get(
    '/v1/webhook_endpoints/:id',
    {
      schema: {
        tags,
        summary: 'Retrieve a webhook endpoint',
        params: IdParams,
        response: endpointResponses,
      },
    },
    async (request) =>
      presentEndpoint(await webhooks().endpoints.retrieve(request.merchantId, request.params.id)),
  );

  typed.post(
    '/v1/webhook_endpoints/:id',
    {
      schema: {
        tags,
        summary:
          'Update a webhook endpoint (disabled=true stops sends; metadata merges, "" removes a key)',
        params: IdParams,
        body: UpdateEndpoint,
        response: endpointResponses,
      },
    },
    async (request) => {
      const body = request.body;
      const endpoint = await webhooks().endpoints.update(request.merchantId, request.params.id, {
        url: body.url,
        enabledEvents: body.enabled_events,
        description: body.description,
        metadata: body.metadata,
        disabled: body.disabled,
      });
      return presentEndpoint(endpoint);
    },
  );

  typed.delete(
    '/v1/webhook_endpoints/:id',
    {
      schema: {
        tags,
        summary: 'Delete a webhook endpoint with its deliveries',
        params: IdParams,
        response: { 200: DeletedSchema, ...failures },
      },
    },
    async (request) => {
      await webhooks().endpoints.delete(request.merchantId, request.params.id);
      return { id: request.params.id, object: 'webhook_endpoint' as const, deleted: true as const };
    },
  );

  typed.get(
    '/v1/webhook_endpoints/:id/deliveries',
    {
      schema: {
        tags,
        summary: "An endpoint's deliveries, newest first, with their attempts",
        params: IdParams,
        querystring: ListQuery,
        response: { 200: listOf(DeliverySchema), ...failures },
      },
    },
    async (request) => {
      checkPageCursors(request.query);
      const { limit, starting_after: startingAfter, ending_before: endingBefore } = request.query;
      const page = await webhooks().endpoints.deliveries(request.merchantId, request.params.id, {
        limit,
        startingAfter,
        endingBefore,
      });
      return list(
        page.deliveries.map(presentDelivery),
        page.hasMore,
        `/v1/webhook_endpoints/${request.params.id}/deliveries`,
      );
    },
  );

  typed.post(
    '/v1/webhook_deliveries/:id/retry',
    {
      schema: {
        tags,
        summary:
          'Send a delivery again now (any status), with a fresh retry schedule; its attempts stay',
        params: IdParams,
        body: Empty,
        response: { 200: DeliverySchema, ...failures },
      },
    },
    async (request) =>
      presentDelivery(await webhooks().deliverer.redeliver(request.merchantId, request.params.id)),
  );
}
