// Customers and their saved cards (Stripe's Customer and PaymentMethod attach/detach), and the
// erasure of a customer (GDPR): its personal fields are blanked and its cards crypto-shredded
// (src/vault/customer-keys.ts) in one transaction. Payments, attempts, refunds and ledger entries
// keep the customer's id only. Domain code: no HTTP; a Database, the vault and the clock.
import { systemClock, type Clock } from '../clock.ts';
import { chargeIdOf, newSortableId } from '../ids.ts';
import type { Database, Queryable } from '../storage/database.ts';
import { keysetPage, type PageRequest, type TimeRange } from '../storage/pagination.ts';
import { customerSearch, searchPage, type SearchRequest } from '../search/index.ts';
import {
  mergeMetadata,
  type BillingDetails,
  type PaymentMethod,
  type PaymentMethodChange,
  type Vault,
} from '../vault/index.ts';
import { CustomerError, noSuchCustomer } from './errors.ts';
import { customers } from './tables.ts';
import type { Customer, CustomerFields } from './types.ts';

export type CustomerListFilters = {
  readonly email?: string;
  readonly created?: TimeRange;
};

export type Page<Item> = { readonly items: Item[]; readonly hasMore: boolean };

export type CustomersDependencies = {
  readonly database: Database;
  readonly vault: Vault;
  readonly clock?: Clock;
  /** Told when a card could not be saved after a payment (the payment itself stands). */
  readonly onSaveFailure?: (error: unknown, context: Record<string, string>) => void;
};

const insertCustomer = customers.insert();
const updateFields = customers.update([
  'email',
  'name',
  'phone',
  'description',
  'address',
  'metadata',
  'defaultPaymentMethod',
]);
const eraseFields = customers.update([
  'email',
  'name',
  'phone',
  'description',
  'address',
  'metadata',
  'defaultPaymentMethod',
  'deletedAt',
]);
const clearDefault = customers.update(['defaultPaymentMethod']);

/** '' clears a field, as Stripe's SDK sends an emptied value. */
const blankToNull = <T>(value: T | '' | null | undefined): T | null | undefined =>
  value === '' ? null : value;

export class CustomersService {
  readonly #database: Database;
  readonly #vault: Vault;
  readonly #clock: Clock;
  readonly #onSaveFailure: CustomersDependencies['onSaveFailure'];

  constructor(dependencies: CustomersDependencies) {
    this.#database = dependencies.database;
    this.#vault = dependencies.vault;
    this.#clock = dependencies.clock ?? systemClock;
    this.#onSaveFailure = dependencies.onSaveFailure;
  }

