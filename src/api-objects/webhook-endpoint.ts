import { Type, type Static } from 'typebox';
import type { WebhookEndpoint } from '../webhooks/endpoints.ts';
import { Nullable, StringMap, Timestamp, testMode, unixSeconds } from './json.ts';

export const WebhookEndpointSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('webhook_endpoint'),
  api_version: Type.Null(),
  application: Type.Null(),
  created: Timestamp,
  description: Nullable(Type.String()),
  enabled_events: Type.Array(Type.String()),
  livemode: Type.Boolean(),
  metadata: StringMap,
  status: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')]),
  disabled_reason: Nullable(Type.String()),
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
    api_version: null,
    application: null,
    created: unixSeconds(endpoint.createdAt),
    description: endpoint.description,
    enabled_events: [...endpoint.enabledEvents],
    livemode,
    metadata: { ...endpoint.metadata },
    status: endpoint.status,
    disabled_reason: endpoint.disabledReason,
    url: endpoint.url,
    ...(secret === undefined ? {} : { secret }),
  };
}

export function presentDeletedWebhookEndpoint(
  id: string,
): Static<typeof DeletedWebhookEndpointSchema> {
  return { id, object: 'webhook_endpoint', deleted: true };
}
