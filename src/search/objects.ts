// The searchable objects: per object, its table and the query fields Stripe documents for it
// (https://docs.stripe.com/search#query-fields), each mapped to the column it reads. Making
// another object searchable is one entry here and one service method that presents its rows.
import type { SearchableObject } from './compile.ts';

const lowerCase = (value: string) => value.toLowerCase();

/**
 * Payment intents: amount, created, currency, metadata, status (Stripe's fields; `customer` joins
 * them when payment intents have a customer column: `customer: { column: 'customer_id', kind:
 * 'token' }`).
 */
export const paymentIntentSearch: SearchableObject = {
  name: 'payment_intent',
  table: 'payment_intents',
  merchantColumn: 'merchant_id',
  keyColumn: 'id',
  fields: {
    amount: { column: 'amount', kind: 'integer' },
    created: { column: 'created_at', kind: 'timestamp' },
    currency: { column: 'currency', kind: 'token', normalize: lowerCase },
    metadata: { column: 'metadata', kind: 'metadata' },
    status: { column: 'status', kind: 'token' },
  },
};