  #now(merchantId: string): Date {
    return this.#clock.now(merchantId);
  }

  /** Creates a customer; `paymentMethod` is attached to it in the same transaction (Stripe's `payment_method`). */
  async create(
    merchantId: string,
    fields: CustomerFields,
    paymentMethod?: string,
    bind?: (tx: Queryable, id: string) => Promise<void>,
  ): Promise<Customer> {
    const now = this.#now(merchantId);
    const method =
      paymentMethod === undefined
        ? undefined
        : await this.#materialize(merchantId, paymentMethod, 'payment_method');
    const customer: Customer = {
      id: newSortableId('cus', now.getTime()),
      merchantId,
      email: blankToNull(fields.email) ?? null,
      name: blankToNull(fields.name) ?? null,
      phone: blankToNull(fields.phone) ?? null,
      description: blankToNull(fields.description) ?? null,
      address: fields.address ?? null,
      metadata: mergeMetadata({}, fields.metadata),
      defaultPaymentMethod: null,
      deletedAt: null,
      createdAt: now,
    };
    const wanted = blankToNull(fields.defaultPaymentMethod);
    return this.#database.transaction(async (tx) => {
      await tx.query(insertCustomer.sql, insertCustomer.parameters(customer));
      await bind?.(tx, customer.id);
      if (method !== undefined) await this.#vault.attach(tx, merchantId, method.id, customer.id);
      if (wanted === undefined || wanted === null) return customer;
      await this.#requireAttached(tx, merchantId, customer.id, wanted);
      return clearDefault.run(tx, customer.id, { defaultPaymentMethod: wanted }, now);
    });
  }

  /** The customer, or its erased stub (Stripe answers a deleted customer's retrieve). */
  async retrieve(merchantId: string, id: string): Promise<Customer> {
    const found = await this.#find(this.#database, merchantId, id, false);
    if (found === undefined) throw noSuchCustomer(id);
    return found;
  }

  async update(merchantId: string, id: string, fields: CustomerFields): Promise<Customer> {
    return this.#database.transaction(async (tx) => {
      const current = await this.#live(tx, merchantId, id, 'id');
      const wanted = blankToNull(fields.defaultPaymentMethod);
      if (wanted !== undefined && wanted !== null)
        await this.#requireAttached(tx, merchantId, id, wanted);
      const pick = <T>(given: T | '' | null | undefined, was: T | null): T | null => {
        const value = blankToNull(given);
        return value === undefined ? was : value;
      };
      return updateFields.run(
        tx,
        id,
        {
          email: pick(fields.email, current.email),
          name: pick(fields.name, current.name),
          phone: pick(fields.phone, current.phone),
          description: pick(fields.description, current.description),
          address: fields.address === undefined ? current.address : fields.address,
          metadata: mergeMetadata(current.metadata, fields.metadata),
          defaultPaymentMethod: wanted === undefined ? current.defaultPaymentMethod : wanted,
        },
        this.#now(merchantId),
      );
    });
  }

  /**
   * Erasure (GDPR), Stripe's DELETE: the customer's personal fields are blanked, its cards
   * crypto-shredded (ciphertext and the customer's data key destroyed; the cards it paid with
   * without saving them lose their ciphertext and personal fields too), and stored idempotent
   * answers that showed them redacted, all in one transaction. The payments keep the id only.
   */
  async erase(merchantId: string, id: string): Promise<Customer> {
    return this.#database.transaction(async (tx) => {
      await this.#live(tx, merchantId, id, 'id');
      const now = this.#now(merchantId);
      const used = await tx.query<{ id: string }>(
        `SELECT payment_method_id AS id FROM payment_intents
          WHERE merchant_id = $1 AND customer_id = $2 AND payment_method_id IS NOT NULL
         UNION SELECT payment_method_id FROM setup_intents
          WHERE merchant_id = $1 AND customer_id = $2 AND payment_method_id IS NOT NULL`,
        [merchantId, id],
      );
      await this.#vault.eraseCustomer(
        tx,
        merchantId,
        id,
        now,
        used.rows.map((row) => row.id),
      );
      const erased = await eraseFields.run(
        tx,
        id,
        {
          email: null,
          name: null,
          phone: null,
          description: null,
          address: null,
          metadata: {},
          defaultPaymentMethod: null,
          deletedAt: now,
        },
        now,
      );
      await redactCustomerPayments(tx, merchantId, id);
      return erased;
    });
  }

  /** One page of live customers, newest first; `email` matches exactly (case-sensitive, as Stripe's). */
  /** Stripe's customer search (src/search): live customers only, newest first. */
  async search(
    merchantId: string,
    request: SearchRequest,
  ): Promise<{
    items: Customer[];
    hasMore: boolean;
    nextPage: string | null;
    totalCount?: number;
  }> {
    const page = await searchPage(this.#database, customerSearch, merchantId, request);
    return { ...page, items: page.rows.map(customers.fromRow) };
  }

  async list(
    merchantId: string,
    filters: CustomerListFilters,
    page: PageRequest,
  ): Promise<Page<Customer>> {
    const result = await keysetPage(
      this.#database,
      {
        select: '*',
        from: 'customers',
        scope: 'merchant_id = $1 AND deleted_at IS NULL',
        scopeParameters: [merchantId],
        equals: { email: filters.email },
        key: 'id',
        keyType: 'text',
        order: 'newest_first',
        noun: 'customer',
        timeRange: { column: 'created_at', range: filters.created },
      },
      page,
    );
    return { items: result.rows.map(customers.fromRow), hasMore: result.hasMore };
  }

  // --- saved payment methods ------------------------------------------------------------------

  /**
   * Attaches a card to a live customer (Stripe's attach). A test-mode id (pm_card_visa) becomes a
   * new stored card first, as Stripe makes one. Refused when the card is attached to another
   * customer or was detached (it can never be used again).
   */
  async attach(
    merchantId: string,
    paymentMethodId: string,
    customerId: string,
  ): Promise<PaymentMethod> {
    const method = await this.#materialize(merchantId, paymentMethodId, 'id');
    return this.#database.transaction(async (tx) => {
      await this.#live(tx, merchantId, customerId, 'customer', true);
      return this.#vault.attach(tx, merchantId, method.id, customerId);
    });
  }

  /** Detaches (and so destroys) a saved card; it stops being its customer's default. */
  async detach(merchantId: string, paymentMethodId: string): Promise<PaymentMethod> {
    const method = await this.#vault.get(merchantId, paymentMethodId);
    if (method === undefined) throw noSuchPaymentMethod(paymentMethodId);
    const customerId = method.customerId;
    if (customerId === null)
      throw new CustomerError(
        'payment_method_unexpected_state',
        'The payment method you provided is not attached to a customer so detachment is impossible.',
        'id',
      );
    const now = this.#now(merchantId);
    return this.#database.transaction(async (tx) => {
      // The customer first, then the card: the order every attach takes its locks in.
      const customer = await this.#live(tx, merchantId, customerId, 'customer', true);
      const detached = await this.#vault.detach(tx, merchantId, paymentMethodId, now);
      if (customer.defaultPaymentMethod === paymentMethodId)
        await clearDefault.run(tx, customerId, { defaultPaymentMethod: null }, now);
      return detached;
    });
  }

  /** A live customer's saved cards, newest first. */
  async paymentMethods(
    merchantId: string,
    customerId: string,
    page: PageRequest,
    param = 'customer',
  ): Promise<Page<PaymentMethod>> {
    const customer = await this.#find(this.#database, merchantId, customerId, false);
    if (customer === undefined || customer.deletedAt !== null)
      throw noSuchCustomer(customerId, param);
    return this.#vault.list(merchantId, customerId, page);
  }

  /** The merchant's stored cards (Stripe's payment method list), or one customer's. */
  async listPaymentMethods(
    merchantId: string,
    customerId: string | undefined,
    page: PageRequest,
  ): Promise<Page<PaymentMethod>> {
    if (customerId === undefined) return this.#vault.list(merchantId, undefined, page);
    return this.paymentMethods(merchantId, customerId, page);
  }

  /** Stripe's payment method update: metadata and billing details. */
  async updatePaymentMethod(
    merchantId: string,
    id: string,
    change: PaymentMethodChange,
  ): Promise<PaymentMethod> {
    const updated = await this.#vault.update(merchantId, id, change);
    if (updated === undefined) throw noSuchPaymentMethod(id);
    return updated;
  }

  // --- what payments and SetupIntents ask -----------------------------------------------------

  /**
   * Before a payment or a setup uses a card: the customer (if any) must be live, and a card saved
   * to a customer may be used only with that customer.
   */
  async checkUse(
    merchantId: string,
    customerId: string | null,
    paymentMethodId: string | null,
  ): Promise<void> {
    if (customerId !== null) {
      const customer = await this.#find(this.#database, merchantId, customerId, false);
      if (customer === undefined || customer.deletedAt !== null)
        throw noSuchCustomer(customerId, 'customer');
    }
    if (paymentMethodId === null) return;
    const method = await this.#vault.get(merchantId, paymentMethodId);
    if (method === undefined) return; // the payment reports an unknown payment method itself
    if (!method.usable)
      throw new CustomerError(
        'payment_method_unexpected_state',
        'The provided PaymentMethod was detached from a Customer. It may not be used again.',
        'payment_method',
      );
    if (method.customerId !== null && method.customerId !== customerId)
      throw new CustomerError(
        'parameter_invalid',
        customerId === null
          ? 'The provided PaymentMethod is attached to a Customer: pass that customer as `customer` to use it.'
          : 'The provided PaymentMethod is attached to another Customer than the one given.',
        'payment_method',
      );
  }

  /**
   * In the transaction that writes a payment's customer or card (the intent's insert, an attempt's
   * start): the customer's row is held FOR SHARE until commit, so an erasure (FOR UPDATE on the
   * same row) waits for the payment and then finds its card, or the payment waits for the erasure
   * and is refused. Concurrent payments of one customer do not block each other.
   */
  async holdForPayment(tx: Queryable, merchantId: string, customerId: string): Promise<void> {
    const found = await tx.query<{ deleted_at: Date | null }>(
      'SELECT deleted_at FROM customers WHERE id = $1 AND merchant_id = $2 FOR SHARE',
      [customerId, merchantId],
    );
    const row = found.rows[0];
    if (row === undefined || row.deleted_at !== null) throw noSuchCustomer(customerId, 'customer');
  }

  /**
   * A payment written before the customer's erasure may still be at its PSP when the erasure
   * commits, and record its outcome afterwards from its own copy (events with the receipt email and
   * the cardholder's name): once it has, the customer's payments and stored answers are cleaned
   * again, as the erasure cleans them. One read for a customer that is not erased.
   */
  async cleanIfErased(merchantId: string, customerId: string): Promise<void> {
    const seen = await this.#find(this.#database, merchantId, customerId, false);
    if (seen === undefined || seen.deletedAt === null) return;
    await this.#database.transaction(async (tx) => {
      await this.#find(tx, merchantId, customerId, true);
      await redactCustomerPayments(tx, merchantId, customerId);
    });
  }

  /**
   * After a successful payment with setup_future_usage: the card is saved to the customer. The
   * payment stands whatever happens here; a failure is reported, not thrown.
   */
  async saveAfterPayment(
    merchantId: string,
    customerId: string,
    paymentMethodId: string,
  ): Promise<void> {
    try {
      await this.attach(merchantId, paymentMethodId, customerId);
    } catch (error) {
      this.#onSaveFailure?.(error, { merchantId, customerId, paymentMethodId });
    }
  }

  /** For SetupIntents: the stored card for an id (a test id becomes a stored card). */
  async materialize(merchantId: string, id: string, param: string): Promise<PaymentMethod> {
    return this.#materialize(merchantId, id, param);
  }

  /** For SetupIntents: attaches in the caller's transaction, the customer locked first. */
  async attachInTransaction(
    tx: Queryable,
    merchantId: string,
    paymentMethodId: string,
    customerId: string,
  ): Promise<PaymentMethod> {
    await this.#live(tx, merchantId, customerId, 'customer', true);
    return this.#vault.attach(tx, merchantId, paymentMethodId, customerId);
  }

  /** For SetupIntents: a live customer or a 404 naming `customer`. */
  async requireLive(merchantId: string, customerId: string): Promise<void> {
    const customer = await this.#find(this.#database, merchantId, customerId, false);
    if (customer === undefined || customer.deletedAt !== null)
      throw noSuchCustomer(customerId, 'customer');
  }

  /** For list filters: a customer of this merchant (erased ones too), or a 404 naming `param`. */
  async requireKnown(merchantId: string, customerId: string, param: string): Promise<void> {
    if ((await this.#find(this.#database, merchantId, customerId, false)) === undefined)
      throw noSuchCustomer(customerId, param);
  }

  // --- internals ------------------------------------------------------------------------------

  async #materialize(merchantId: string, id: string, param: string): Promise<PaymentMethod> {
    const method = await this.#vault.get(merchantId, id);
    if (method === undefined) throw noSuchPaymentMethod(id, param);
    return method.customerId === null && method.usable
      ? this.#vault.materialize(merchantId, id)
      : method;
  }

  #find(
    queryable: Queryable,
    merchantId: string,
    id: string,
    lock: boolean,
  ): Promise<Customer | undefined> {
    return customers.findOwned(queryable, merchantId, id, lock);
  }

  /** The customer, locked, if it exists and was not erased; else a 404 naming `param`. */
  async #live(
    tx: Queryable,
    merchantId: string,
    id: string,
    param: string,
    lock = true,
  ): Promise<Customer> {
    const found = await this.#find(tx, merchantId, id, lock);
    if (found === undefined || found.deletedAt !== null) throw noSuchCustomer(id, param);
    return found;
  }

  async #requireAttached(
    tx: Queryable,
    merchantId: string,
    customerId: string,
    paymentMethodId: string,
  ): Promise<void> {
    const found = await tx.query(
      'SELECT 1 FROM payment_methods WHERE id = $1 AND merchant_id = $2 AND customer_id = $3',
      [paymentMethodId, merchantId, customerId],
    );
    if (found.rows.length === 0)
      throw new CustomerError(
        'parameter_invalid',
        `The customer does not have a payment method with the ID ${paymentMethodId}. The payment method must be attached to the customer.`,
        'invoice_settings[default_payment_method]',
      );
  }
}

