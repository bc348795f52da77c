// The searchable objects: per object, its table and the query fields Stripe documents for it
// (https://docs.stripe.com/search#query-fields), each mapped to the column it reads. Making
// another object searchable is one entry here and one service method that presents its rows.
import type { SearchableObject } from './compile.ts';

const lowerCase = (value: string) => value.toLowerCase();

/** Payment intents: amount, created, currency, customer, metadata, status (Stripe's fields). */
export const paymentIntentSearch: SearchableObject = {
  name: 'payment_intent',
  table: 'payment_intents',
  merchantColumn: 'merchant_id',
  keyColumn: 'id',
  fields: {
    amount: { column: 'amount', kind: 'integer' },
    created: { column: 'created_at', kind: 'timestamp' },
    currency: { column: 'currency', kind: 'token', normalize: lowerCase },
    customer: { column: 'customer_id', kind: 'token' },
    metadata: { column: 'metadata', kind: 'metadata' },
    status: { column: 'status', kind: 'token' },
  },
};

/** Customers: created, email, metadata, name, phone (Stripe's fields); erased ones are not found. */
export const customerSearch: SearchableObject = {
  name: 'customer',
  table: '(SELECT * FROM customers WHERE deleted_at IS NULL) AS live_customers',
  merchantColumn: 'merchant_id',
  keyColumn: 'id',
  fields: {
    created: { column: 'created_at', kind: 'timestamp' },
    email: { column: 'email', kind: 'text' },
    metadata: { column: 'metadata', kind: 'metadata' },
    name: { column: 'name', kind: 'text' },
    phone: { column: 'phone', kind: 'text' },
  },
};

/**
 * Charges, the views of payment attempts: amount, created, currency, customer, metadata,
 * payment_intent, status (Stripe's fields that Payrail's charge has). The rows are the attempts'
 * (plus what the search reads of their intents); `charge_status` is the charge's status as the
 * presenter derives it (api-objects/charge.ts chargeStatus: failed; pending or unknown → pending;
 * otherwise succeeded), and a test searches each.
 */
export const chargeSearch: SearchableObject = {
  name: 'charge',
  table: `(SELECT a.*, i.customer_id AS intent_customer_id, i.metadata AS intent_metadata,
             CASE WHEN a.status = 'failed' THEN 'failed'
                  WHEN a.status IN ('pending', 'unknown') THEN 'pending'
                  ELSE 'succeeded' END AS charge_status
             FROM payment_attempts a JOIN payment_intents i ON i.id = a.payment_intent_id) AS charges`,
  merchantColumn: 'merchant_id',
  keyColumn: 'id',
  fields: {
    amount: { column: 'amount', kind: 'integer' },
    created: { column: 'created_at', kind: 'timestamp' },
    currency: { column: 'currency', kind: 'token', normalize: lowerCase },
    customer: { column: 'intent_customer_id', kind: 'token' },
    metadata: { column: 'intent_metadata', kind: 'metadata' },
    payment_intent: { column: 'payment_intent_id', kind: 'token' },
    status: { column: 'charge_status', kind: 'token' },
  },
};
