// The stored form of payment intents, attempts and refunds: one definition per table (see
// src/storage/table.ts), typed against the domain types, from which the repository and both
// record paths generate their statements. A new column is: a migration, the domain type, one
// line here (tsc refuses the definition until it is there), and the presenter if the API shows it.
import {
  bigint,
  boolean,
  defineTable,
  integer,
  jsonb,
  mapped,
  nullable,
  text,
  timestamptz,
} from '../storage/table.ts';
import {
  formatPendingOperation,
  parsePendingOperation,
  type PendingOperation,
} from './state-machine.ts';
import type { Attempt, PaymentIntent, Refund } from './types.ts';

const updatedAt = timestamptz('updated_at');

export const paymentIntents = defineTable<PaymentIntent>({
  name: 'payment_intents',
  columns: {
    id: text('id'),
    merchantId: text('merchant_id'),
    amount: bigint('amount'),
    currency: text('currency'),
    status: text('status'),
    captureMethod: text('capture_method'),
    paymentMethodId: nullable(text('payment_method_id')),
    connector: nullable(text('connector')),
    amountCapturable: bigint('amount_capturable'),
    amountReceived: bigint('amount_received'),
    amountRefunded: bigint('amount_refunded'),
    amountRefunding: bigint('amount_refunding'),
    pendingOperation: mapped<PendingOperation | null, string | null>(
      nullable(text('pending_operation')),
      (operation) => (operation === null ? null : formatPendingOperation(operation)),
      (stored) => (stored === null ? null : parsePendingOperation(stored)),
    ),
    description: nullable(text('description')),
    metadata: jsonb('metadata'),
    lastPaymentError: nullable(jsonb('last_payment_error')),
    cancellationReason: nullable(text('cancellation_reason')),
    canceledAt: nullable(timestamptz('canceled_at')),
    customerId: nullable(text('customer_id')),
    setupFutureUsage: nullable(text('setup_future_usage')),
    clientSecret: text('client_secret'),
    paymentMethodTypes: jsonb('payment_method_types'),
    automaticPaymentMethods: nullable(jsonb('automatic_payment_methods')),
    receiptEmail: nullable(text('receipt_email')),
    statementDescriptorSuffix: nullable(text('statement_descriptor_suffix')),
    returnUrl: nullable(text('return_url')),
    radarOptions: nullable(jsonb('radar_options')),
    requestThreeDSecure: text('request_three_d_secure'),
    nextAction: nullable(jsonb('next_action')),
    createdAt: timestamptz('created_at'),
  },
  databaseOnly: [updatedAt],
  updatedAt: 'updated_at',
  createdAt: 'createdAt',
});

export const paymentAttempts = defineTable<Attempt>({
  name: 'payment_attempts',
  columns: {
    id: text('id'),
    paymentIntentId: text('payment_intent_id'),
    merchantId: text('merchant_id'),
    connector: text('connector'),
    status: text('status'),
    amount: bigint('amount'),
    currency: text('currency'),
    captureMethod: text('capture_method'),
    pspIdempotencyKey: text('psp_idempotency_key'),
    pspReference: nullable(text('psp_reference')),
    amountAuthorized: bigint('amount_authorized'),
    amountCaptured: bigint('amount_captured'),
    declineCode: nullable(text('decline_code')),
    pspCode: nullable(text('psp_code')),
    failureMessage: nullable(text('failure_message')),
    syncCount: integer('sync_count'),
    abandoned: boolean('abandoned'),
    risk: nullable(jsonb('risk')),
    threeDSecureId: nullable(text('three_d_secure_id')),
    pspLatencyMs: nullable(integer('psp_latency_ms')),
    createdAt: timestamptz('created_at'),
  },
  // When the status sync last asked the PSP (it schedules the next time from it).
  databaseOnly: [nullable(timestamptz('last_synced_at')), updatedAt],
  updatedAt: 'updated_at',
  createdAt: 'createdAt',
});

export const refunds = defineTable<Refund>({
  name: 'refunds',
  columns: {
    id: text('id'),
    merchantId: text('merchant_id'),
    paymentIntentId: text('payment_intent_id'),
    attemptId: text('attempt_id'),
    amount: bigint('amount'),
    currency: text('currency'),
    status: text('status'),
    reason: nullable(text('reason')),
    pspIdempotencyKey: text('psp_idempotency_key'),
    pspReference: nullable(text('psp_reference')),
    failureReason: nullable(text('failure_reason')),
    metadata: jsonb('metadata'),
    sentAt: nullable(timestamptz('sent_at')),
    releasesAuthorization: boolean('releases_authorization'),
    createdAt: timestamptz('created_at'),
  },
  // How many requests claimed it for sending (refunds.ts #claim, migration 036).
  databaseOnly: [integer('send_claims'), updatedAt],
  updatedAt: 'updated_at',
  createdAt: 'createdAt',
});