export function noSuchPaymentMethod(id: string, param = 'id'): CustomerError {
  return new CustomerError('resource_missing', `No such PaymentMethod: '${id}'`, param);
}

/** What erasure cleans beyond the customer and its cards: its payments and stored answers. */
async function redactCustomerPayments(
  tx: Queryable,
  merchantId: string,
  customerId: string,
): Promise<void> {
  const intents = await redactPayments(tx, merchantId, customerId);
  await redactStoredAnswers(tx, merchantId, [
    customerId,
    ...intents,
    ...(await paymentMethodsOf(tx, merchantId, customerId, intents)),
  ]);
}

/**
 * The ids of the cards the customer saved or paid with: saved ones (detached ones too), the ones
 * its intents and SetupIntents hold, and the ones its intents' events showed (a card an intent held
 * before a later confirm replaced it).
 */
async function paymentMethodsOf(
  tx: Queryable,
  merchantId: string,
  customerId: string,
  intents: readonly string[],
): Promise<string[]> {
  const found = await tx.query<{ id: string }>(
    `SELECT id FROM payment_methods WHERE merchant_id = $1 AND customer_id = $2
     UNION SELECT payment_method_id FROM payment_intents
      WHERE merchant_id = $1 AND customer_id = $2 AND payment_method_id IS NOT NULL
     UNION SELECT payment_method_id FROM setup_intents
      WHERE merchant_id = $1 AND customer_id = $2 AND payment_method_id IS NOT NULL
     UNION SELECT data -> 'object' ->> 'payment_method' FROM events
      WHERE merchant_id = $1 AND object_id = ANY($3::text[])
        AND data -> 'object' ->> 'payment_method' IS NOT NULL`,
    [merchantId, customerId, intents],
  );
  return found.rows.map((row) => row.id);
}

