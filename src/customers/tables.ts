// The stored form of customers and SetupIntents: one definition per table (src/storage/table.ts).
import { defineTable, integer, jsonb, nullable, text, timestamptz } from '../storage/table.ts';
import type { Customer, SetupIntent, VerificationReversal } from './types.ts';

const updatedAt = timestamptz('updated_at');

export const customers = defineTable<Customer>({
  name: 'customers',
  columns: {
    id: text('id'),
    merchantId: text('merchant_id'),
    email: nullable(text('email')),
    name: nullable(text('name')),
    phone: nullable(text('phone')),
    description: nullable(text('description')),
    address: nullable(jsonb('address')),
    metadata: jsonb('metadata'),
    defaultPaymentMethod: nullable(text('default_payment_method')),
    deletedAt: nullable(timestamptz('deleted_at')),
    createdAt: timestamptz('created_at'),
  },
  databaseOnly: [updatedAt],
  updatedAt: 'updated_at',
  createdAt: 'createdAt',
});

export const setupIntents = defineTable<SetupIntent>({
  name: 'setup_intents',
  columns: {
    id: text('id'),
    merchantId: text('merchant_id'),
    customerId: nullable(text('customer_id')),
    paymentMethodId: nullable(text('payment_method_id')),
    status: text('status'),
    usage: text('usage'),
    clientSecret: text('client_secret'),
    description: nullable(text('description')),
    metadata: jsonb('metadata'),
    connector: nullable(text('connector')),
    verificationCount: integer('verification_count'),
    verificationSends: integer('verification_sends'),
    reversalPending: nullable(text<VerificationReversal>('reversal_pending')),
    pspReference: nullable(text('psp_reference')),
    lastSetupError: nullable(jsonb('last_setup_error')),
    cancellationReason: nullable(text('cancellation_reason')),
    createdAt: timestamptz('created_at'),
  },
  databaseOnly: [updatedAt],
  updatedAt: 'updated_at',
  createdAt: 'createdAt',
});
