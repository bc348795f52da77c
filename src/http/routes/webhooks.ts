// Merchant routes for webhook endpoints (Stripe's WebhookEndpoint API) and their deliveries.
// Thin: validate, call one service, present.
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  DeletedWebhookEndpointSchema,
  WebhookDeliverySchema,
  WebhookEndpointSchema,
  errorResponses,
  listOf,
  presentDeletedWebhookEndpoint,
  presentWebhookDelivery,
  presentWebhookEndpoint,
} from '../../api-objects/index.ts';
import type { RouteContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { idempotentRequest } from '../idempotency.ts';
import { answerList, ListQuery } from '../list.ts';
import { Empty, IdParams, Metadata } from '../schemas.ts';
import type { Webhooks } from '../../webhooks/index.ts';
import { descriptionLengthMax, enabledEventsMax, urlLengthMax } from '../../webhooks/endpoints.ts';

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
const Scheme = Type.Union([Type.Literal('standard_webhooks'), Type.Literal('stripe')], {
  description:
    "How deliveries are signed: 'standard_webhooks' (default) or 'stripe' (Stripe-Signature, " +
    'verified by stripe.webhooks.constructEvent).',
});

const CreateEndpoint = Type.Object(
  {
    url: Url,
    enabled_events: EnabledEvents,
    description: Type.Optional(Description),
    metadata: Type.Optional(Metadata),
    signature_scheme: Type.Optional(Scheme),
    api_version: Type.Optional(
      Type.String({
        minLength: 10,
        maxLength: 31,
        description: "The Stripe API version the integration names, e.g. '2024-06-20' (kept).",
      }),
    ),
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
    signature_scheme: Type.Optional(Scheme),
  },
  { additionalProperties: false },
);

const failures = { ...errorResponses, 503: errorResponses[400] };
const endpointResponses = { 200: WebhookEndpointSchema, ...failures };

/**
 * `base` is `/v1` for a merchant; the operator's scope registers the same routes under
 * `/v1/admin` acting as the platform account (src/merchants/platform.ts).
 */
export function registerWebhookRoutes(
  app: FastifyInstance,
  context: RouteContext,
  base = '/v1',
): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const webhooks = (): Webhooks => {
    if (context.webhooks === undefined)
      throw new ApiError('service_unavailable', 'Webhooks are not enabled on this server.');
    return context.webhooks;
  };
  const tags = ['webhooks'];

  typed.post(
    `${base}/webhook_endpoints`,
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
      const body = request.body;
      const created = await webhooks().endpoints.createOnce(
        request.merchantId,
        {
          url: body.url,
          enabledEvents: body.enabled_events,
          description: body.description,
          metadata: body.metadata,
          signatureScheme: body.signature_scheme,
          apiVersion: body.api_version,
        },
        idempotentRequest(request, context.idempotency),
      );
      return presentWebhookEndpoint(created.endpoint, created.secret);
    },
  );

  typed.get(
    `${base}/webhook_endpoints`,
    {
      schema: {
        tags,
        summary: 'List webhook endpoints, newest first',
        querystring: ListQuery,
        response: { 200: listOf(WebhookEndpointSchema), ...failures },
      },
    },
    async (request) =>
      answerList(
        request.query,
        `${base}/webhook_endpoints`,
        async (page) => {
          const found = await webhooks().endpoints.list(request.merchantId, page);
          return { items: found.endpoints, hasMore: found.hasMore };
        },
        (endpoint) => presentWebhookEndpoint(endpoint),
      ),
  );

  typed.get(
    `${base}/webhook_endpoints/:id`,
    {
      schema: {
        tags,
        summary: 'Retrieve a webhook endpoint',
        params: IdParams,
        response: endpointResponses,
      },
    },
    async (request) =>
      presentWebhookEndpoint(
        await webhooks().endpoints.retrieve(request.merchantId, request.params.id),
      ),
  );

  typed.post(
    `${base}/webhook_endpoints/:id`,
    {
      schema: {
        tags,
        summary:
          'Update a webhook endpoint ' +
          '(disabled=true stops sends; metadata merges, "" removes a key)',
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
        signatureScheme: body.signature_scheme,
      });
      return presentWebhookEndpoint(endpoint);
    },
  );

  typed.delete(
    `${base}/webhook_endpoints/:id`,
    {
      schema: {
        tags,
        summary: 'Delete a webhook endpoint with its deliveries',
        params: IdParams,
        response: { 200: DeletedWebhookEndpointSchema, ...failures },
      },
    },
    async (request) => {
      await webhooks().endpoints.delete(request.merchantId, request.params.id);
      return presentDeletedWebhookEndpoint(request.params.id);
    },
  );

  typed.get(
    `${base}/webhook_endpoints/:id/deliveries`,
    {
      schema: {
        tags,
        summary: "An endpoint's deliveries, newest first, with their attempts",
        params: IdParams,
        querystring: ListQuery,
        response: { 200: listOf(WebhookDeliverySchema), ...failures },
      },
    },
    async (request) =>
      answerList(
        request.query,
        `${base}/webhook_endpoints/${request.params.id}/deliveries`,
        async (page) => {
          const found = await webhooks().endpoints.deliveries(
            request.merchantId,
            request.params.id,
            page,
          );
          return { items: found.deliveries, hasMore: found.hasMore };
        },
        presentWebhookDelivery,
      ),
  );

  typed.post(
    `${base}/webhook_deliveries/:id/retry`,
    {
      schema: {
        tags,
        summary:
          'Send a delivery again now (any status), with a fresh retry schedule; its attempts stay',
        params: IdParams,
        body: Empty,
        response: { 200: WebhookDeliverySchema, ...failures },
      },
    },
    async (request) =>
      presentWebhookDelivery(
        await webhooks().deliverer.redeliver(request.merchantId, request.params.id),
      ),
  );
}