/**
 * Stored idempotent answers (kept 72 h for replays) that mention the customer, one of its payment
 * intents or one of its cards, whatever they show (an intent with its receipt_email or an expanded
 * customer, a card it paid with, a card error with the card's billing details): the body is
 * replaced by what a replay needs to answer honestly, the same status with the object's id and
 * object, or an error's type, code, decline code, param and message, marked `redacted`.
 */
async function redactStoredAnswers(
  tx: Queryable,
  merchantId: string,
  ids: readonly string[],
): Promise<void> {
  await tx.query(
    `UPDATE idempotency_keys
        SET response_body = CASE
          WHEN jsonb_typeof(response_body -> 'error') = 'object' THEN jsonb_build_object(
            'error', jsonb_strip_nulls(jsonb_build_object(
              'type', response_body -> 'error' -> 'type',
              'code', response_body -> 'error' -> 'code',
              'decline_code', response_body -> 'error' -> 'decline_code',
              'param', response_body -> 'error' -> 'param',
              'message', response_body -> 'error' -> 'message',
              'charge', response_body -> 'error' -> 'charge',
              'request_id', response_body -> 'error' -> 'request_id')),
            'redacted', true)
          ELSE jsonb_strip_nulls(jsonb_build_object(
            'id', response_body -> 'id',
            'object', response_body -> 'object',
            'deleted', response_body -> 'deleted',
            'redacted', true))
        END
      WHERE merchant_id = $1 AND response_body IS NOT NULL
        AND NOT coalesce(response_body @> '{"redacted": true}'::jsonb, false)
        AND EXISTS (SELECT 1 FROM unnest($2::text[]) AS needle
                     WHERE strpos(response_body::text, needle) > 0)`,
    [merchantId, ids],
  );
}

