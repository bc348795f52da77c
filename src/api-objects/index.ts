// The API objects (architecture §2): per resource, its schema (validation of what is served, and
// the OpenAPI document) and its presenter, typed against that schema, from the domain object.
// HTTP answers, event payloads and webhook bodies are all made here, so none can drift apart.
export * from './json.ts';
export * from './error.ts';
export * from './balance.ts';
export * from './balance-transaction.ts';
export * from './charge.ts';
export * from './customer.ts';
export * from './dead-letter.ts';
export * from './event.ts';
export * from './event-types.ts';
export * from './health.ts';
export * from './ledger.ts';
export * from './merchant.ts';
export * from './merchant-settings.ts';
export * from './payment-intent.ts';
export * from './payment-method.ts';
export * from './payout.ts';
export * from './psp-webhook.ts';
export * from './radar-rule.ts';
export * from './radar-settings.ts';
export * from './radar-value-list.ts';
export * from './refund.ts';
export * from './routing-config.ts';
export * from './setup-intent.ts';
export * from './test-clock.ts';
export * from './webhook-delivery.ts';
export * from './webhook-endpoint.ts';
export * from './settlement-batch.ts';
export * from './settlement-share.ts';
export * from './money-out-run.ts';
export * from './balance-availability.ts';
export * from './reconciliation.ts';
export * from './reconciliation-reasons.ts';
export * from './review.ts';
export * from './rate-limits.ts';
