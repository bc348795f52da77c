import { Type, type Static } from 'typebox';
import type { WebhookDelivery } from '../webhooks/deliveries.ts';
import { Nullable, Timestamp, unixSeconds, unixSecondsOrNull } from './json.ts';

export const WebhookDeliverySchema = Type.Object({
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
  next_attempt: Nullable(Timestamp),
  last_http_status: Nullable(Type.Integer()),
  last_error: Nullable(Type.String()),
  created: Timestamp,
  updated: Timestamp,
  attempts: Type.Array(
    Type.Object({
      attempt: Type.Integer(),
      http_status: Nullable(Type.Integer()),
      error: Nullable(Type.String()),
      duration_ms: Type.Integer(),
      created: Timestamp,
    }),
    { description: 'The most recent attempts (up to 50), oldest first.' },
  ),
});

export function presentWebhookDelivery(
  delivery: WebhookDelivery,
): Static<typeof WebhookDeliverySchema> {
  return {
    id: delivery.id,
    object: 'webhook_delivery',
    webhook_endpoint: delivery.endpointId,
    event: delivery.eventId,
    event_type: delivery.eventType,
    status: delivery.status,
    attempt_count: delivery.attemptCount,
    next_attempt: unixSecondsOrNull(delivery.nextAttemptAt),
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