/**
 * The customer's payments keep its id only. Their `receipt_email` (Stripe's parameter, the
 * customer's address) is cleared, on the intents and in every event of those intents (an event
 * keeps the address even when a later update cleared it); the charge events of those payments
 * lose the cardholder's name and the card's fingerprint (a charge is a view of the attempt, but an
 * event keeps the charge as it was when written). Answers the ids of the customer's intents.
 */
async function redactPayments(
  tx: Queryable,
  merchantId: string,
  customerId: string,
): Promise<string[]> {
  const intents = await tx.query<{ id: string }>(
    `UPDATE payment_intents SET receipt_email = NULL, radar_options = NULL
      WHERE merchant_id = $1 AND customer_id = $2 RETURNING id`,
    [merchantId, customerId],
  );
  const ids = intents.rows.map((row) => row.id);
  if (ids.length === 0) return ids;
  await tx.query(
    `UPDATE events SET data = jsonb_set(data::jsonb, '{object,receipt_email}', 'null'::jsonb)::json
      WHERE merchant_id = $1 AND object_id = ANY($2::text[])
        AND data -> 'object' ->> 'receipt_email' IS NOT NULL`,
    [merchantId, ids],
  );
  const attempts = await tx.query<{ id: string }>(
    `SELECT a.id FROM payment_attempts a JOIN payment_intents i ON i.id = a.payment_intent_id
      WHERE i.merchant_id = $1 AND i.customer_id = $2`,
    [merchantId, customerId],
  );
  if (attempts.rows.length === 0) return ids;
  await tx.query(
    `UPDATE events SET data = jsonb_set(
        jsonb_set(data::jsonb, '{object,billing_details,name}', 'null'::jsonb),
        '{object,payment_method_details,card,fingerprint}', 'null'::jsonb)::json
      WHERE merchant_id = $1 AND object_id = ANY($2::text[])
        AND data -> 'object' ->> 'object' = 'charge'`,
    [merchantId, attempts.rows.map((row) => chargeIdOf(row.id))],
  );
  await redactRiskRecords(
    tx,
    merchantId,
    ids,
    attempts.rows.map((row) => row.id),
  );
  return ids;
}

