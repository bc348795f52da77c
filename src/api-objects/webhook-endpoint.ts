import { Type, type Static } from 'typebox';
import type { WebhookEndpoint } from '../webhooks/endpoints.ts';
import { Nullable, StringMap, Timestamp, testMode, unixSeconds } from './json.ts';

export const WebhookEndpointSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('webhook_endpoint'),
  /** The Stripe API version the integration named, kept as given (Payrail answers one shape). */
  api_version: Nullable(Type.String()),
  application: Type.Null(),
  created: Timestamp,
  description: Nullable(Type.String()),
  enabled_events: Type.Array(Type.String()),
  livemode: Type.Boolean(),
  metadata: StringMap,
  status: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')]),
  disabled_reason: Nullable(Type.String()),
  /**
   * How deliveries are signed: `standard_webhooks` (webhook-id, webhook-timestamp,
   * webhook-signature) or `stripe` (`Stripe-Signature: t=…,v1=…`, verified by Stripe's SDKs).
   */
  signature_scheme: Type.Union([Type.Literal('standard_webhooks'), Type.Literal('stripe')]),
  url: Type.String(),
  secret: Type.Optional(
    Type.String({ description: 'The whsec_ signing secret; only in the answer to create.' }),
  ),
});

export const DeletedWebhookEndpointSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('webhook_endpoint'),
  deleted: Type.Literal(true),
});

/** `secret` only in the answer to create (and to its idempotent retry). */
export function presentWebhookEndpoint(
  endpoint: WebhookEndpoint,
  secret?: string,
  livemode = testMode,
): Static<typeof WebhookEndpointSchema> {
  return {
    id: endpoint.id,
    object: 'webhook_endpoint',
    api_version: endpoint.apiVersion,
    application: null,
    created: unixSeconds(endpoint.createdAt),
    description: endpoint.description,
    enabled_events: [...endpoint.enabledEvents],
    livemode,
    metadata: { ...endpoint.metadata },
    status: endpoint.status,
    disabled_reason: endpoint.disabledReason,
    signature_scheme: endpoint.signatureScheme,
    url: endpoint.url,
    ...(secret === undefined ? {} : { secret }),
  };
}

export function presentDeletedWebhookEndpoint(
  id: string,
): Static<typeof DeletedWebhookEndpointSchema> {
  return { id, object: 'webhook_endpoint', deleted: true };
}
