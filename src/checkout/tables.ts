// The stored form of Checkout Sessions and Payment Links: one definition per table
// (src/storage/table.ts), migration 040.
import {
  bigint,
  boolean,
  defineTable,
  jsonb,
  nullable,
  text,
  timestamptz,
} from '../storage/table.ts';
import type {
  AfterCompletion,
  CheckoutSession,
  CustomerDetails,
  LineItem,
  PaymentIntentData,
  PaymentLink,
} from './types.ts';

const updatedAt = timestamptz('updated_at');

export const checkoutSessions = defineTable<CheckoutSession>({
  name: 'checkout_sessions',
  columns: {
    id: text('id'),
    merchantId: text('merchant_id'),
    mode: text<'payment'>('mode'),
    status: text('status'),
    paymentStatus: text('payment_status'),
    currency: text('currency'),
    amountSubtotal: bigint('amount_subtotal'),
    amountTotal: bigint('amount_total'),
    lineItems: jsonb<readonly LineItem[]>('line_items'),
    successUrl: nullable(text('success_url')),
    cancelUrl: nullable(text('cancel_url')),
    url: text('url'),
    expiresAt: timestamptz('expires_at'),
    customerId: nullable(text('customer_id')),
    customerEmail: nullable(text('customer_email')),
    customerDetails: nullable(jsonb<CustomerDetails>('customer_details')),
    clientReferenceId: nullable(text('client_reference_id')),
    metadata: jsonb('metadata'),
    paymentIntentData: jsonb<PaymentIntentData>('payment_intent_data'),
    paymentIntentId: nullable(text('payment_intent_id')),
    paymentLinkId: nullable(text('payment_link_id')),
    formToken: text('form_token'),
    completedAt: nullable(timestamptz('completed_at')),
    expiredAt: nullable(timestamptz('expired_at')),
    createdAt: timestamptz('created_at'),
  },
  databaseOnly: [updatedAt],
  updatedAt: 'updated_at',
  createdAt: 'createdAt',
});

export const paymentLinks = defineTable<PaymentLink>({
  name: 'payment_links',
  columns: {
    id: text('id'),
    merchantId: text('merchant_id'),
    active: boolean('active'),
    currency: text('currency'),
    amountTotal: bigint('amount_total'),
    lineItems: jsonb<readonly LineItem[]>('line_items'),
    afterCompletion: jsonb<AfterCompletion>('after_completion'),
    paymentIntentData: jsonb<PaymentIntentData>('payment_intent_data'),
    metadata: jsonb('metadata'),
    inactiveMessage: nullable(text('inactive_message')),
    url: text('url'),
    createdAt: timestamptz('created_at'),
  },
  databaseOnly: [updatedAt],
  updatedAt: 'updated_at',
  createdAt: 'createdAt',
});