/** A risk record's rule matches without the values they saw (an email, an IP, a fingerprint). */
const matchesWithoutValues = (matches: string) =>
  `COALESCE((SELECT jsonb_agg(m || '{"seen":{}}'::jsonb) FROM jsonb_array_elements(${matches}) m), '[]'::jsonb)`;

/**
 * What risk kept of the customer's payments: the entities velocity counted them under, the card's
 * fingerprint and the values rules saw (on the attempts and in their charge events), and the IP
 * address on their reviews (and in the reviews' events).
 */
async function redactRiskRecords(
  tx: Queryable,
  merchantId: string,
  intentIds: readonly string[],
  attemptIds: readonly string[],
): Promise<void> {
  await tx.query(
    `UPDATE payment_attempts SET risk = risk || jsonb_build_object(
        'entities', '{}'::jsonb, 'cardFingerprint', 'null'::jsonb,
        'rule', CASE WHEN jsonb_typeof(risk -> 'rule') = 'object'
                     THEN (risk -> 'rule') || '{"seen":{}}'::jsonb ELSE 'null'::jsonb END,
        'matched', ${matchesWithoutValues("risk -> 'matched'")})
      WHERE id = ANY($1::text[]) AND risk IS NOT NULL`,
    [attemptIds],
  );
  await tx.query(
    `UPDATE events SET data = jsonb_set(data::jsonb, '{object,outcome,rules}',
        ${matchesWithoutValues("data::jsonb -> 'object' -> 'outcome' -> 'rules'")})::json
      WHERE merchant_id = $1 AND object_id = ANY($2::text[])
        AND jsonb_typeof(data::jsonb -> 'object' -> 'outcome' -> 'rules') = 'array'`,
    [merchantId, attemptIds.map(chargeIdOf)],
  );
  const reviews = await tx.query<{ id: string }>(
    'UPDATE reviews SET ip_address = NULL WHERE payment_intent_id = ANY($1::text[]) RETURNING id',
    [intentIds],
  );
  if (reviews.rows.length === 0) return;
  await tx.query(
    `UPDATE events SET data = jsonb_set(data::jsonb, '{object,ip_address}', 'null'::jsonb)::json
      WHERE merchant_id = $1 AND object_id = ANY($2::text[])`,
    [merchantId, reviews.rows.map((row) => row.id)],
  );
}

export type { BillingDetails };
