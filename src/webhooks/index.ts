// Webhooks to merchants: endpoints, the event bus consumer that fans events out to them, and
// the deliverer that sends, retries and dead-letters (architecture §4).
import type { EventConsumer } from '../events/consumer.ts';
import type { Database } from '../storage/database.ts';
import { WebhookDeliverer, type WebhookDelivererOptions } from './delivery.ts';
import { WebhookEndpoints } from './endpoints.ts';
import { webhookFanout } from './fanout.ts';

export {
  WebhookDeliverer,
  type DeliveryOutcome,
  type DeliveryResult,
  type WebhookDelivererOptions,
} from './delivery.ts';
export {
  WebhookEndpoints,
  type WebhookEndpoint,
  type CreateEndpointInput,
  type UpdateEndpointInput,
} from './endpoints.ts';
export {
  defaultRetryDelaysMs,
  deliveryStatuses,
  type DeliveryAttempt,
  type DeliveryListOptions,
  type DeliveryStatus,
  type WebhookDelivery,
} from './deliveries.ts';
export { WebhookError, type WebhookErrorCode } from './errors.ts';
export { AddressRefusedError, type Resolver } from './guarded-post.ts';
export { type AddressPolicy, type AddressPolicyOptions } from './ssrf.ts';
export { fanOutEvent, fanOutEvents, webhookFanout, webhookFanoutConsumerName } from './fanout.ts';
export { masterKeySecretBox, type SecretBox } from './secret-box.ts';
export { pendingWebhooksSql } from './pending.ts';
export {
  generateSecret,
  sign,
  signatureHeaders,
  verify,
  type SignatureHeaders,
  type VerifyResult,
} from './signing.ts';

export type Webhooks = {
  readonly endpoints: WebhookEndpoints;
  readonly deliverer: WebhookDeliverer;
  /** Register with the event bus. */
  readonly fanout: EventConsumer;
};

/** Everything webhooks need, sharing one SecretBox (the endpoints seal with it, the deliverer opens). */
export function createWebhooks(database: Database, options: WebhookDelivererOptions): Webhooks {
  return {
    endpoints: new WebhookEndpoints(database, options.secretBox, options),
    deliverer: new WebhookDeliverer(database, options),
    fanout: webhookFanout,
  };
}
